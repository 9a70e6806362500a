/**
 * Runs one TaskMessage with a connection of a sub-pool: the deadline becomes an AbortSignal
 * that bounds the wait for a connection and is handed to the query or task (so a query that
 * cannot finish in time stops consuming its connection), timings go into HDR histograms, and
 * every outcome becomes a TaskReply with a typed, serialised error. Used inside each worker
 * thread, and on the main thread when the engine runs without workers (inline / legacy mode).
 *
 * The work is never raced against its deadline: the lease (and so the scheduler's slot, which
 * is freed only by this reply) stays taken until the work really ends. Work that outlives its
 * deadline (a task that ignores `ctx.signal`, an insert that cannot be cancelled) counts as
 * `overdue` meanwhile, and its reply is the deadline error; its caller was answered at the
 * deadline by the main thread's scheduler. So in-flight work per connection never exceeds
 * maxStreamsPerConnection, also when the server is too slow to meet deadlines.
 */
import type { Histogram } from 'hdr-histogram-js';
import type { WeaviateClient } from 'weaviate-client';
import { AbortError, DeadlineExceededError, QueryError, UnknownTaskError, isExecutorError, serializeError } from '../errors.ts';
import type { ConnectionSource } from '../pool/types.ts';
import { executeSpec } from '../query/execute.ts';
import { isReadSpec } from '../query/spec.ts';
import { leanPathOf } from '../wire/lean-path.ts';
import type { VectorFormat } from '../wire/options.ts';
import type { ReadSpec } from '../wire/request.ts';
import { newHistogram, recordMs } from '../stats/histogram.ts';
import { epochNow, type TaskMessage, type TaskReply } from './protocol.ts';
import { RetryBudget } from './retry-budget.ts';
import { withinLeaseScope } from '../lease-scope.ts';
import { raceAbort } from '../abort.ts';
import { classifyFailure } from '../weaviate/failure.ts';
import { isHedged, threadHedger, type HedgeScope } from '../cluster/hedge.ts';

/** What a task function of the user's module receives next to the leased client and its args. */
export interface TaskContext {
  /** Fires at the deadline or when the caller aborts; pass it on to long operations. */
  signal: AbortSignal;
  /** Absolute deadline, epoch milliseconds. */
  deadlineAt: number;
  lane: string;
  threadId: number;
}

export type TaskFunction = (client: WeaviateClient, args: unknown, ctx: TaskContext) => unknown;
export type TaskModule = Record<string, unknown>;

/** Below this much time left, a retry cannot finish: fail at once instead. */
const RETRY_MIN_LEFT_MS = 5;
const RETRY_BASE_MS = 20;
/** How much later than the deadline a deadline-bounded wait for a connection times out by itself. */
const DEADLINE_GRACE_MS = 5;

export class TaskRunner {
  readonly budget = new RetryBudget();
  readonly acquireWait: Histogram = newHistogram();
  readonly execution: Histogram = newHistogram();
  inFlight = 0;
  /** Work running past its deadline (or its caller's abort): its lease is still taken. */
  overdue = 0;
  completed = 0;
  failed = 0;
  readonly #running = new Map<number, AbortController>();
  readonly #pool: () => Promise<ConnectionSource<WeaviateClient>>;
  readonly #tasks: () => Promise<TaskModule | undefined>;
  readonly #threadId: number;

  constructor(pool: () => Promise<ConnectionSource<WeaviateClient>>, tasks: () => Promise<TaskModule | undefined>, threadId: number) {
    this.#pool = pool;
    this.#tasks = tasks;
    this.#threadId = threadId;
  }

  /** Abort a running task (the caller gave up). False when it does not run here. */
  cancel(taskId: number, reason: string): boolean {
    const controller = this.#running.get(taskId);
    if (!controller) return false;
    controller.abort(new AbortError(`Aborted by the caller while running: ${reason}`, { reason, phase: 'running' }));
    return true;
  }

