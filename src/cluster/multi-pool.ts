/**
 * One pool per Weaviate node, behind the same ConnectionSource interface as one pool, so the
 * worker, the task runner and `withConnection` do not change (src/pool/create.ts builds it when
 * `weaviate.nodes` lists two or more nodes).
 *
 * - Sizing: each node's pool gets the full min/max of its owner (a worker's share), so the
 *   sockets to the cluster are nodes x min..max. Per node, because each node is its own server:
 *   a node that comes back gets its min again, and the in-flight bound applies per server.
 * - Choice (mechanism and policy apart, as undici's BalancedPool): `chooseNode` (choose.ts)
 *   over the eligible nodes of the OutlierDetector (outlier.ts), by requests outstanding x latency
 *   EWMA. A node whose last open failed and that has no connection left is skipped at once,
 *   before any ejection (it cannot serve anybody now).
 * - Failover: a caller waiting on a node whose open just failed is moved to another node (the
 *   node's "unreachable" signal aborts its waiters), within the caller's own bound. Reads and
 *   writes alike go to a healthy node; only the task runner retries, and only idempotent work.
 * - Outlier inputs: a lease whose calls saw a transport failure (`markSuspect`, from
 *   src/pool/with-connection.ts), a connection lost, an open that failed. A lease that ended
 *   without one is a success. The detector's interval verdicts (success rate, failure share)
 *   are taken on the probe timer. Ejected nodes are probed when their time is up: an open
 *   connection that passes its gRPC health check readmits the node.
 * - Second input, the cluster's own view: when the nodes carry their cluster names, every
 *   outlier interval one reachable node's `GET /v1/nodes` is read and a node it reports not
 *   HEALTHY is ejected; a probe of a node last reported not HEALTHY asks again and fails while
 *   it still is. Weaviate drops a node its gossip declared dead from /v1/nodes (measured: a
 *   frozen node vanished from the list ~6 s after SIGSTOP): a node listed before and missing now
 *   counts as not HEALTHY; a name never listed is left alone (a wrong name) and warned about once.
 * - Per-node adaptive limits (opt-in, `nodeAdaptive`; src/cluster/node-limit.ts): one AdaptiveLimit
 *   per node, fed by the node's round trips (lease got -> lease ended) and its requests in flight
 *   (`outstanding`). Candidates are the nodes below their limit; with none, the caller waits in a
 *   FIFO (NodeSlotQueue) for the first node slot, bounded by its time-out (TimeoutError, as a
 *   connection wait) and its signal. A hedge's second copy is only sent when a node other than the
 *   first copy's is below its limit (src/cluster/hedge.ts). Ejection and readmission leave a node's
 *   limit as it was (its capacity did not change because it was out).
 */
import { EventEmitter } from 'node:events';
import { DeadlineExceededError, isExecutorError, NoNodeAvailableError, PoolClosedError, TimeoutError, WaitQueueFullError } from '../errors.ts';
import { AdaptiveLimit, type AdaptiveLimitSnapshot } from '../engine/adaptive-limit.ts';
import { belowLimit, forNodePool, NodeSlotQueue } from './node-limit.ts';
import { backgroundTimer, systemClock, type Clock, type TimerHandle } from '../clock.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { PoolConfig } from '../pool/config.ts';
import type { ConnectionPool, TransitionEvent } from '../pool/pool.ts';
import type { AcquireOptions, ConnectionInfo, ConnectionSource, Lease, PoolStats } from '../pool/types.ts';
import { withConnection, type SuspectableLease } from '../pool/with-connection.ts';
import { chooseNode, costOf, updateEwma, type NodeLoad } from './choose.ts';
import { nodeName, type NodeAddress } from './nodes.ts';
import { OutlierDetector, type NodeHealth, type OutlierEvent } from './outlier.ts';
import { hedgeScope, threadHedger, type HedgeScope } from './hedge.ts';
import { httpGet } from '../weaviate/http-get.ts';
import { authHeaders, restOrigin } from '../weaviate/target.ts';

/** Connection ids of node i are i x ID_STRIDE + the node pool's own id (unique across nodes). */
const ID_STRIDE = 1_000_000;
/**
 * A latency EWMA older than this is forgotten (the node borrows the lowest known latency): P2C
 * never picks the dearest of three, so a node once slow (frozen, then resumed) would otherwise
 * never get the requests that show it is fast again.
 */
const LATENCY_STALE_MS = 5_000;
const NO_NODES: ReadonlySet<number> = new Set();

export interface NodeStats {
  node: string;
  health: NodeHealth;
  /** Every node is in use because too few are healthy. */
  panic: boolean;
  outstanding: number;
  latency_ewma_ms: number | null;
  consecutive_failures: number;
  ejections: number;
  total_ejections: number;
  /** Ms until the current ejection ends (0 when not ejected). */
  ejected_for_ms: number;
  /** Its last open failed and it has no connection: skipped until one opens. */
  unreachable: boolean;
  /** Why its health last changed (e.g. '5 consecutive failures ...', 'the cluster reports it ...'), or null. */
  last_reason: string | null;
  /** Per-node adaptive limit (`nodeAdaptive`): the limit now, its inputs (RTTs, gradient) and changes; null when off. */
  adaptive: AdaptiveLimitSnapshot | null;
  /** Callers waiting for a slot under this node's limit because least-loaded chose it (`nodeAdaptive`; 0 otherwise). */
  slot_waiting: number;
  pool: PoolStats | null;
}

