/**
 * Per-node adaptive concurrency limits (opt-in, `nodeAdaptive`): the pure parts the multi-pool
 * (src/cluster/multi-pool.ts) routes with. Each worker's multi-pool keeps one AdaptiveLimit
 * (src/engine/adaptive-limit.ts, Gradient2 + the no-load probe, the tail guard off) per node, fed
 * by that node's round trips (from the moment a request got its node connection to its end) and
 * the node's requests in flight. The lane limit keeps gating dispatch (main thread); the node
 * limit gates routing (worker): a node at its limit is no candidate, and when every candidate is
 * at its limit the caller waits here, in arrival order, for the first node slot to free.
 *
 * Where this departs from the designs it borrows from (docs/architecture.md, "Per-node limits"):
 * - Netflix concurrency-limits partitions ONE limit by request class (a guaranteed percentage of
 *   it per partition, spare capacity borrowed while the whole limit is not in use) and, on a
 *   client, treats the service behind a load balancer as one entity. Here each node has its own,
 *   independent limit: the nodes are separate servers with their own capacity, and one limit over
 *   all of them would learn a blended RTT in which a slow node's queueing is diluted by the fast
 *   nodes' (or a fast node's by the slow one's).
 * - Envoy's adaptive concurrency filter limits what is outstanding to all hosts of a cluster and
 *   answers 503 past it; gRPC's xDS circuit breaking (A32) counts per cluster too and drops the
 *   pick with UNAVAILABLE. Both sit beside the load balancer, which never sees the limit. Here the
 *   limit is per node and is an input of the node choice (candidates are the nodes below their
 *   limit), and a caller over every node's limit waits (bounded by its deadline and the acquire
 *   time-out, as for a connection) instead of failing at once: the engine already sheds at the
 *   lane (queue bounds, deadlines), so a second, instant refusal here would only turn a short wait
 *   into an error the caller retries.
 *
 * Pure: no timers of its own beyond the injected clock; test/unit/cluster-node-limit.test.ts.
 */
import type { Clock } from '../clock.ts';
import { WaitQueue } from '../wait-queue.ts';
import { AbortError } from '../errors.ts';
import { resolveAdaptive, type AdaptiveLimitConfig, type AdaptiveLimitOptions } from '../engine/adaptive-limit.ts';

/** What routing needs to know of a node's limit: requests in flight on it, and its limit (undefined: none). */
export interface NodeLimitView {
  inFlight: number;
  limit: number | undefined;
}

/** Can the node take one more request now? In flight below its limit, or it has none. */
export function belowLimit(node: NodeLimitView): boolean {
  return node.limit === undefined || node.inFlight < node.limit;
}

/** The nodes that can take one more request now (in their order). Pure. */
export function underLimit<T extends NodeLimitView>(nodes: readonly T[]): T[] {
  return nodes.filter(belowLimit);
}

/** A node limit's resolved configuration. */
export interface NodeAdaptiveConfig extends AdaptiveLimitConfig {
  /**
   * `maxLimit` was not given: each node's max is its node pool's slots, also after `resize()`
   * (`maxLimit` then shows the engine-wide slots at start). Set by resolution; a resolved
   * configuration passed in again keeps it.
   */
  maxLimitFromSlots: boolean;
}

/**
 * Validate `nodeAdaptive` (true or AdaptiveLimitOptions) as the option is named. Its `maxLimit`
 * defaults to `slots` (the engine-wide connection slots; each worker's multi-pool then caps it at
 * its own node pool's slots, see `forNodePool`). The tail guard is off: a node's limit answers to
 * that node's own latency, not to a lane's tail (`protect` is refused). `fromSlots` is a resolved
 * configuration's `maxLimitFromSlots` (a worker resolves the main thread's configuration again).
 */
export function resolveNodeAdaptive(name: string, value: boolean | AdaptiveLimitOptions, slots: number, fromSlots?: boolean): NodeAdaptiveConfig | undefined {
  if (value === false) return undefined;
  const options: AdaptiveLimitOptions = value === true ? {} : value;
  const config = resolveAdaptive(name, { ...options, protect: [] }, slots);
  return Object.freeze({ ...config, maxLimitFromSlots: fromSlots ?? options.maxLimit === undefined });
}

