/**
 * Every error the engine throws, in one place. Match on `error.code`, never on the message:
 * codes are stable, messages are for people. `isExecutorError(e)` recognises our errors also
 * after they crossed a thread (the brand is a registered symbol, which survives where
 * `instanceof` would not), and `fromSerialized` rebuilds the right class from a worker's reply.
 *
 * docs/errors.md lists every code; test/unit/errors.test.ts keeps the two in step.
 */
import { redact } from './redact.ts';

const BRAND = Symbol.for('weaviate-executor.error');

export type ErrorDetails = Record<string, unknown>;

export interface SerializedError {
  name: string;
  code: string;
  message: string;
  details: ErrorDetails;
  stack?: string | undefined;
}

export class WeaviateExecutorError extends Error {
  static readonly code: string = 'WEX_ERROR';
  /**
   * Errors raised by the thousand under overload (a full lane, a shed request) skip the stack
   * trace: it always points at the same place, and capturing it costs more than the rejection.
   */
  static readonly captureStack: boolean = true;
  readonly code: string;
  /** Plain, serialisable facts about the failure (counts, the option at fault, ...). */
  readonly details: ErrorDetails;

  constructor(message: string, details: ErrorDetails = {}, options?: { cause?: unknown }) {
    const cls = new.target as typeof WeaviateExecutorError;
    const limit = Error.stackTraceLimit;
    if (!cls.captureStack) Error.stackTraceLimit = 0;
    // Secrets registered with redact() never reach a message, whatever built it.
    super(redact(message), options);
    Error.stackTraceLimit = limit;
    this.code = cls.code;
    this.name = new.target.name;
    this.details = details;
    Object.defineProperty(this, BRAND, { value: true });
  }

  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** A configuration value (option or environment variable) is wrong. Names it, its value and what is allowed. */
export class ConfigError extends WeaviateExecutorError {
  static override readonly code = 'WEX_CONFIG_INVALID';
}

/**
 * The note's `TimeoutError: Failed to get connection within N seconds`, with the pool's counts
 * (HikariCP style) so the reader can tell exhaustion from an outage.
 */
export class TimeoutError extends WeaviateExecutorError {
  static override readonly code = 'WEX_POOL_TIMEOUT';
}

/** The pool (or the engine's sub-pool) was closed; no new leases are handed out. */
export class PoolClosedError extends WeaviateExecutorError {
  static override readonly code = 'WEX_POOL_CLOSED';
}

/** Too many callers are already waiting for a connection (`maxWaiters`). */
export class WaitQueueFullError extends WeaviateExecutorError {
  static override readonly code = 'WEX_POOL_WAIT_QUEUE_FULL';
}

/** Weaviate could not be reached within the connect bound (warm-up, or a fallback connection). */
export class ConnectError extends WeaviateExecutorError {
  static override readonly code: string = 'WEX_CONNECT_FAILED';
}

/**
 * TLS: Weaviate's certificate is not signed by a CA we trust (give its CA with `weaviate.tls.ca`
 * or `caFile`). A ConnectError, so code that catches those still does.
 */
export class TlsUntrustedError extends ConnectError {
  static override readonly code = 'WEX_TLS_UNTRUSTED';
}

/** TLS: Weaviate's certificate does not name the host connected to (see `weaviate.tls.servername`). */
export class TlsHostnameError extends ConnectError {
  static override readonly code = 'WEX_TLS_HOSTNAME_MISMATCH';
}

/** Mutual TLS: Weaviate refused our client certificate (none given, or not signed by the CA it trusts). */
export class TlsClientCertError extends ConnectError {
  static override readonly code = 'WEX_TLS_CLIENT_CERT_REJECTED';
}

/**
 * TLS on one side only: plain text sent to a TLS port (`details.spoke: 'plain'`), or TLS to a
 * plain-text port (`'tls'`).
 */
export class TlsProtocolError extends ConnectError {
  static override readonly code = 'WEX_TLS_PROTOCOL_MISMATCH';
}

/**
 * Several nodes: no node can take the request now (every node unreachable, or each one tried
 * failed to connect within the caller's bound). `details.nodes` has each node's state.
 */
export class NoNodeAvailableError extends WeaviateExecutorError {
  static override readonly code = 'WEX_NO_NODE_AVAILABLE';
}

/** A lease was used after it went back to the pool. */
export class ConnectionReleasedError extends WeaviateExecutorError {
  static override readonly code = 'WEX_CONNECTION_RELEASED';
}

/** The caller's AbortSignal fired before the work finished. `details.reason` says why if known. */
export class AbortError extends WeaviateExecutorError {
  static override readonly code = 'WEX_ABORTED';
}

/** A query spec or task argument is malformed. `details.field` is the JSON path at fault. */
export class ValidationError extends WeaviateExecutorError {
  static override readonly code = 'WEX_VALIDATION';
  get field(): string {
    return String(this.details['field'] ?? '');
  }
}

/** A lane's queue is full: rejected at once, nothing was queued. */
export class QueueFullError extends WeaviateExecutorError {
  static override readonly code = 'WEX_QUEUE_FULL';
  static override readonly captureStack = false;
}

/** The work's deadline passed: while queued (shed before it reached a worker) or while running. */
export class DeadlineExceededError extends WeaviateExecutorError {
  static override readonly code = 'WEX_DEADLINE_EXCEEDED';
  static override readonly captureStack = false;
}

/** The worker thread running the task died before answering. */
export class WorkerCrashedError extends WeaviateExecutorError {
  static override readonly code = 'WEX_WORKER_CRASHED';
}

/** The engine is closing or closed: queued work is rejected, new work is refused. */
export class ShutdownError extends WeaviateExecutorError {
  static override readonly code = 'WEX_SHUTDOWN';
}

/** Weaviate answered with an error (or the transport failed). `details.grpcCode` when known. */
export class QueryError extends WeaviateExecutorError {
  static override readonly code = 'WEX_QUERY_FAILED';
}

/** `run(name)` named a function the task module does not export. */
export class UnknownTaskError extends WeaviateExecutorError {
  static override readonly code = 'WEX_UNKNOWN_TASK';
}

/** A control call to a worker (stats, resize, drain...) did not answer within its bound. */
export class ControlTimeoutError extends WeaviateExecutorError {
  static override readonly code = 'WEX_CONTROL_TIMEOUT';
}

/** No Weaviate server binary, and none could be built. The message lists the ways out. */
export class WeaviateNotFoundError extends WeaviateExecutorError {
  static override readonly code = 'WEX_WEAVIATE_NOT_FOUND';
}

/** `go install` of the Weaviate server failed. `details.logTail` has the end of its output. */
export class WeaviateBuildError extends WeaviateExecutorError {
  static override readonly code = 'WEX_WEAVIATE_BUILD_FAILED';
}

/** A Weaviate node did not start or did not become ready in time. `details.logTail` shows why. */
export class WeaviateStartError extends WeaviateExecutorError {
  static override readonly code = 'WEX_WEAVIATE_START_FAILED';
}

/** A task threw something that is not one of ours (user task modules). Keeps its name and message. */
export class TaskError extends WeaviateExecutorError {
  static override readonly code = 'WEX_TASK_FAILED';
}

/**
 * A task returned a value that cannot cross a thread (structured clone: a function, a class
 * instance holding sockets such as a weaviate-client object). Only that task fails; its worker
 * and the work beside it carry on. `details.task` names it, `details.reason` says what failed.
 */
export class TaskResultError extends WeaviateExecutorError {
  static override readonly code = 'WEX_TASK_RESULT_UNCLONEABLE';
}

/** Every error class, keyed by code. */
export const ERROR_CLASSES = Object.freeze(
  Object.fromEntries(
    [
      ConfigError,
      TimeoutError,
      PoolClosedError,
      WaitQueueFullError,
      ConnectError,
      TlsUntrustedError,
      TlsHostnameError,
      TlsProtocolError,
      TlsClientCertError,
      NoNodeAvailableError,
      ConnectionReleasedError,
      AbortError,
      ValidationError,
      QueueFullError,
      DeadlineExceededError,
      WorkerCrashedError,
      ShutdownError,
      QueryError,
      UnknownTaskError,
      ControlTimeoutError,
      WeaviateNotFoundError,
      WeaviateBuildError,
      WeaviateStartError,
      TaskError,
      TaskResultError,
    ].map((cls) => [cls.code, cls]),
  ) as Record<string, typeof WeaviateExecutorError>,
);

export function isExecutorError(error: unknown): error is WeaviateExecutorError {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
}

/** Turn anything thrown into a plain object that survives structured clone with its code. */
export function serializeError(error: unknown): SerializedError {
  if (isExecutorError(error)) return { ...error.toJSON(), stack: error.stack };
  if (error instanceof Error) {
    return {
      name: error.name,
      code: TaskError.code,
      message: redact(error.message),
      details: { originalName: error.name },
      stack: error.stack,
    };
  }
  return { name: 'Error', code: TaskError.code, message: redact(String(error)), details: {} };
}

/** Rebuild the error class a worker threw (by code), keeping message, details and the worker's stack. */
export function fromSerialized(serialized: SerializedError): WeaviateExecutorError {
  const Cls = ERROR_CLASSES[serialized.code] ?? TaskError;
  const error = new Cls(serialized.message, serialized.details);
  if (serialized.stack) error.stack = serialized.stack;
  return error;
}