/** Callers that found every node at its adaptive limit (`nodeAdaptive`), this worker. */
export interface NodeLimitStats {
  /** Waiting for a node slot now. */
  waiting: number;
  /** Callers that had to wait, since start: each once, also one that waited for a node, saw it ejected and waited for another. */
  waited: number;
  /** Whose wait timed out (TimeoutError), since start. */
  timeouts: number;
}

export interface MultiPoolEvents {
  outlier: [OutlierEvent & { name: string }];
}

interface NodeSlot<C> {
  index: number;
  name: string;
  address: NodeAddress;
  pool: ConnectionPool<C> | undefined;
  starting: Promise<void> | undefined;
  outstanding: number;
  latencyEwmaMs: number | undefined;
  latencyAt: number;
  lastOpenFailed: boolean;
  lastReason: string | null;
  /** Its name was in /v1/nodes once (a later absence then means the cluster dropped it). */
  listedOnce: boolean;
  unlistedWarned: boolean;
  /** Aborted when the node turns unreachable: its waiters move to another node. */
  unreachable: AbortController;
  /** Its adaptive concurrency limit (`nodeAdaptive`), or undefined. */
  limit: AdaptiveLimit | undefined;
  /** Callers P2C chose this node for that wait (FIFO) for a slot under its limit (`nodeAdaptive`, least-loaded). */
  waiters: NodeSlotQueue<NodeSlot<C>>;
}

/** One acquire() that may wait for a node slot, in one queue or (choosing again) several: counted once. */
interface Waiter {
  counted: boolean;
}

/** A waiter's node stopped being a candidate (ejected, unreachable): it chooses again. Internal. */
class ChooseAgain extends Error {}

export interface MultiPoolDeps<C> {
  nodes: readonly NodeAddress[];
  /** Open and start the pool of node i (proves the node reachable: rejects if not). */
  openNode(index: number): Promise<ConnectionPool<C>>;
  clock?: Clock;
  logger?: Logger;
}

export class MultiNodePool<C> implements ConnectionSource<C> {
  readonly config: Readonly<PoolConfig>;
  readonly events = new EventEmitter<MultiPoolEvents>();
  readonly detector: OutlierDetector;
  readonly #slots: NodeSlot<C>[];
  readonly #open: (index: number) => Promise<ConnectionPool<C>>;
  readonly #clock: Clock;
  readonly #log: Logger;
  #min: number;
  #max: number;
  #closed = false;
  #probeTimer: TimerHandle | undefined;
  #lastStatusPoll = 0;
  #statusPoll: Promise<void> | undefined;
  #requests = 0;
  /** Next turn of the 'round-robin' balancing (the comparison, not the default). */
  #turn = 0;
  /** Callers waiting for a node below its adaptive limit (`nodeAdaptive`). */
  readonly #slotWaiters: NodeSlotQueue<NodeSlot<C>>;
  /**
   * Callers that waited for a node slot, each once: a waiter whose node is ejected (or turns
   * unreachable) chooses again and may wait in another queue, so the queues' own entries would
   * count it twice.
   */
  #waited = 0;

