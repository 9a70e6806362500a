/**
 * The main-thread scheduler: p-queue with the lane policy as its queue class (src/engine/lanes.ts).
 * Its concurrency is the engine's connection count, so only as much work leaves the main thread
 * as the workers have connections for; everything else waits in the lanes, where priorities apply.
 *
 * Per request:
 * - admission: an unknown lane is a ValidationError; a full lane rejects at once (QueueFullError);
 * - while queued: the deadline sheds it (DeadlineExceededError) and the caller's signal removes
 *   it (AbortError), both without it ever reaching a worker;
 * - while running: the work gets an AbortSignal that fires at the deadline or on the caller's
 *   abort, and the caller's promise settles then at the latest, whatever the worker does. The
 *   slot stays taken until the work really ends, so a stuck worker shows as in-flight work.
 */
import PQueue from 'p-queue';
import type { Histogram } from 'hdr-histogram-js';
import { systemClock, type Clock, type TimerHandle } from '../clock.ts';
import { AbortError, DeadlineExceededError, QueueFullError, ShutdownError, ValidationError, isExecutorError } from '../errors.ts';
import { newHistogram, recordMs, summarize, type LatencySummary } from '../stats/histogram.ts';
import { LaneQueue, adaptiveBounds, checkReserved, checkSharedReserved, type LaneConfig, type LaneState } from './lanes.ts';

/** The slot group of the lanes without dedicated workers (`setSlotCaps`). */
const SHARED_GROUP = -1;
import { AdaptiveLimit, type AdaptiveLimitSnapshot } from './adaptive-limit.ts';
import { CostModel } from './cost.ts';

export interface WorkContext {
  /** Fires at the deadline (DeadlineExceededError) or when the caller aborts (AbortError). */
  signal: AbortSignal;
  /** Absolute deadline on the scheduler's clock (ms). */
  deadlineAt: number;
  lane: string;
  /** Time spent queued, ms. */
  queueWaitMs: number;
}

export interface SubmitOptions {
  lane: string;
  /** Absolute deadline on the scheduler's clock (ms). */
  deadlineAt: number;
  signal?: AbortSignal | undefined;
  /** Kind of work (cost-aware lanes measure and charge each kind's cost). */
  costKey?: string | undefined;
}

interface LaneCounters {
  admitted: number;
  completed: number;
  failed: number;
  shed: number;
  rejectedFull: number;
  aborted: number;
  errors: Record<string, number>;
  queueWait: Histogram;
  endToEnd: Histogram;
}

export interface LaneStats {
  name: string;
  weight: number;
  reserved: number;
  max_concurrency: number | null;
  /** Most slots the lane can use where its work runs (a lane with dedicated workers: their connections x streams); null = no cap. */
  slot_cap: number | null;
  max_queue: number;
  default_deadline_ms: number | null;
  /** Requests waiting in this lane now. */
  queued: number;
  /** Requests of this lane running now (on a worker or inline), overdue ones included. */
  in_flight: number;
  /**
   * Requests of this lane whose caller was answered (deadline or abort) while the work still
   * runs: each keeps its slot (and its connection) until the work really ends.
   */
  overdue: number;
  admitted: number;
  completed: number;
  /** Requests that reached a worker and failed, by error code below. */
  failed: number;
  /** Requests whose deadline passed while queued (never reached a worker). */
  shed: number;
  /** Requests refused at once because the lane was full. */
  rejected_full: number;
  /** Requests the caller aborted while queued or running. */
  aborted: number;
  errors_by_code: Record<string, number>;
  queue_wait: LatencySummary;
  end_to_end: LatencySummary;
  /** The lane's adaptive limit (its cap now, RTT inputs, changes); null when the lane has none. */
  adaptive: AdaptiveLimitSnapshot | null;
  /** Reads answered by joining an identical read in flight (lanes with `coalesce`); set by the executor. */
  coalesced?: number;
  /** Lanes with `batchWrites`: inserts sent, and writes that joined an earlier one's batch; set by the executor. */
  write_batches?: { batches: number; joined: number };
}