/**
 * The limit's configuration for one node pool of `slots` slots (its max connections x streams per
 * connection): a node can never have more in flight than its pool lends, so the limit's max (and
 * initial, min) are capped there. Without a given `maxLimit` the max is the pool's slots.
 */
export function forNodePool(config: AdaptiveLimitConfig & { maxLimitFromSlots?: boolean }, slots: number): AdaptiveLimitConfig {
  const maxLimit = Math.max(1, config.maxLimitFromSlots ? slots : Math.min(config.maxLimit, slots));
  const minLimit = Math.min(config.minLimit, maxLimit);
  return Object.freeze({ ...config, maxLimit, minLimit, initialLimit: Math.max(minLimit, Math.min(config.initialLimit, maxLimit)) });
}

/** What a waiter's `take` answers: a node reserved for it, not yet (keep waiting), or an error (give up). */
export type TakeResult<T> = { node: T } | undefined | Error;

export interface SlotWaitOptions {
  /** Bound of the wait, ms. */
  timeoutMs: number;
  /** Gives up when this fires (AbortError naming its reason). */
  signal?: AbortSignal | undefined;
  /** The error a time-out rejects with (the multi-pool's TimeoutError, as a connection wait's). */
  onTimeout: () => Error;
  /** Is some node below its limit at all? (`offer`'s check: a queue that cannot be served is not walked.) */
  anyFree?: () => boolean;
}

/**
 * Callers waiting for a node slot, first come first served. Each waiter brings its own `take()`,
 * which tries to reserve a node for it (with its own exclusions: nodes it tried, a hedge's first
 * node); `offer()` is called whenever a slot may have freed (a request ended, a limit rose, a node
 * came back) and serves waiters in arrival order while some node is below its limit. A waiter
 * whose time-out passes, or whose signal fires, leaves the queue at once; every wait settles
 * (the queue, time-outs and aborts are src/wait-queue.ts, shared with the connection pool).
 */
export class NodeSlotQueue<T> {
  readonly #queue: WaitQueue<T, () => TakeResult<T>>;

  constructor(clock: Clock) {
    this.#queue = new WaitQueue(clock);
  }

  get size(): number {
    return this.#queue.size;
  }

  /** Callers whose wait timed out (for stats). */
  get timeouts(): number {
    return this.#queue.timeouts;
  }

  /**
   * Wait until `take()` reserves a node (tried at once, then at each offer), the time-out passes,
   * or the signal fires. A new caller never overtakes earlier ones: it is served by `offer()`,
   * which goes through the queue in order.
   */
  wait(take: () => TakeResult<T>, options: SlotWaitOptions): Promise<T> {
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    const waiting = this.#queue.wait(take, { timeoutMs: options.timeoutMs, signal: options.signal, onTimeout: options.onTimeout, onAbort: abortError });
    // Served in order: this caller only if those before it cannot use what is free.
    this.offer(options.anyFree);
    return waiting;
  }

  /**
   * A slot may have freed: serve waiters in arrival order. `anyFree()` says whether some node is
   * below its limit at all; serving stops when none is (so a long queue costs nothing per ended
   * request while every node is full). A waiter that cannot use the free slot (its exclusions) is
   * passed over and keeps its place. `maxTries` bounds the waiters asked (1: the head only).
   */
  offer(anyFree: () => boolean = () => true, maxTries = Number.POSITIVE_INFINITY): void {
    for (let i = 0, tries = 0; i < this.#queue.size && tries < maxTries; tries++) {
      if (!anyFree()) return;
      let result: TakeResult<T>;
      try {
        result = this.#queue.at(i)!();
      } catch (error) {
        result = error instanceof Error ? error : new Error(String(error));
      }
      if (result === undefined) {
        i++;
        continue;
      }
      const waiter = this.#queue.dequeue(i)!;
      if (result instanceof Error) waiter.reject(result);
      else waiter.resolve(result.node);
    }
  }

  /** Fail every waiter (the pool closes). */
  rejectAll(error: Error): void {
    this.#queue.rejectAll(error);
  }
}

function abortError(signal: AbortSignal): AbortError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new AbortError(`Gave up waiting for a node below its concurrency limit: ${reason}`, { reason });
}
