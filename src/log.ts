/**
 * Logging: a pino-compatible interface (`log.warn(obj, msg)`), pino by default. Every line is
 * redacted (registered secrets, bearer tokens, secret-named keys) before it is written.
 */
import pino from 'pino';
import { redact, redactValue } from './redact.ts';

export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export function createLogger(options: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const logger = pino(
    {
      name: options.name ?? 'weaviate-executor',
      level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
      formatters: { log: (obj) => redactValue(obj) },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? redact(a) : a)) as typeof args;
          return method.apply(this, clean);
        },
      },
    },
    options.destination,
  );
  return logger;
}

/** A logger that drops everything (tests, or callers that log elsewhere). */
export const silentLogger: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

/** A logger that keeps lines in memory; tests assert on what was logged. */
export class MemoryLogger implements Logger {
  readonly lines: { level: string; msg: string; obj: object }[] = [];
  #push(level: string, obj: object, msg?: string) {
    this.lines.push({ level, msg: redact(msg ?? ''), obj: redactValue(obj) });
  }
  debug(obj: object, msg?: string) { this.#push('debug', obj, msg); }
  info(obj: object, msg?: string) { this.#push('info', obj, msg); }
  warn(obj: object, msg?: string) { this.#push('warn', obj, msg); }
  error(obj: object, msg?: string) { this.#push('error', obj, msg); }
  messages(level?: string): string[] {
    return this.lines.filter((l) => !level || l.level === level).map((l) => l.msg);
  }
}
