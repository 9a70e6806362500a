/**
 * The one failure classifier: why did a call to Weaviate fail, and whose doing was it?
 *
 * - `'cancelled'`: WE stopped it: the caller's abort signal or deadline, or weaviate-client's
 *   own per-call time-out (its AbortController is on our side of the socket). Says nothing
 *   about the connection: never a reason to distrust it, never a reason to retry.
 * - `'transport'`: the connection failed under the call: socket lost, UNAVAILABLE, INTERNAL
 *   (grpc-js reports an RST_STREAM or an HTTP/2 protocol error so), CANCELLED that we did not
 *   ask for (a GOAWAY or a reset stream), a call on a channel that is shut down, a Node/undici
 *   socket error code (ECONNRESET, EPIPE, UND_ERR_SOCKET, ...). The request may not have reached
 *   Weaviate, or its answer was lost: the connection is checked before it is lent again, and an
 *   idempotent request may run again elsewhere.
 * - `'server'`: Weaviate answered with an application status (INVALID_ARGUMENT, NOT_FOUND,
 *   UNKNOWN for a handler's error, PERMISSION_DENIED, RESOURCE_EXHAUSTED, ...): the connection
 *   is fine and the same request would fail again.
 * - `'other'`: anything else (a bug in a task, a validation error of ours).
 *
 * Never by message text. weaviate-client turns nice-grpc's ClientError into
 * `WeaviateQueryError(err.message)` and loses the status code, so the code is caught before
 * that happens: src/weaviate/client.ts builds each pooled client's gRPC functions on a nice-grpc
 * client factory with `recordFailures` (below) as middleware. The middleware sees every call's
 * real outcome (ClientError.code, or an abort of the call's own signal) and records it in the
 * `FailureLog` of the scope the call was made in (an AsyncLocalStorage scope that the pool's
 * `withConnection` opens per lease, so concurrent leases on one multiplexed connection keep
 * separate logs). When the lease's function throws, `withConnection` attaches that log to the
 * error it rethrows, so whoever catches it later can still classify it.
 *
 * From the engine's task runner (after `pool.withConnection(...)` rejected):
 *
 *     const kind = classifyFailure(error, { signal: controller.signal });
 *     if (kind === 'transport' && msg.idempotent) retry(); // 'cancelled': our deadline/abort
 *
 * `signal` is the task's own AbortSignal (deadline + caller abort): once it fired, an abort-like
 * error is ours ('cancelled'). Pass `log` only when you ran the calls inside
 * `withFailureLog(log, ...)` yourself; errors from `withConnection` carry theirs.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ClientError, Status, type CallOptions, type ClientMiddlewareCall } from 'nice-grpc';

export type FailureKind = 'cancelled' | 'transport' | 'server' | 'other';

/** One failed call, as the middleware saw it before weaviate-client rewrapped the error. */
export interface CallFailure {
  kind: FailureKind;
  /** The gRPC status code, when the call ended with one. */
  code: number | undefined;
}

/** The failures of the calls made in one scope (one lease). */
export class FailureLog {
  /** The most recent failure (the one a rethrown error most likely stands for). */
  last: CallFailure | undefined;
  readonly counts: Record<FailureKind, number> = { cancelled: 0, transport: 0, server: 0, other: 0 };

  record(failure: CallFailure): void {
    this.last = failure;
    this.counts[failure.kind]++;
  }

  /** Did any call in this scope lose its connection? (The connection is then checked before reuse.) */
  get sawTransportFailure(): boolean {
    return this.counts.transport > 0;
  }
}

const scope = new AsyncLocalStorage<FailureLog>();
/** Errors whose classification is known exactly (the middleware saw them, or a scope's log travels with them). */
const seen = new WeakMap<object, CallFailure>();
const logs = new WeakMap<object, FailureLog>();

/** Run `fn` so that every gRPC call it makes (also in later async steps) records its failure into `log`. */
export function withFailureLog<T>(log: FailureLog, fn: () => T): T {
  return scope.run(log, fn);
}

/** Let the log of the scope an error escaped from travel with it (no-op for primitives). */
export function attachFailureLog(error: unknown, log: FailureLog): void {
  if (isObject(error) && log.last !== undefined && !logs.has(error)) logs.set(error, log);
}

