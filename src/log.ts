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

/** Pino at `level`, written to stderr: what `logLevel` gives a host that passes no logger of its own. */
export function stderrLogger(level: string, name = 'weaviate-executor'): Logger {
  return createLogger({ level, name, destination: pino.destination({ fd: 2, sync: true }) });
}

/**
 * The logger of an executor or pool from its options: the host's own (pino or anything with
 * debug/info/warn/error(obj, msg)), else pino on stderr at `logLevel`, else nothing. A library
 * writes nothing unless the host asks: stdout may be the host's own output (a CLI's JSON, a
 * protocol), and a host that wants our lines in its log pipeline passes its logger.
 */
export function resolveLogger(options: { logger?: Logger | undefined; logLevel?: string | undefined }): Logger {
  if (options.logger) return options.logger;
  if (options.logLevel && options.logLevel !== 'silent') return stderrLogger(options.logLevel);
  return silentLogger;
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
