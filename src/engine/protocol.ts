/**
 * Everything that crosses the boundary between the main thread and a worker, in one place.
 *
 * 1. `WorkerData` (Piscina's workerData): the resolved pool configuration and the task module.
 * 2. `ControlHello`, posted by each worker on its parentPort once at start: a MessagePort on
 *    which the worker exposes `ControlApi` with comlink (Piscina emits it as a pool 'message').
 * 3. `TaskMessage` -> `TaskReply`, through Piscina's run(). Replies carry errors as values
 *    (`SerializedError`, with their code), so a worker's typed error arrives typed; a rejected
 *    run() means the worker itself died.
 */
import type { MessagePort } from 'node:worker_threads';
import type { SerializedError } from '../errors.ts';
import type { PoolConfig } from '../pool/config.ts';
import type { ConnectionInfo, PoolStats } from '../pool/types.ts';
import type { QuerySpec } from '../query/spec.ts';
import type { VectorFormat } from '../wire/options.ts';

export const CONTROL_HELLO = 'weaviate-executor/control' as const;

export interface WorkerData {
  /** The engine-wide pool configuration; each worker's share of min/max comes with init(). */
  pool: PoolConfig;
  /** URL of the user's task module (file: URL), or undefined. */
  taskModule: string | undefined;
  logLevel: string;
  /** Nice increment for the worker thread (Linux; 0 = unchanged). */
  nice: number;
  /**
   * The API key's value: `pool.weaviate.apiKey` is a Secret (src/secret.ts), which a structured
   * clone cannot carry; the worker wraps this in a Secret again (workers/worker.ts).
   */
  apiKey: string | undefined;
  /** The same for the client private key of mutual TLS (`pool.weaviate.tls.key`). */
  tlsKey: string | undefined;
}

export interface ControlHello {
  type: typeof CONTROL_HELLO;
  threadId: number;
  port: MessagePort;
  /** The worker's log records (src/engine/log-port.ts), forwarded to the executor's logger. */
  logPort?: MessagePort;
}

export interface WorkerShare {
  index: number;
  min: number;
  max: number;
}

/** `idempotent`: safe to run again, so a transport failure may be retried within the deadline. */
/**
 * `replyAs: 'bytes'` (read specs on the lean path, engine option `replyHandoff`): the worker
 * answers with the SearchReply bytes (`TaskReply.bytes`, transferred) instead of the decoded
 * result, and the main thread decodes them (src/engine/reply-handoff.ts).
 */
export type TaskMessage =
  | { kind: 'query'; id: number; spec: QuerySpec; deadlineAt: number; lane: string; idempotent: boolean; replyAs?: 'bytes' }
  | { kind: 'task'; id: number; name: string; args: unknown; deadlineAt: number; lane: string; idempotent: boolean };

export interface TaskTimings {
  /** Waiting for a connection of the worker's sub-pool, microseconds. */
  acquireUs: number;
  /** Running the query or task with the connection, microseconds. */
  executeUs: number;
}

export type TaskReply =
  | { ok: true; value: unknown; t: TaskTimings; threadId: number; bytes?: undefined }
  /** A lean-path read asked with `replyAs: 'bytes'`: the reply still to decode, and how its vectors come out. */
  | { ok: true; value: undefined; bytes: Uint8Array; vectors: VectorFormat; t: TaskTimings; threadId: number }
  | { ok: false; error: SerializedError; t: TaskTimings; threadId: number };

export interface WorkerStats {
  threadId: number;
  index: number;
  ready: boolean;
  pool: PoolStats | undefined;
  inFlight: number;
  /** Promises tasks left rejected with no handler (logged; the worker lives on). */
  unhandledRejections?: number;
  /** Work running past its deadline or its caller's abort (its lease is still taken until it ends). */
  overdue: number;
  completed: number;
  failed: number;
  /** Encoded HDR histograms (compressed base64, microseconds), cumulative since the worker started. */
  acquireWait: string;
  execution: string;
  /** Re-runs after transport failures (idempotent requests, within their deadline and the retry budget). */
  transportRetries: number;
  /** Transport failures not retried because the retry budget was spent. */
  retriesRefused: number;
  /** Event-loop delay of the worker thread (perf_hooks monitorEventLoopDelay), microseconds. */
  eventLoopDelayP99Us: number;
  eventLoopDelayMaxUs: number;
}

export interface ControlApi {
  /** Set this worker's share of the engine's connections and open its sub-pool (warm-up). */
  init(share: WorkerShare): Promise<void>;
  stats(): Promise<WorkerStats>;
  connections(): Promise<ConnectionInfo[]>;
  resize(share: WorkerShare): Promise<void>;
  checkNow(): Promise<{ checked: number; failed: number }>;
  /** Abort a task of this worker if it runs here (broadcast: workers without it ignore it). */
  cancel(taskId: number, reason: string): Promise<boolean>;
  /** Close the sub-pool (waits for leases up to timeoutMs). */
  drain(timeoutMs: number): Promise<void>;
}

/**
 * Deadlines cross threads as epoch milliseconds with sub-millisecond precision: each thread
 * has its own `performance.timeOrigin`, so a raw `performance.now()` means nothing elsewhere.
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