/** What a gRPC status code says, when nobody on our side cancelled the call. */
export function kindOfStatus(code: number): FailureKind {
  switch (code) {
    case Status.UNAVAILABLE: // socket lost, connection refused, GOAWAY before the call started
    case Status.INTERNAL: // grpc-js: RST_STREAM with an error code, HTTP/2 protocol error
    case Status.CANCELLED: // not ours (that case is handled before): a reset or GOAWAY cancelled the stream
      return 'transport';
    case Status.OK:
      return 'other';
    default:
      return 'server';
  }
}

/**
 * Classify the raw outcome of one call (what nice-grpc threw), given the signal the call ran
 * with. Used by the middleware; pure.
 */
export function classifyCallError(error: unknown, callSignal: AbortSignal | undefined): CallFailure {
  if (error instanceof ClientError) {
    if (error.code === Status.CANCELLED && callSignal?.aborted) return { kind: 'cancelled', code: error.code };
    return { kind: kindOfStatus(error.code), code: error.code };
  }
  if (isAbortLike(error) || callSignal?.aborted) return { kind: 'cancelled', code: undefined };
  // Not a status and not an abort: the call could not be made at all (grpc-js throws a plain
  // Error for a call on a channel that is shut down).
  return { kind: 'transport', code: undefined };
}

/**
 * nice-grpc client middleware: records each failed call's classification in the current
 * FailureLog (if any) and on the error object itself, then rethrows it unchanged.
 */
export async function* recordFailures<Req, Res>(call: ClientMiddlewareCall<Req, Res>, options: CallOptions): AsyncGenerator<Res, Res | void, undefined> {
  try {
    return yield* call.next(call.request, options);
  } catch (error) {
    const failure = classifyCallError(error, options.signal);
    if (isObject(error)) seen.set(error, failure);
    scope.getStore()?.record(failure);
    throw error;
  }
}

/**
 * Record the classification of an error made by a transport that does not go through the
 * nice-grpc middleware (the lean path, src/wire/call.ts, which calls grpc-js directly): the
 * same facts (`classifyCallError` of its status and the call's own signal) reach
 * `classifyFailure` and the current scope's FailureLog as for a weaviate-client call.
 */
export function noteCallFailure(error: object, failure: CallFailure): void {
  seen.set(error, failure);
  scope.getStore()?.record(failure);
}

/** The classification of a call that ended with gRPC status `code`, given the signal it ran with. */
export function classifyStatus(code: number, callSignal: AbortSignal | undefined): CallFailure {
  if (code === Status.CANCELLED && callSignal?.aborted) return { kind: 'cancelled', code };
  return { kind: kindOfStatus(code), code };
}

/**
 * Why did this fail: `'cancelled'` (our deadline or abort), `'transport'` (the connection),
 * `'server'` (Weaviate answered with an error), `'other'`. See the top of this file.
 *
 * @param error what was thrown (by a lease's function, or out of `pool.withConnection`)
 * @param context.signal the caller's own AbortSignal (deadline + abort); once it fired, an
 *   abort-like error is ours
 * @param context.log the FailureLog of the scope the calls ran in, if not attached to the error
 */
export function classifyFailure(error: unknown, context: { signal?: AbortSignal | undefined; log?: FailureLog | undefined } = {}): FailureKind {
  const { signal } = context;
  if (signal?.aborted && (error === signal.reason || isAbortLike(error))) return 'cancelled';
  if (isAbortLike(error)) return 'cancelled';
  if (error instanceof ClientError) return classifyCallError(error, signal).kind;
  if (isObject(error)) {
    const exact = seen.get(error);
    if (exact) return exact.kind;
  }
  const log = context.log ?? (isObject(error) ? logs.get(error) : undefined);
  if (log?.last) return log.last.kind;
  if (hasTransportCode(error)) return 'transport';
  if (signal?.aborted) return 'cancelled';
  return 'other';
}

/** Aborts only ever come from our side: an AbortSignal's reason, nice-grpc's AbortError, our own typed errors. */
function isAbortLike(error: unknown): boolean {
  if (!isObject(error)) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  // Our typed errors answer by code (WEX_POOL_TIMEOUT is named TimeoutError but is no abort).
  if (typeof code === 'string' && code.startsWith('WEX_')) return code === 'WEX_ABORTED' || code === 'WEX_DEADLINE_EXCEEDED';
  return name === 'AbortError' || name === 'TimeoutError' || code === 'ABORT_ERR';
}

/** Socket-level error codes of Node and undici (on the error or its causes). */
const TRANSPORT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTCONN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_INVALID_SESSION',
]);

function hasTransportCode(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isObject(current); depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && TRANSPORT_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function isObject(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}