interface Entry {
  state: 'queued' | 'running' | 'done';
  /** The caller was answered while the work still runs. */
  overdue: boolean;
  queuedAbort: AbortController;
  runningAbort: AbortController;
}

let nextId = 1;

export class Scheduler {
  readonly #queue: PQueue;
  readonly #lanes: LaneQueue;
  readonly #clock: Clock;
  readonly #counters = new Map<string, LaneCounters>();
  readonly #entries = new Set<Entry>();
  readonly #running = new Set<Promise<unknown>>();
  /** Lanes with an adaptive limit: each finished request is a sample (src/engine/adaptive-limit.ts). */
  readonly #adaptive = new Map<string, AdaptiveLimit>();
  /** Cost-aware lanes: measured cost per kind of work (src/engine/cost.ts); undefined = off. */
  readonly #costs: CostModel | undefined;
  #slots: number;
  #closing = false;

  constructor(lanes: readonly LaneConfig[], slots: number, clock: Clock = systemClock, options: { costAware?: boolean } = {}) {
    this.#costs = options.costAware ? new CostModel() : undefined;
    this.#slots = slots;
    this.#clock = clock;
    let laneQueue: LaneQueue | undefined;
    const capture = (q: LaneQueue) => (laneQueue = q);
    const configs = lanes;
    const slotCount = () => this.#slots;
    // p-queue constructs its queue class itself; capture the instance it builds.
    class BoundLaneQueue extends LaneQueue {
      constructor() {
        super(configs, slotCount);
        capture(this);
      }
    }
    this.#queue = new PQueue({ concurrency: slots, queueClass: BoundLaneQueue as never });
    this.#lanes = laneQueue!;
    for (const lane of lanes) {
      this.#counters.set(lane.name, {
        admitted: 0, completed: 0, failed: 0, shed: 0, rejectedFull: 0, aborted: 0, errors: {},
        queueWait: newHistogram(), endToEnd: newHistogram(),
      });
    }
    for (const lane of this.#lanes.lanes) {
      if (!lane.config.adaptive) continue;
      const limit = new AdaptiveLimit(lane.config.adaptive, () => clock.now());
      this.#adaptive.set(lane.config.name, limit);
    }
    this.#boundAdaptive();
  }

  /**
   * Each adaptive limit's bounds follow the slots its lane can use now (lanes.ts `adaptiveBounds`:
   * the slots less the other lanes' reservations, which are never lent): at start, on resize and
   * when a lane's cap changes. A limit above a smaller max comes down at once; a larger max lets
   * it climb there (it does not jump).
   */
  #boundAdaptive(): void {
    const lanes = this.#lanes.lanes;
    const reserved = lanes.reduce((sum, l) => sum + l.config.reserved, 0);
    for (const lane of lanes) {
      const limit = this.#adaptive.get(lane.config.name);
      const groupOthersReserved = lane.slotGroup === undefined
        ? 0
        : lanes.reduce((sum, l) => sum + (l !== lane && l.slotGroup === lane.slotGroup ? l.config.reserved : 0), 0);
      const bounds = adaptiveBounds(lane.config, this.#slots, lane.slotCap, reserved - lane.config.reserved, groupOthersReserved);
      if (!limit || !bounds) continue;
      limit.setBounds(bounds.minLimit, bounds.maxLimit);
      lane.adaptiveCap = limit.limit;
    }
  }

  get laneNames(): string[] {
    return this.#lanes.lanes.map((l) => l.config.name);
  }

  laneConfig(name: string): LaneConfig | undefined {
    return this.#lanes.lane(name)?.config;
  }

  /** @internal The lane policy's queue (tests inspect what it holds). */
  get laneQueue(): LaneQueue {
    return this.#lanes;
  }

  get slots(): number {
    return this.#slots;
  }

  get inFlight(): number {
    return this.#lanes.lanes.reduce((sum, l) => sum + l.inFlight, 0);
  }

  get queued(): number {
    return this.#lanes.queued;
  }

  /**
   * Cap lanes whose work can only run on some of the connections (dedicated workers): a lane
   * never takes more slots than its workers have connections x streams, so the rest of its
   * work waits here, under lane weights, reservations and maxQueue, not in a worker's connection
   * queue (where a critical request would wait behind it). The lanes not named run on the
   * shared workers: with `shared` (their slots) they are capped together at it, each lane's
   * unused reservation held back from the others; without it they are uncapped.
   */
  setSlotCaps(caps: ReadonlyMap<string, number>, shared?: number): void {
    for (const lane of this.#lanes.lanes) {
      const own = caps.get(lane.config.name);
      lane.slotCap = own ?? shared ?? Number.POSITIVE_INFINITY;
      lane.slotGroup = own === undefined && shared !== undefined ? SHARED_GROUP : undefined;
    }
    this.#boundAdaptive();
  }

  /**
   * ConfigError when `slots` would leave lanes without a reservation no slot at all; with
   * `sharedSlots` (dedicated workers), also when the shared workers' slots would.
   */
  checkSlots(slots: number, sharedSlots?: number): void {
    const configs = this.#lanes.lanes.map((l) => l.config);
    checkReserved(configs, slots);
    if (sharedSlots !== undefined) checkSharedReserved(configs, sharedSlots);
  }

  /** Change the number of slots (the engine's connection count) at run time; adaptive lanes' bounds follow. */
  resize(slots: number): void {
    this.checkSlots(slots);
    this.#slots = slots;
    // Before p-queue's concurrency: setting it dispatches, under the lanes' new limits.
    this.#boundAdaptive();
    this.#queue.concurrency = slots;
  }

  submit<T>(work: (ctx: WorkContext) => Promise<T>, options: SubmitOptions): Promise<T> {
    const lane = this.#lanes.lane(options.lane);
    if (!lane) {
      return Promise.reject(
        new ValidationError(`Unknown lane \`${options.lane}\`; lanes are: ${this.laneNames.join(', ')}`, { field: 'lane', value: options.lane }),
      );
    }
    const counters = this.#counters.get(lane.config.name)!;
    if (this.#closing) return Promise.reject(new ShutdownError('The executor is shutting down; no new work is accepted', { lane: lane.config.name }));
    if (lane.queued >= lane.config.maxQueue) {
      counters.rejectedFull++;
      return Promise.reject(
        new QueueFullError(
          `Lane \`${lane.config.name}\` is full (${lane.queued} queued, maxQueue ${lane.config.maxQueue}, ${lane.inFlight} running); try again later`,
          { lane: lane.config.name, queued: lane.queued, maxQueue: lane.config.maxQueue, inFlight: lane.inFlight },
        ),
      );
    }
    if (options.signal?.aborted) {
      counters.aborted++;
      return Promise.reject(callerAbort(options.signal, 'before it was queued'));
    }
    const enqueuedAt = this.#clock.now();
    if (options.deadlineAt <= enqueuedAt) {
      counters.shed++;
      return Promise.reject(new DeadlineExceededError(`Deadline already passed when submitted to lane \`${lane.config.name}\``, { lane: lane.config.name, phase: 'admission' }));
    }
    counters.admitted++;
    const entry: Entry = { state: 'queued', overdue: false, queuedAbort: new AbortController(), runningAbort: new AbortController() };
    this.#entries.add(entry);

    const onDeadline = () => {
      const waited = Math.round(this.#clock.now() - enqueuedAt);
      if (entry.state === 'queued') {
        counters.shed++;
        entry.queuedAbort.abort(
          new DeadlineExceededError(`Deadline passed after ${waited} ms queued in lane \`${lane.config.name}\`; shed before reaching a worker`, {
            lane: lane.config.name, phase: 'queued', waitedMs: waited,
          }),
        );
      } else if (entry.state === 'running') {
        entry.runningAbort.abort(
          new DeadlineExceededError(`Deadline passed after ${waited} ms (lane \`${lane.config.name}\`) while the request was running`, {
            lane: lane.config.name, phase: 'running', elapsedMs: waited,
          }),
        );
      }
    };
    // Not a background timer: a caller is waiting for this outcome.
    const deadlineTimer: TimerHandle = this.#clock.setTimeout(onDeadline, options.deadlineAt - enqueuedAt);
    const onCallerAbort = () => {
      counters.aborted++;
      if (entry.state === 'queued') entry.queuedAbort.abort(callerAbort(options.signal!, 'while queued'));
      else if (entry.state === 'running') entry.runningAbort.abort(callerAbort(options.signal!, 'while running'));
    };
    options.signal?.addEventListener('abort', onCallerAbort, { once: true });

    const task = async (): Promise<T> => {
      entry.state = 'running';
      lane.inFlight++;
      const startedAt = this.#clock.now();
      const queueWaitMs = startedAt - enqueuedAt;
      recordMs(counters.queueWait, queueWaitMs);
      const onLate = () => {
        entry.overdue = true;
        lane.overdue++;
      };
      entry.runningAbort.signal.addEventListener('abort', onLate, { once: true });
      const inFlightAtStart = lane.inFlight;
      let failure: unknown;
      try {
        return await work({ signal: entry.runningAbort.signal, deadlineAt: options.deadlineAt, lane: lane.config.name, queueWaitMs });
      } catch (error) {
        failure = error ?? new Error('failed');
        throw error;
      } finally {
        this.#sampleAdaptive(lane, this.#clock.now() - startedAt, inFlightAtStart, entry, failure);
        // The guard judges what a protected lane's caller waits: queue wait included.
        if (failure === undefined && !entry.runningAbort.signal.aborted) this.#sampleGuards(lane.config.name, this.#clock.now() - enqueuedAt);
        if (this.#costs && options.costKey !== undefined && !entry.overdue) this.#costs.observe(options.costKey, this.#clock.now() - startedAt);
        entry.runningAbort.signal.removeEventListener('abort', onLate);
        if (entry.overdue) lane.overdue--;
        lane.inFlight--;
        recordMs(counters.endToEnd, this.#clock.now() - enqueuedAt);
      }
    };

    const cost = this.#costs?.cost(options.costKey) ?? 1;
    const added = this.#queue.add(task, { lane: lane.config.name, id: String(nextId++), signal: entry.queuedAbort.signal, cost } as never) as Promise<T>;
    this.#running.add(added);
    // The caller's promise settles at the deadline (or abort) at the latest, even if the work does not.
    const outcome = new Promise<T>((resolve, reject) => {
      entry.runningAbort.signal.addEventListener('abort', () => reject(entry.runningAbort.signal.reason as Error), { once: true });
      added.then(resolve, reject);
    });
    const finish = () => {
      entry.state = 'done';
      this.#entries.delete(entry);
      this.#running.delete(added);
      this.#clock.clearTimeout(deadlineTimer);
      options.signal?.removeEventListener('abort', onCallerAbort);
    };
    added.then(finish, finish);
    return outcome.then(
      (value) => {
        counters.completed++;
        return value;
      },
      (error: unknown) => {
        const code = isExecutorError(error) ? error.code : 'WEX_TASK_FAILED';
        // Shed and aborted are counted where they happen; everything else that ran is a failure.
        const ran = !(isExecutorError(error) && (error.details['phase'] === 'queued' || error.details['phase'] === 'shutdown'));
        if (ran && code !== AbortError.code) {
          counters.failed++;
          counters.errors[code] = (counters.errors[code] ?? 0) + 1;
        }
        throw error;
      },
    );
  }

  /**
   * Feed the lane's adaptive limit: the request's time in its slot and the lane's in-flight count
   * when it started. A deadline passed while running or a connection wait that timed out is a
   * drop; work the caller aborted says nothing about the server and is left out.
   */
  #sampleAdaptive(lane: LaneState, rttMs: number, inFlight: number, entry: Entry, failure: unknown): void {
    const limit = this.#adaptive.get(lane.config.name);
    if (!limit) return;
    const reason: unknown = entry.runningAbort.signal.aborted ? entry.runningAbort.signal.reason : failure;
    if (reason instanceof AbortError || (isExecutorError(reason) && reason.code === AbortError.code)) return;
    const dropped = reason instanceof DeadlineExceededError || (isExecutorError(reason) && (reason.code === DeadlineExceededError.code || reason.code === 'WEX_POOL_TIMEOUT'));
    limit.addSample(rttMs, inFlight, dropped);
    lane.adaptiveCap = limit.limit;
  }

  /** A request of `laneName` ended well: adaptive limits that protect that lane see its round trip. */
  #sampleGuards(laneName: string, rttMs: number): void {
    for (const [name, limit] of this.#adaptive) {
      if (!limit.config.protect.includes(laneName)) continue;
      limit.addGuardSample(rttMs);
      const lane = this.#lanes.lanes.find((l) => l.config.name === name);
      if (lane) lane.adaptiveCap = limit.limit;
    }
  }

  stats(): LaneStats[] {
    return this.#lanes.lanes.map((lane: LaneState) => {
      const c = this.#counters.get(lane.config.name)!;
      return {
        name: lane.config.name,
        weight: lane.config.weight,
        reserved: lane.config.reserved,
        max_concurrency: Number.isFinite(lane.config.maxConcurrency) ? lane.config.maxConcurrency : null,
        slot_cap: Number.isFinite(lane.slotCap) ? lane.slotCap : null,
        max_queue: lane.config.maxQueue,
        default_deadline_ms: lane.config.defaultDeadlineMs ?? null,
        queued: lane.queued,
        in_flight: lane.inFlight,
        overdue: lane.overdue,
        admitted: c.admitted,
        completed: c.completed,
        failed: c.failed,
        shed: c.shed,
        rejected_full: c.rejectedFull,
        aborted: c.aborted,
        errors_by_code: { ...c.errors },
        queue_wait: summarize(c.queueWait),
        end_to_end: summarize(c.endToEnd),
        adaptive: this.#adaptive.get(lane.config.name)?.snapshot() ?? null,
      };
    });
  }

  /** Cost-aware lanes: each kind's measured slot time and relative cost; null when off. */
  costs(): Record<string, { avg_ms: number; min_ms: number; cost: number }> | null {
    return this.#costs?.snapshot() ?? null;
  }

  /** The histograms themselves (for merging into engine-wide figures and reports). */
  histograms(lane: string): { queueWait: Histogram; endToEnd: Histogram } | undefined {
    const c = this.#counters.get(lane);
    return c && { queueWait: c.queueWait, endToEnd: c.endToEnd };
  }

  /**
   * Stop admitting; reject everything still queued with ShutdownError; give running work up to
   * `timeoutMs` to finish, then reject its callers too. Always settles.
   */
  async close({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    this.#closing = true;
    for (const entry of this.#entries) {
      if (entry.state === 'queued') {
        entry.queuedAbort.abort(new ShutdownError('The executor shut down before this request left its queue', { phase: 'shutdown' }));
      }
    }
    if (this.#running.size > 0) {
      let timer: TimerHandle | undefined;
      await Promise.race([
        Promise.allSettled([...this.#running]),
        new Promise<void>((resolve) => {
          timer = this.#clock.setTimeout(resolve, timeoutMs);
        }),
      ]);
      this.#clock.clearTimeout(timer);
    }
    for (const entry of this.#entries) {
      if (entry.state === 'running') {
        entry.runningAbort.abort(new ShutdownError(`The executor shut down before this request finished (waited ${timeoutMs} ms)`, { phase: 'shutdown' }));
      }
    }
  }
}

function callerAbort(signal: AbortSignal, when: string): AbortError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new AbortError(`Aborted by the caller ${when}: ${reason}`, { reason, phase: when.includes('queued') ? 'queued' : 'running' });
}