  async run(msg: TaskMessage): Promise<TaskReply> {
    this.inFlight++;
    const controller = new AbortController();
    this.#running.set(msg.id, controller);
    let overdue = false;
    const onLate = () => {
      overdue = true;
      this.overdue++;
    };
    controller.signal.addEventListener('abort', onLate, { once: true });
    const remaining = msg.deadlineAt - epochNow();
    const timer = setTimeout(
      () => controller.abort(new DeadlineExceededError(`Deadline passed while running on a worker (lane \`${msg.lane}\`)`, { lane: msg.lane, phase: 'running' })),
      Math.max(0, remaining),
    );
    const t = { acquireUs: 0, executeUs: 0 };
    try {
      const pool = await raceAbort(this.#pool(), controller.signal);
      for (let attempt = 1; ; attempt++) {
        try {
          // Hedged reads (opt-in per lane, several nodes only): src/cluster/hedge.ts.
          const value = await (isHedged(msg, pool)
            ? threadHedger.run(msg.lane, pool.config.hedge, controller.signal, (signal) => this.#attempt(msg, pool, signal, t), hedgeAdmission(pool))
            : this.#attempt(msg, pool, controller.signal, t));
          this.budget.onSuccess();
          this.completed++;
          if (value instanceof RawReply) return { ok: true, value: undefined, bytes: value.bytes, vectors: value.vectors, t, threadId: this.#threadId };
          return { ok: true, value, t, threadId: this.#threadId };
        } catch (error) {
          // An idempotent request that lost its connection (server restart, reset, GOAWAY) runs
          // again on another connection while its deadline and the retry budget allow. Which
          // failures those are is decided in one place (src/weaviate/failure.ts: by gRPC status
          // and by who cancelled, never by message text), the same classifier the pool uses.
          const left = msg.deadlineAt - epochNow();
          if (!msg.idempotent || controller.signal.aborted || classifyFailure(error, { signal: controller.signal }) !== 'transport' || left < RETRY_MIN_LEFT_MS || !this.budget.onFailure()) throw error;
          const pause = Math.min(left / 4, RETRY_BASE_MS * 2 ** Math.min(attempt - 1, 5) * Math.random());
          await raceAbort(new Promise((r) => setTimeout(r, pause)), controller.signal);
        }
      }
    } catch (error) {
      this.failed++;
      return { ok: false, error: serializeError(classify(error, controller.signal)), t, threadId: this.#threadId };
    } finally {
      clearTimeout(timer);
      controller.signal.removeEventListener('abort', onLate);
      if (overdue) this.overdue--;
      this.#running.delete(msg.id);
      this.inFlight--;
    }
  }

  async #attempt(msg: TaskMessage, pool: ConnectionSource<WeaviateClient>, signal: AbortSignal, t: { acquireUs: number; executeUs: number }): Promise<unknown> {
    const asked = performance.now();
    const remaining = msg.deadlineAt - epochNow();
    return pool.withConnection(
      async (client, lease) => {
        const got = performance.now();
        t.acquireUs += Math.round((got - asked) * 1000);
        recordMs(this.acquireWait, got - asked);
        // Not raced against the signal: the lease is held until the work has really ended.
        const scope = withinLeaseScope(lease.connectionId, () => this.#execute(msg, client, signal));
        try {
          const value = await scope.result;
          // Finished, but after the deadline (or the caller's abort): the answer is that error.
          if (signal.aborted) throw signal.reason as Error;
          return value;
        } finally {
          scope.end();
          const done = performance.now();
          t.executeUs += Math.round((done - got) * 1000);
          recordMs(this.execution, done - got);
        }
      },
      // A wait bounded by the deadline ends by the deadline's own signal (DeadlineExceededError),
      // not by the pool's timer set for the same instant: timers of equal expiry fire in either
      // order (seen as a stray WEX_POOL_TIMEOUT in engine-lifecycle's 10,000-query run).
      { timeoutMs: Math.max(1, remaining + DEADLINE_GRACE_MS < pool.config.acquireTimeoutMs ? remaining + DEADLINE_GRACE_MS : pool.config.acquireTimeoutMs), signal },
    );
  }

  async #execute(msg: TaskMessage, client: WeaviateClient, signal: AbortSignal): Promise<unknown> {
    if (msg.kind === 'query') {
      const lean = msg.replyAs === 'bytes' && isReadSpec(msg.spec) ? leanPathOf(client) : undefined;
      if (!lean) return executeSpec(client, msg.spec, signal, msg.deadlineAt);
      // The reply's own copy (grpc-js may hand out a view of a larger chunk): transferable as a whole.
      const reply = await lean.searchBytes(msg.spec as ReadSpec, signal, msg.deadlineAt);
      return new RawReply(new Uint8Array(reply), lean.vectorFormat);
    }
    const tasks = await this.#tasks();
    const fn = tasks?.[msg.name];
    if (typeof fn !== 'function') {
      const names = Object.keys(tasks ?? {}).filter((k) => typeof tasks?.[k] === 'function');
      throw new UnknownTaskError(
        tasks ? `No task \`${msg.name}\` in the task module; it exports: ${names.join(', ') || '(nothing)'}` : `No task module was given to the executor (taskModule option); cannot run \`${msg.name}\``,
        { task: msg.name, available: names },
      );
    }
    return (fn as TaskFunction)(client, msg.args, { signal, deadlineAt: msg.deadlineAt, lane: msg.lane, threadId: this.#threadId });
  }
}

/** SearchReply bytes a lean-path read returned in place of its decoded result (`replyAs: 'bytes'`). */
class RawReply {
  readonly bytes: Uint8Array;
  readonly vectors: VectorFormat;
  constructor(bytes: Uint8Array, vectors: VectorFormat) {
    this.bytes = bytes;
    this.vectors = vectors;
  }
}

/** Map whatever went wrong to one of our typed errors (also used where replies are decoded on the main thread). */
export function classify(error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted && isExecutorError(signal.reason)) return signal.reason;
  if (isExecutorError(error)) return error;
  if (error instanceof Error && /^Weaviate/.test(error.name)) {
    const grpc = /\b(INVALID_ARGUMENT|NOT_FOUND|UNAVAILABLE|DEADLINE_EXCEEDED|PERMISSION_DENIED|UNAUTHENTICATED|RESOURCE_EXHAUSTED|INTERNAL|UNKNOWN|FAILED_PRECONDITION|CANCELLED)\b/.exec(error.message)?.[1];
    return new QueryError(`Weaviate rejected the request: ${error.message}`, { weaviateError: error.name, ...(grpc ? { grpcCode: grpc } : {}) });
  }
  return error;
}

/** With per-node limits, a hedge goes out only to a node below its limit (src/cluster/multi-pool.ts `canHedge`). */
function hedgeAdmission(pool: ConnectionSource<unknown>): ((scope: HedgeScope) => boolean) | undefined {
  const canHedge = (pool as { canHedge?: (used: ReadonlySet<number>) => boolean }).canHedge;
  return typeof canHedge === 'function' ? (scope) => canHedge.call(pool, scope.used) : undefined;
}
