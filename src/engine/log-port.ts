/**
 * Worker threads log through the host's logger: each worker posts its log records on a
 * MessagePort it sends up with its control hello, and the main thread hands them to the
 * executor's logger (the one the host gave, or none). A worker never writes to stdout itself.
 *
 * Records are redacted in the worker before they cross (secrets never leave the thread in
 * clear) and reduced to plain JSON data, so a record that cannot be cloned is not lost: its
 * unclonable parts are dropped.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import { redact, redactValue } from '../redact.ts';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One log record as it crosses from a worker to the main thread. */
export interface LogRecord {
  type: 'weaviate-executor/log';
  level: LogLevel;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

const RANK: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };

function plain(obj: object): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(redactValue(obj))) as Record<string, unknown>;
  } catch {
    return { unserializable: true };
  }
}

/** Worker side: a Logger that posts records at or above `level` (pino level names) to `port`. */
export function portLogger(port: MessagePort, level: string, bindings: Record<string, unknown> = {}): Logger {
  const min = RANK[level] ?? RANK['warn']!;
  const post = (l: LogLevel) => (obj: object, msg?: string) => {
    if ((RANK[l] ?? 0) < min) return;
    const record: LogRecord = { type: 'weaviate-executor/log', level: l, obj: { ...bindings, ...plain(obj) }, msg: msg === undefined ? undefined : redact(msg) };
    port.postMessage(record);
  };
  return { debug: post('debug'), info: post('info'), warn: post('warn'), error: post('error') };
}

/** Main side: hand every record arriving on `port` to `logger`. The port does not keep the process alive. */
export function forwardLogs(port: MessagePort, logger: Logger): void {
  port.on('message', (record: LogRecord) => {
    if (record?.type !== 'weaviate-executor/log' || typeof logger[record.level] !== 'function') return;
    logger[record.level](record.obj, record.msg);
  });
  port.unref();
}