  constructor(config: Readonly<PoolConfig>, deps: MultiPoolDeps<C>) {
    this.config = config;
    this.#min = config.minConnections;
    this.#max = config.maxConnections;
    this.#open = deps.openNode;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.logger ?? silentLogger;
    this.#slotWaiters = new NodeSlotQueue(this.#clock);
    // Each node pool lends at most max x streams at once: the node's limit never goes above that.
    const limitConfig = config.nodeAdaptive ? forNodePool(config.nodeAdaptive, this.#max * config.maxStreamsPerConnection) : undefined;
    this.#slots = deps.nodes.map((address, index) => ({
      index, address, name: nodeName(address), pool: undefined, starting: undefined, outstanding: 0,
      latencyEwmaMs: undefined, latencyAt: 0, lastOpenFailed: false, lastReason: null, listedOnce: false, unlistedWarned: false, unreachable: new AbortController(),
      limit: limitConfig ? new AdaptiveLimit(limitConfig, () => this.#clock.now()) : undefined, waiters: new NodeSlotQueue(this.#clock),
    }));
    this.detector = new OutlierDetector(this.#slots.length, config.outlierDetection, () => this.#clock.now(), (event) => {
      const name = this.#slots[event.node]!.name;
      this.#slots[event.node]!.lastReason = `${event.to}: ${event.reason}`;
      const log = event.to === 'ejected' ? this.#log.warn.bind(this.#log) : this.#log.info.bind(this.#log);
      log({ node: name, from: event.from, to: event.to, reason: event.reason }, `Weaviate node ${name}: ${event.from} -> ${event.to} (${event.reason})`);
      if (event.to === 'ejected') this.#markUnreachable(this.#slots[event.node]!);
      // Readmitted: its old latency says nothing about the node that came back.
      if (event.to === 'healthy') this.#slots[event.node]!.latencyEwmaMs = undefined;
      this.events.emit('outlier', { ...event, name });
      // The candidates changed: a waiter may now have a node (or none at all: it fails at once).
      this.#offerSlots();
    });
  }

  /** Open every node's pool; succeeds when at least one node is reachable (the others are ejected and probed). */
  async start(): Promise<this> {
    const results = await Promise.allSettled(this.#slots.map((slot) => this.#startNode(slot)));
    const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [{ slot: this.#slots[i]!, error: r.reason as Error }] : []));
    if (failures.length === this.#slots.length) {
      await this.close();
      throw failures[0]!.error; // typed by the node's own start (ConnectError, WEX_TLS_*, ...)
    }
    for (const { slot, error } of failures) {
      this.#log.warn({ node: slot.name, error: String(error?.message ?? error) }, `Weaviate node ${slot.name} unreachable at start; ejected and probed later`);
      this.detector.forceEject(slot.index, `unreachable at start: ${String(error?.message ?? error)}`);
    }
    this.#scheduleProbes();
    return this;
  }

  #startNode(slot: NodeSlot<C>): Promise<void> {
    slot.starting ??= this.#open(slot.index)
      .then((pool) => {
        if (this.#closed) {
          void pool.close();
          return;
        }
        if (pool.config.minConnections !== this.#min || pool.config.maxConnections !== this.#max) pool.resize({ min: this.#min, max: this.#max });
        slot.pool = pool;
        slot.lastOpenFailed = false;
        pool.events.on('transition', (e) => this.#onTransition(slot, e));
        this.#offerSlots();
      })
      .finally(() => {
        slot.starting = undefined;
      });
    return slot.starting;
  }

  #onTransition(slot: NodeSlot<C>, e: TransitionEvent): void {
    if (e.from === 'opening' && e.to === 'idle') {
      slot.lastOpenFailed = false;
    } else if (e.from === 'opening' && e.to === 'closed' && e.reason === 'open failed' && !this.#closed) {
      slot.lastOpenFailed = true;
      this.detector.onFailure(slot.index, 'connect failed');
      this.#markUnreachable(slot);
    } else if (e.reason === 'dead' && e.from !== 'retiring' && (e.to === 'retiring' || e.to === 'closing')) {
      this.detector.onFailure(slot.index, 'connection lost');
    }
  }

  /** Move the node's waiters elsewhere; later callers get a fresh signal. */
  #markUnreachable(slot: NodeSlot<C>): void {
    const old = slot.unreachable;
    slot.unreachable = new AbortController();
    old.abort(new Error(`node ${slot.name} unreachable`));
    this.#offerSlots();
  }

  #reachable(slot: NodeSlot<C>): boolean {
    if (!slot.pool || slot.pool.closed) return false;
    return !(slot.lastOpenFailed && slot.pool.stats().total_connections === 0);
  }

  #load(slot: NodeSlot<C>): NodeLoad {
    const fresh = this.#clock.now() - slot.latencyAt <= LATENCY_STALE_MS;
    // Callers waiting for this node's slot are load on it too: P2C's cost then weighs a full node's
    // queue against another node's latency (see #pick).
    return { index: slot.index, outstanding: slot.outstanding + slot.waiters.size, latencyEwmaMs: fresh ? slot.latencyEwmaMs : undefined };
  }

  /** The nodes that may serve the next request, before the adaptive limits (empty: none can). */
  #candidates(exclude: ReadonlySet<number>): NodeSlot<C>[] {
    const { nodes } = this.detector.eligible();
    const candidates = nodes.map((i) => this.#slots[i]!).filter((s) => !exclude.has(s.index) && this.#reachable(s));
    // Every eligible node is unreachable: an ejected one that is reachable beats failing the caller.
    return candidates.length > 0 ? candidates : this.#slots.filter((s) => !exclude.has(s.index) && this.#reachable(s));
  }

  #belowLimit(slot: NodeSlot<C>): boolean {
    return belowLimit({ inFlight: slot.outstanding, limit: slot.limit?.limit });
  }

  /**
   * With node limits and P2C: P2C chooses among every candidate, full or not, and a caller whose
   * node is at its limit waits for that node (docs/architecture.md, "Per-node limits"). Round robin
   * (blind to load) and a hedge's second copy keep the gate: only nodes below their limit.
   */
  get #waitsForChosenNode(): boolean {
    return this.config.nodeAdaptive !== undefined && this.config.balancing !== 'round-robin';
  }

  /**
   * The node for the next request: undefined when none can take it, 'at-limit' when some could
   * but every one of them is at its adaptive limit (the caller waits for a slot). When the caller
   * waits for its chosen node (#waitsForChosenNode) the node returned may be at its limit.
   */
  #pick(exclude: ReadonlySet<number>, hedge: HedgeScope | undefined): NodeSlot<C> | 'at-limit' | undefined {
    let candidates = this.#candidates(exclude);
    if (candidates.length === 0) return undefined;
    // The node limit gates routing: a node at its limit is no candidate (except for P2C, which
    // weighs a full node by its queue, waiters included, and the caller then waits for it).
    if (!this.#waitsForChosenNode || (hedge !== undefined && hedge.used.size > 0)) {
      candidates = candidates.filter((s) => this.#belowLimit(s));
      if (candidates.length === 0) return 'at-limit';
    }
    // A hedged read's second copy goes to another node than the first (when there is one).
    if (hedge && candidates.some((s) => !hedge.used.has(s.index))) candidates = candidates.filter((s) => !hedge.used.has(s.index));
    const index = this.config.balancing === 'round-robin'
      ? candidates[this.#turn++ % Math.max(1, candidates.length)]?.index
      : chooseNode(candidates.map((s) => this.#load(s)), () => this.#clock.random());
    if (index !== undefined) hedge?.used.add(index);
    return index === undefined ? undefined : this.#slots[index];
  }

  async acquire(options: AcquireOptions = {}): Promise<Lease<C>> {
    this.#requests++;
    if (this.#closed) throw new PoolClosedError('The connection pool is closed', {});
    const timeoutMs = options.timeoutMs ?? this.config.acquireTimeoutMs;
    const deadline = this.#clock.now() + timeoutMs;
    const tried = new Set<number>();
    // Read here, in the caller's async context: a waiter is served later from another one.
    const hedge = hedgeScope();
    const waiter: Waiter = { counted: false };
    for (;;) {
      // Callers already waiting for a node slot go first (FIFO): a new one queues behind them
      // (with P2C: behind those waiting for the node it chose).
      const picked = this.#slotWaiters.size > 0 && !this.#waitsForChosenNode ? 'at-limit' : this.#pick(tried, hedge);
      let slot: NodeSlot<C>;
      if (picked === 'at-limit') {
        slot = await this.#waitForSlot(tried, hedge, deadline, timeoutMs, options.signal, waiter); // reserved (outstanding counted)
      } else if (picked?.pool && (!this.#belowLimit(picked) || picked.waiters.size > 0)) {
        slot = await this.#waitForNode(picked, tried, hedge, deadline, timeoutMs, options.signal, waiter); // reserved
      } else {
        if (!picked?.pool) throw this.#noNode(tried);
        slot = picked;
        slot.outstanding++;
      }
      const nodeSignal = slot.unreachable.signal;
      const signal = options.signal ? AbortSignal.any([options.signal, nodeSignal]) : nodeSignal;
      let lease: Lease<C>;
      try {
        lease = await slot.pool!.acquire({ timeoutMs: Math.max(1, deadline - this.#clock.now()), signal });
      } catch (error) {
        slot.outstanding--;
        this.#offerSlots();
        // The node turned unreachable while we waited: try another one within the caller's bound.
        if (nodeSignal.aborted && !options.signal?.aborted && deadline - this.#clock.now() > 0 && !this.#closed) {
          tried.add(slot.index);
          continue;
        }
        throw error;
      }
      // The node's in-flight count when this request started on it (itself included): the limit's input.
      const inFlight = slot.outstanding;
      const caller = options.signal;
      return new NodeLease(lease, slot.index * ID_STRIDE, this.#clock.now(), (suspect, startedAt) => this.#ended(slot, suspect, startedAt, inFlight, caller));
    }
  }

  /**
   * Every candidate node is at its adaptive limit: wait (FIFO) for the first node slot, bounded by
   * the caller's time-out and signal. Resolves with the node reserved (its outstanding counted).
   */
  #waitForSlot(tried: ReadonlySet<number>, hedge: HedgeScope | undefined, deadline: number, timeoutMs: number, signal: AbortSignal | undefined, waiter: Waiter): Promise<NodeSlot<C>> {
    const full = this.#waitQueueFull();
    if (full) return Promise.reject(full);
    this.#countWaiter(waiter, signal);
    const take = () => {
      if (this.#closed) return new PoolClosedError('The connection pool is closed', {});
      const s = this.#pick(tried, hedge);
      if (s === 'at-limit') return undefined;
      if (!s?.pool) return this.#noNode(tried);
      s.outstanding++;
      return { node: s };
    };
    return this.#slotWaiters.wait(take, {
      timeoutMs: Math.max(0, deadline - this.#clock.now()),
      signal,
      onTimeout: () => this.#limitTimeout(timeoutMs),
      anyFree: () => this.#anyBelowLimit(),
    });
  }

  /**
   * P2C chose `node` and it is at its limit (or others wait for it already): wait, in arrival
   * order, in THAT node's queue for a slot under its limit, bounded as #waitForSlot. The queue's
   * length counts in P2C's cost of the node (#load). A node that stops being a candidate meanwhile
   * (ejected, unreachable) sends its waiters to choose again by P2C (and queue at the back of the
   * new choice's queue, if it is full too). Per node, so a slot that frees serves the head of that
   * node's queue without walking the others' waiters.
   */
  async #waitForNode(node: NodeSlot<C>, tried: ReadonlySet<number>, hedge: HedgeScope | undefined, deadline: number, timeoutMs: number, signal: AbortSignal | undefined, waiter: Waiter): Promise<NodeSlot<C>> {
    for (let chosen = node; ;) {
      const full = this.#waitQueueFull();
      if (full) throw full;
      const take = () => {
        if (this.#closed) return new PoolClosedError('The connection pool is closed', {});
        if (!this.#candidates(tried).includes(chosen)) return new ChooseAgain();
        const s = this.#belowLimit(chosen) ? chosen : this.#divertFrom(chosen, tried, true);
        if (!s) return undefined;
        s.outstanding++;
        return { node: s };
      };
      // Before queueing: a node with a free slot that is not dearer than this queue.
      const now = this.#divertFrom(chosen, tried, false);
      if (now) {
        now.outstanding++;
        return now;
      }
      this.#countWaiter(waiter, signal);
      try {
        return await chosen.waiters.wait(take, {
          timeoutMs: Math.max(0, deadline - this.#clock.now()),
          signal,
          onTimeout: () => this.#limitTimeout(timeoutMs, chosen),
          // A new waiter does not walk the queue of a full node.
          anyFree: () => this.#belowLimit(chosen),
        });
      } catch (error) {
        if (!(error instanceof ChooseAgain)) throw error;
      }
      const s = this.#pick(tried, hedge);
      if (s === 'at-limit') return this.#waitForSlot(tried, hedge, deadline, timeoutMs, signal, waiter);
      if (!s?.pool) throw this.#noNode(tried);
      if (this.#belowLimit(s) && s.waiters.size === 0) {
        s.outstanding++;
        return s;
      }
      chosen = s;
    }
  }

  /**
   * The node a caller waiting for `chosen` (full) may take instead: one below its limit, with
   * nobody waiting for it, whose P2C cost with this caller, (in flight + 1) x latency EWMA, is
   * below the cost of waiting in `chosen`'s queue, (in flight + waiters ahead + 1) x its EWMA
   * (`queued`: the caller is one of its waiters already). So a free slot is not left idle while
   * callers queue for a node that is no better, and a node much slower than the queue is worth
   * still gets nobody. Undefined: keep waiting.
   */
  #divertFrom(chosen: NodeSlot<C>, tried: ReadonlySet<number>, queued: boolean): NodeSlot<C> | undefined {
    let best: NodeSlot<C> | undefined;
    let bestCost = Number.POSITIVE_INFINITY;
    const loads = this.#candidates(tried).map((slot) => ({ slot, load: this.#load(slot) }));
    const known = loads.map((x) => x.load.latencyEwmaMs).filter((x): x is number => x !== undefined);
    const fallback = known.length > 0 ? Math.min(...known) : 1;
    let waitCost = Number.POSITIVE_INFINITY;
    for (const { slot, load } of loads) {
      if (slot === chosen) {
        waitCost = costOf({ ...load, outstanding: load.outstanding - (queued ? 1 : 0) }, fallback);
        continue;
      }
      if (slot.waiters.size > 0 || !this.#belowLimit(slot)) continue;
      const cost = costOf(load, fallback);
      if (cost < bestCost) {
        best = slot;
        bestCost = cost;
      }
    }
    return best && bestCost < waitCost ? best : undefined;
  }

  /** A caller about to wait in a node slot queue: counted the first time only (`#waited`). */
  #countWaiter(waiter: Waiter, signal: AbortSignal | undefined): void {
    // An aborted caller is refused by the queue at once: it does not wait.
    if (waiter.counted || signal?.aborted) return;
    waiter.counted = true;
    this.#waited++;
  }

  /** Callers waiting for a node slot now, in every queue. */
  #waitingForSlots(): number {
    return this.#slots.reduce((a, s) => a + s.waiters.size, this.#slotWaiters.size);
  }

  #waitQueueFull(): WaitQueueFullError | undefined {
    const waiting = this.#waitingForSlots();
    if (waiting < this.config.maxWaiters) return undefined;
    return new WaitQueueFullError(`Too many callers waiting for a node below its concurrency limit (${waiting}, maxWaiters ${this.config.maxWaiters})`, { waiting, maxWaiters: this.config.maxWaiters });
  }

  /** The same error a connection wait gives (TimeoutError), with each node's in-flight count and limit. */
  #limitTimeout(timeoutMs: number, chosen?: NodeSlot<C>): TimeoutError {
    const seconds = String(Number((timeoutMs / 1000).toFixed(3)));
    const nodes = this.#slots.map((s) => ({ node: s.name, in_flight: s.outstanding, limit: s.limit?.limit ?? null, waiting: s.waiters.size, health: this.detector.state(s.index).health }));
    const waiting = this.#waitingForSlots();
    const what = chosen ? `node ${chosen.name} (chosen by least-loaded) at its adaptive concurrency limit` : 'every node at its adaptive concurrency limit';
    return new TimeoutError(
      `Failed to get connection within ${seconds} seconds: ${what} (${nodes.map((n) => `${n.node} ${n.in_flight}/${n.limit ?? '-'}${n.health === 'healthy' ? '' : ` ${n.health}`}`).join('; ')}; waiting ${waiting})`,
      { timeoutMs, nodes, waiting },
    );
  }

  /** A node slot may have freed (a request ended, a limit rose, a node came back): serve the waiters. */
  #offerSlots(): void {
    let candidates: NodeSlot<C>[] | undefined;
    // Waiters for a node P2C chose: served while that node is below its limit; all of them (to
    // choose again) when it is no candidate any more.
    for (const slot of this.#slots) {
      if (slot.waiters.size === 0) continue;
      candidates ??= this.#candidates(NO_NODES);
      if (candidates.includes(slot)) slot.waiters.offer(() => this.#belowLimit(slot));
      else slot.waiters.offer();
    }
    // A node left with a free slot and nobody waiting for it: the head of each other queue may
    // take it if that is cheaper than waiting (#divertFrom). Heads only: those behind a head that
    // stays would stay too (same costs).
    if (candidates?.some((s) => s.waiters.size === 0 && this.#belowLimit(s))) {
      for (const slot of this.#slots) if (slot.waiters.size > 0) slot.waiters.offer(undefined, 1);
    }
    if (this.#slotWaiters.size === 0) return;
    // No node can take anybody now (all unreachable): each waiter fails at once, as a new caller would.
    if ((candidates ?? this.#candidates(NO_NODES)).length === 0) this.#slotWaiters.offer();
    else this.#slotWaiters.offer(() => this.#anyBelowLimit());
  }

  /** Some node a caller may be sent to (eligible, reachable) is below its limit. */
  #anyBelowLimit(): boolean {
    return this.#candidates(NO_NODES).some((s) => this.#belowLimit(s));
  }

  /**
   * May a hedged read's second copy go out now? Only to a node other than the first copy's that is
   * eligible and below its adaptive limit (with limits off: any other eligible node, as before).
   */
  canHedge(used: ReadonlySet<number>): boolean {
    if (!this.config.nodeAdaptive) return true;
    return this.#candidates(NO_NODES).some((s) => !used.has(s.index) && this.#belowLimit(s));
  }

  #ended(slot: NodeSlot<C>, suspect: boolean, startedAt: number, inFlight: number, caller: AbortSignal | undefined): void {
    slot.outstanding--;
    if (slot.limit) {
      // Work the caller gave up on (aborted, a hedge that lost) says nothing about the node: left
      // out. A deadline passed while it ran, or a transport failure, is a drop (AIMD cut).
      const reason: unknown = caller?.aborted ? caller.reason : undefined;
      const deadline = reason !== undefined && (reason instanceof DeadlineExceededError || (isExecutorError(reason) && reason.code === DeadlineExceededError.code));
      if (reason === undefined || deadline) slot.limit.addSample(this.#clock.now() - startedAt, inFlight, suspect || deadline);
    }
    this.#offerSlots();
    if (suspect) {
      this.detector.onFailure(slot.index, 'transport failure under a lease');
    } else {
      const fresh = this.#clock.now() - slot.latencyAt <= LATENCY_STALE_MS;
      slot.latencyEwmaMs = updateEwma(fresh ? slot.latencyEwmaMs : undefined, this.#clock.now() - startedAt);
      slot.latencyAt = this.#clock.now();
      this.detector.onSuccess(slot.index);
    }
  }

  #noNode(tried: ReadonlySet<number>): NoNodeAvailableError {
    const nodes = this.#slots.map((s) => ({ node: s.name, health: this.detector.state(s.index).health, reachable: this.#reachable(s), tried: tried.has(s.index) }));
    return new NoNodeAvailableError(
      `No Weaviate node can take the request now (${nodes.map((n) => `${n.node} ${n.health}${n.reachable ? '' : ', unreachable'}`).join('; ')})`,
      { nodes },
    );
  }

  withConnection<T>(fn: (client: C, lease: Lease<C>) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return withConnection((o) => this.acquire(o), fn, options);
  }

  // ---- probes -------------------------------------------------------------------------------

  #scheduleProbes(): void {
    if (this.#closed) return;
    const every = Math.max(100, Math.min(1000, this.config.outlierDetection.baseEjectionMs / 4));
    this.#probeTimer = backgroundTimer(this.#clock, () => {
      this.detector.evaluate();
      if (this.#clock.now() - this.#lastStatusPoll >= this.config.outlierDetection.intervalMs) void this.#pollClusterStatus();
      for (const index of this.detector.due()) void this.#probe(this.#slots[index]!);
      this.#scheduleProbes();
    }, every);
  }

  /**
   * Read the cluster's /v1/nodes from the first node that answers (healthy ones first) and feed
   * each named node's status to the detector. Bounded (health-check time-out per node); never
   * rejects: a node that does not answer is the transport failures' business, not this one's.
   */
  #pollClusterStatus(): Promise<void> {
    if (!this.#slots.some((s) => s.address.name !== undefined) || this.#closed) return Promise.resolve();
    this.#lastStatusPoll = this.#clock.now();
    this.#statusPoll ??= (async () => {
      const target = this.config.weaviate;
      const order = [...this.#slots].sort((a, b) => Number(this.detector.state(a.index).health !== 'healthy') - Number(this.detector.state(b.index).health !== 'healthy'));
      for (const slot of order) {
        if (this.#closed) return;
        try {
          const origin = restOrigin({ ...target, host: slot.address.host, httpPort: slot.address.httpPort });
          const r = await httpGet(`${origin}/v1/nodes?output=minimal`, this.config.healthCheckTimeoutMs, authHeaders(target), target.tls);
          if (r.status !== 200) continue;
          const listed = (JSON.parse(r.body) as { nodes?: { name?: unknown; status?: unknown }[] }).nodes ?? [];
          if (this.#closed) return;
          for (const s of this.#slots) {
            if (s.address.name === undefined) continue;
            const entry = listed.find((n) => n.name === s.address.name);
            if (entry) {
              s.listedOnce = true;
              this.detector.onClusterStatus(s.index, entry.status === 'HEALTHY', `status ${String(entry.status)}`);
            } else if (s.listedOnce) {
              // Weaviate drops a node its gossip declared dead (frozen, killed, cut off) from the list.
              this.detector.onClusterStatus(s.index, false, `no longer lists ${s.address.name}`);
            } else {
              // Never listed: most likely a wrong name in the config. Unknown, not unhealthy.
              this.detector.onClusterStatus(s.index, undefined);
              if (!s.unlistedWarned) {
                s.unlistedWarned = true;
                this.#log.warn({ node: s.name, name: s.address.name }, `Weaviate node ${s.name}: its name \`${s.address.name}\` is not in the cluster's /v1/nodes (${listed.map((n) => String(n.name)).join(', ')}); its status is not used`);
              }
            }
          }
          return;
        } catch {
          // Try the next node.
        }
      }
    })().finally(() => {
      this.#statusPoll = undefined;
    });
    return this.#statusPoll;
  }

  /** Readmit a node when it has (or opens) a connection that passes its gRPC health check. */
  async #probe(slot: NodeSlot<C>): Promise<void> {
    try {
      if (!slot.pool) await this.#startNode(slot);
      const pool = slot.pool!;
      // Still no connection since its last open failed: nothing to probe, it stays out (longer).
      if (!this.#reachable(slot)) throw new Error('no connection: its last open failed');
      const lease = await pool.acquire({ timeoutMs: this.config.healthCheckTimeoutMs });
      lease.release();
      const { failed } = await pool.checkNow();
      if (failed > 0) throw new Error(`${failed} health check(s) failed`);
      // Last reported not HEALTHY by the cluster: ask again; still so, it stays out.
      if (this.detector.state(slot.index).clusterHealthy === false) {
        await this.#pollClusterStatus();
        if (this.detector.state(slot.index).clusterHealthy === false) throw new Error('the cluster still reports it not HEALTHY (/v1/nodes)');
      }
      this.detector.onProbe(slot.index, true);
    } catch (error) {
      this.detector.onProbe(slot.index, false, String((error as Error)?.message ?? error));
    }
  }

  // ---- management ---------------------------------------------------------------------------

  #pools(): ConnectionPool<C>[] {
    return this.#slots.flatMap((s) => (s.pool ? [s.pool] : []));
  }

  resize({ min, max }: { min?: number; max?: number }): void {
    if (this.#closed) throw new PoolClosedError('resize() was called on a closed connection pool', {});
    this.#min = min ?? this.#min;
    this.#max = max ?? this.#max;
    for (const pool of this.#pools()) pool.resize({ min: this.#min, max: this.#max });
    // Each node's limit follows its pool's new slots (the max it may lend at once).
    if (this.config.nodeAdaptive) {
      const bounds = forNodePool(this.config.nodeAdaptive, this.#max * this.config.maxStreamsPerConnection);
      for (const slot of this.#slots) slot.limit?.setBounds(bounds.minLimit, bounds.maxLimit);
      this.#offerSlots(); // a larger limit may admit waiters now
    }
  }

  async checkNow(): Promise<{ checked: number; failed: number }> {
    const results = await Promise.all(this.#pools().map((p) => p.checkNow()));
    return results.reduce((a, b) => ({ checked: a.checked + b.checked, failed: a.failed + b.failed }), { checked: 0, failed: 0 });
  }

  nodeStats(): NodeStats[] {
    const { panic } = this.detector.eligible();
    const now = this.#clock.now();
    return this.#slots.map((s) => {
      const o = this.detector.state(s.index);
      return {
        node: s.name,
        health: o.health,
        panic,
        outstanding: s.outstanding,
        latency_ewma_ms: s.latencyEwmaMs === undefined ? null : Math.round(s.latencyEwmaMs * 100) / 100,
        consecutive_failures: o.consecutiveFailures,
        ejections: o.ejections,
        total_ejections: o.totalEjections,
        ejected_for_ms: o.health === 'ejected' && o.ejectedUntil !== undefined ? Math.max(0, Math.round(o.ejectedUntil - now)) : 0,
        unreachable: !this.#reachable(s),
        last_reason: s.lastReason,
        adaptive: s.limit?.snapshot() ?? null,
        slot_waiting: s.waiters.size,
        pool: s.pool?.stats() ?? null,
      };
    });
  }

  /** The nodes' pool figures summed (the note's keys), plus `nodes` with each node's own. */
  stats(): PoolStats {
    const nodes = this.nodeStats();
    const pools = nodes.flatMap((n) => (n.pool ? [n.pool] : []));
    const sum = (k: keyof PoolStats) => pools.reduce((a, p) => a + (p[k] as number), 0);
    const served = pools.reduce((a, p) => a + p.total_requests, 0);
    return {
      enabled: true,
      total_connections: sum('total_connections'),
      current_active: sum('current_active'),
      current_idle: sum('current_idle'),
      available_connections: sum('available_connections'),
      active_leases: sum('active_leases'),
      max_streams_per_connection: this.config.maxStreamsPerConnection,
      total_connections_created: sum('total_connections_created'),
      total_connections_closed: sum('total_connections_closed'),
      total_requests: this.#requests,
      avg_wait_time: served === 0 ? 0 : pools.reduce((a, p) => a + p.avg_wait_time * p.total_requests, 0) / served,
      health_check_failures: sum('health_check_failures'),
      min_connections: this.#min * this.#slots.length,
      max_connections: this.#max * this.#slots.length,
      waiting: sum('waiting'),
      pending_creates: sum('pending_creates'),
      acquire_timeouts: sum('acquire_timeouts'),
      connect_failures: sum('connect_failures'),
      dead_connections_detected: sum('dead_connections_detected'),
      lifetime_recycled: sum('lifetime_recycled'),
      idle_closed: sum('idle_closed'),
      leak_warnings: sum('leak_warnings'),
      fallback_mode: this.config.fallback,
      fallback_acquires: sum('fallback_acquires'),
      fallback_connection_open: pools.some((p) => p.fallback_connection_open),
      nodes,
      hedging: threadHedger.stats(),
      ...(this.config.nodeAdaptive ? { node_limit: this.nodeLimitStats() } : {}),
    };
  }

  /** Callers that found every node at its limit (`nodeAdaptive`). */
  nodeLimitStats(): NodeLimitStats {
    const queues = [this.#slotWaiters, ...this.#slots.map((s) => s.waiters)];
    const sum = (k: 'size' | 'timeouts') => queues.reduce((a, q) => a + q[k], 0);
    return { waiting: sum('size'), waited: this.#waited, timeouts: sum('timeouts') };
  }

  connections(): ConnectionInfo[] {
    return this.#slots.flatMap((s) => (s.pool?.connections() ?? []).map((c) => ({ ...c, id: s.index * ID_STRIDE + c.id })));
  }

  get closed(): boolean {
    return this.#closed;
  }

  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#probeTimer);
    // An in-flight /v1/nodes read (rare, bounded by the health-check time-out) is not awaited: it sees #closed.
    for (const slot of this.#slots) slot.unreachable.abort(new PoolClosedError('The connection pool is closed', {}));
    for (const q of [this.#slotWaiters, ...this.#slots.map((s) => s.waiters)]) q.rejectAll(new PoolClosedError('The connection pool is closed', {}));
    await Promise.allSettled(this.#slots.map((s) => s.starting));
    await Promise.all(this.#pools().map((p) => p.close(options)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A node pool's lease that reports how it ended (transport failure or not, and when) to the multi-pool. */
class NodeLease<C> implements Lease<C>, SuspectableLease {
  readonly #inner: Lease<C>;
  readonly #offset: number;
  readonly #startedAt: number;
  readonly #onEnd: (suspect: boolean, startedAt: number) => void;
  #suspect = false;
  #ended = false;

  constructor(inner: Lease<C>, offset: number, startedAt: number, onEnd: (suspect: boolean, startedAt: number) => void) {
    this.#inner = inner;
    this.#offset = offset;
    this.#startedAt = startedAt;
    this.#onEnd = onEnd;
  }
  get client(): C {
    return this.#inner.client;
  }
  get connectionId(): number {
    return this.#offset + this.#inner.connectionId;
  }
  markSuspect(): void {
    this.#suspect = true;
    (this.#inner as SuspectableLease).markSuspect?.();
  }
  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#onEnd(this.#suspect, this.#startedAt);
  }
  release(): void {
    this.#inner.release();
    this.#end();
  }
  destroy(reason?: string): void {
    this.#suspect = true;
    this.#inner.destroy(reason);
    this.#end();
  }
  [Symbol.dispose](): void {
    this.release();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}
