/**
 * `createExecutor()`: what a service embeds. Queries (serialisable specs) and the user's own
 * tasks go through priority lanes on the main thread to Piscina workers that each own a
 * sub-pool of real connections; every wait is bounded by a deadline; stats are merged across
 * threads.
 *
 *   await using engine = await createExecutor({ maxConnections: 8 });
 *   const hits = await engine.query({ kind: 'hybrid', collection: 'm_asset_schema', query: '삼성전자',
 *                                     vector, limit: 5 }, { lane: 'critical', deadlineMs: 500 });
 */
import { systemClock, type Clock } from '../clock.ts';
import { ConfigError, ShutdownError, ValidationError, WorkerCrashedError, fromSerialized, isExecutorError } from '../errors.ts';
import { resolveLogger, type Logger } from '../log.ts';
import type { ConnectionInfo } from '../pool/types.ts';
import { SchemaRegistry } from '../query/schema.ts';
import { isReadSpec, validateSpec, type InsertResult, type QueryResult, type QuerySpec } from '../query/spec.ts';
import { EventLoopMonitor } from '../stats/event-loop.ts';
import { nextMax, utilizationSample, type AutoscaleConfig } from './autoscale.ts';
import { fetchClusterVersion } from '../weaviate/meta.ts';
import { resolveExecutorConfig, type ExecutorConfig, type ExecutorOptions } from './config.ts';
import { dedicatedSlotCaps, sharedSlotCap } from './balancer.ts';
import { splitShares, type Dispatcher, type WorkerConnections } from './dispatcher.ts';
import { InlineDispatcher } from './inline-dispatcher.ts';
import { WorkerDispatcher } from './worker-dispatcher.ts';
import { epochNow, type TaskMessage, type TaskReply } from './protocol.ts';
import { Scheduler, type LaneStats, type WorkContext } from './scheduler.ts';
import { loadTaskModule } from './task-module.ts';
import type { ExecutorFor } from './tasks.ts';
import { buildEngineStats, type EngineStats } from './stats.ts';
import { Coalescer, coalesceKey } from './coalesce.ts';
import { WriteBatcher } from './write-batcher.ts';
import { HandedReplyDecoder } from './reply-handoff.ts';
import { loadCodecs } from '../wire/codecs.ts';

/** What `query(spec)` resolves to for a spec of this kind (a union of kinds gives the union of results). */
export type ResultOf<S extends QuerySpec> = S extends { kind: 'insertMany' } ? InsertResult : QueryResult;

export interface RequestOptions {
  /** Lane to queue in. @default 'normal' */
  lane?: string;
  /** Time allowed from now, ms; default the lane's, else the executor's (30 s). */
  deadlineMs?: number;
  /** Abort from the caller's side (queued: removed; running: the query is cancelled). */
  signal?: AbortSignal;
  /**
   * Safe to run twice: if the worker running it dies, it is retried once on another worker
   * while its deadline allows. @default true for reads, false for insertMany and tasks
   */
  idempotent?: boolean;
}

/** One finished request, for metrics (`executor.onRequest(listener)`). Times in milliseconds. */
export interface RequestEvent {
  kind: 'query' | 'task';
  lane: string;
  /** `ok`, or the error code it failed with (`WEX_DEADLINE_EXCEEDED`, `WEX_QUEUE_FULL`, ...). */
  outcome: string;
  /** From submit to answer. */
  totalMs: number;
  /** Queued in its lane (the whole time when it never left the queue). */
  queueWaitMs: number;
  /** Waiting for a connection in the worker, and running with it (last attempt; undefined if it never ran). */
  connectionWaitMs: number | undefined;
  executionMs: number | undefined;
}

export interface CreateExecutorOptions extends ExecutorOptions {
  /**
   * Where the executor and its worker threads log: a pino logger (or anything with
   * `debug/info/warn/error(obj, msg)`). Worker threads' lines come through this logger too.
   * @default none: nothing is written unless `logger` or `logLevel` is given
   */
  logger?: Logger;
  /** Without `logger`: log at this pino level to stderr. @default undefined (silent) */
  logLevel?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  clock?: Clock;
}

export class Executor implements AsyncDisposable {
  readonly config: Readonly<ExecutorConfig>;
  readonly #scheduler: Scheduler;
  readonly #dispatcher: Dispatcher;
  readonly #schema: SchemaRegistry | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #eventLoop = new EventLoopMonitor();
  readonly #listeners = new Set<(event: RequestEvent) => void>();
  #nextTaskId = 1;
  #requests = 0;
  #validationErrors = 0;
  #retries = 0;
  #closing: Promise<void> | undefined;
  #min: number;
  #max: number;
  /** Identical reads in flight on lanes with `coalesce` (src/engine/coalesce.ts). */
  readonly #coalescer: Coalescer;
  /** Write micro-batching of lanes with `batchWrites` (src/engine/write-batcher.ts). */
  readonly #batchers = new Map<string, WriteBatcher>();
  /** Workers post lean-path read replies as bytes, decoded here (config `replyHandoff`). */
  readonly #bytesHandoff: boolean;
  readonly #replyDecoder: HandedReplyDecoder;

  /** Use createExecutor(): it starts the workers and checks Weaviate before handing the executor out. */
  constructor(config: Readonly<ExecutorConfig>, deps: { logger: Logger; clock: Clock }) {
    this.config = config;
    this.#min = config.pool.minConnections;
    this.#clock = deps.clock;
    this.#log = deps.logger;
    this.#coalescer = new Coalescer(deps.clock);
    this.#bytesHandoff = config.workers > 0 && config.replyHandoff === 'bytes' && config.pool.queryPath === 'lean';
    this.#replyDecoder = new HandedReplyDecoder(config.decodeSliceMs);
    for (const lane of config.lanes) {
      if (!lane.batchWrites) continue;
      // The merged insert goes through the lane like any write, with the latest deadline of its callers.
      const send = (spec: QuerySpec, deadlineAt: number) =>
        this.#submit((id, d, l) => ({ kind: 'query', id, spec, deadlineAt: d, lane: l, idempotent: false }), { lane: lane.name, deadlineMs: Math.max(1, deadlineAt - this.#clock.now()) }, false, 'query:insertMany') as Promise<InsertResult>;
      this.#batchers.set(lane.name, new WriteBatcher(lane.batchWrites, send, deps.clock));
    }
    // Slots: what may run at once, engine-wide: every connection carries up to maxStreamsPerConnection requests.
    this.#scheduler = new Scheduler(config.lanes, config.pool.maxConnections * config.pool.maxStreamsPerConnection, deps.clock, { costAware: config.costAwareLanes });
    this.#max = config.pool.maxConnections;
    this.#dispatcher =
      config.workers > 0
        ? new WorkerDispatcher(config.pool, {
            workers: config.workers,
            isolatedLanes: config.lanes.filter((l) => l.dedicatedWorkers > 0).map((l) => ({ name: l.name, workers: l.dedicatedWorkers })),
            taskModule: config.taskModule,
            controlTimeoutMs: config.controlTimeoutMs,
            watchdogTerminateMs: config.watchdogTerminateMs,
            logger: deps.logger,
            logLevel: config.workerLogLevel,
            workerNice: config.workerNice,
            resourceLimits: config.workerResourceLimits,
          })
        : new InlineDispatcher(config.pool, { taskModule: config.taskModule, logger: deps.logger });
    this.#applySlotCaps(config.pool.minConnections, config.pool.maxConnections);
    this.#schema = config.validateAgainstSchema ? new SchemaRegistry(config.pool.weaviate, { declared: config.collections }) : undefined;
  }

  /** @internal */
  async start(): Promise<this> {
    // A wrong task module fails here (ConfigError), not at the first run().
    if (this.config.taskModule) await loadTaskModule(this.config.taskModule);
    // Fail fast (ConnectError naming the address) before any thread starts.
    await fetchClusterVersion(this.config.pool.weaviate, this.config.pool.connectTimeoutMs); // any node of weaviate.nodes
    await this.#schema?.refresh(true);
    await this.#dispatcher.start();
    if (this.#bytesHandoff) await loadCodecs(); // the reply decoder's error and value classes
    this.#eventLoop.enable();
    if (this.config.autoscale) this.#startAutoscale(this.config.autoscale);
    this.#log.info(
      { mode: this.#dispatcher.mode, workers: this.config.workers, maxConnections: this.config.pool.maxConnections, lanes: this.config.lanes.map((l) => l.name) },
      'executor started',
    );
    return this;
  }

  get mode(): Dispatcher['mode'] {
    return this.#dispatcher.mode;
  }

  /**
   * Run a query spec (validated here, before it is queued). The result type follows the spec's
   * kind: searches give a QueryResult, `insertMany` an InsertResult.
   */
  async query<S extends QuerySpec>(spec: S, options: RequestOptions = {}): Promise<ResultOf<S>> {
    this.#requests++;
    let checked: QuerySpec;
    try {
      checked = await this.#validate(spec);
      this.#checkOptions(options);
    } catch (error) {
      this.#validationErrors++;
      throw error;
    }
    const idempotent = options.idempotent ?? isReadSpec(checked);
    const submit = () => this.#submit((id, deadlineAt, lane) => ({ kind: 'query', id, spec: checked, deadlineAt, lane, idempotent }), options, idempotent, `query:${checked.kind}`) as Promise<ResultOf<S>>;
    const lane = options.lane ?? 'normal';
    const laneConfig = this.#scheduler.laneConfig(lane);
    const batcher = checked.kind === 'insertMany' && options.idempotent === undefined ? this.#batchers.get(lane) : undefined;
    const result = batcher && checked.kind === 'insertMany'
      ? ((await batcher.add(checked, {
          deadlineAt: this.#clock.now() + (options.deadlineMs ?? laneConfig?.defaultDeadlineMs ?? this.config.defaultDeadlineMs),
          signal: options.signal,
        })) as ResultOf<S>)
      : laneConfig?.coalesce && isReadSpec(checked)
        ? await this.#coalescer.run(lane, coalesceKey(lane, checked), submit, {
            deadlineAt: this.#clock.now() + (options.deadlineMs ?? laneConfig.defaultDeadlineMs ?? this.config.defaultDeadlineMs),
            signal: options.signal,
          })
        : await submit();
    if (checked.kind === 'insertMany') {
      // Vectors that were just written tell the dimensions of a collection first seen empty.
      const length = checked.objects.find((o) => o.vector !== undefined)?.vector?.length;
      if (length !== undefined) this.#schema?.noteVectors(checked.collection, 'default', length);
    }
    return result;
  }

  /**
   * Re-read the collections (names, properties, vector dimensions) now. Not needed for a
   * collection created later (a spec naming an unknown collection waits for a fresh read by
   * itself); useful after a collection was deleted or changed. No-op with validateAgainstSchema off.
   */
  async refreshSchema(): Promise<void> {
    if (this.#closing) throw new ShutdownError('The executor is closed', {});
    await this.#schema?.refreshAfter(performance.now());
  }

  /** Run a function of the task module in a worker, with a leased client: `fn(client, args, ctx)`. */
  async run<T = unknown>(name: string, args?: unknown, options: RequestOptions = {}): Promise<T> {
    this.#requests++;
    try {
      if (typeof name !== 'string' || name === '') throw new ValidationError('Invalid task: `name` must be a non-empty string', { field: 'name' });
      this.#checkOptions(options);
      structuredClone(args); // must cross a thread: fail here, typed, not inside Piscina
    } catch (error) {
      this.#validationErrors++;
      if (error instanceof Error && error.name === 'DataCloneError') {
        throw new ValidationError(`Invalid task arguments: ${error.message}`, { field: 'args' });
      }
      throw error;
    }
    const idempotent = options.idempotent ?? false;
    return this.#submit((id, deadlineAt, lane) => ({ kind: 'task', id, name, args, deadlineAt, lane, idempotent }), options, idempotent, `task:${name}`) as Promise<T>;
  }

  #checkOptions(options: RequestOptions): void {
    if (typeof options !== 'object' || options === null) throw new ValidationError('Invalid request options: expected an object', { field: 'options' });
    const d = options.deadlineMs;
    if (d !== undefined && (typeof d !== 'number' || !Number.isFinite(d) || d <= 0 || d > 2_147_483_647)) {
      throw new ValidationError(`Invalid request options: \`deadlineMs\` must be a finite number > 0 (ms), got ${String(d)}`, { field: 'deadlineMs' });
    }
    if (options.lane !== undefined && (typeof options.lane !== 'string' || !this.#scheduler.laneConfig(options.lane))) {
      throw new ValidationError(`Unknown lane \`${String(options.lane)}\`; lanes are: ${this.#scheduler.laneNames.join(', ')}`, { field: 'lane', value: String(options.lane) });
    }
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) {
      throw new ValidationError('Invalid request options: `signal` must be an AbortSignal', { field: 'signal' });
    }
  }

  async #validate(spec: QuerySpec): Promise<QuerySpec> {
    const schema = this.#schema;
    if (!schema) return validateSpec(spec);
    const arrived = performance.now();
    const first = validateSpec(spec, (c) => schema.shapeOf(c));
    const known = schema.shapeOf(first.collection);
    if (known) {
      // Dimensions not known yet (the collection was empty when seen): learn them in the background.
      const vector = first.kind === 'nearVector' || (first.kind === 'hybrid' && first.vector !== undefined);
      if (vector && known.vectorDimensions[first.targetVector ?? 'default'] === undefined) void schema.refresh().catch(() => {});
      return first;
    }
    // Created since the last look? Wait for a schema read that started after this spec arrived
    // (coalesced with other misses, spaced; src/query/schema.ts).
    const unread = await schema.refreshAfter(arrived).then(
      () => '',
      (error: unknown) => ` (the schema could not be re-read: ${(error as Error)?.message ?? String(error)})`,
    );
    if (!schema.shapeOf(first.collection)) {
      throw new ValidationError(
        `Invalid query: unknown collection \`${first.collection}\`; known collections: ${schema.collections.join(', ') || '(none)'}${unread}`,
        { field: 'collection', value: first.collection },
      );
    }
    return validateSpec(spec, (c) => schema.shapeOf(c));
  }

  #submit(
    build: (id: number, deadlineEpoch: number, lane: string) => TaskMessage,
    options: RequestOptions,
    idempotent: boolean,
    costKey?: string,
  ): Promise<unknown> {
    if (this.#closing) return Promise.reject(new ShutdownError('The executor is shutting down; no new work is accepted', {}));
    const lane = options.lane ?? 'normal';
    const deadlineMs = options.deadlineMs ?? this.#scheduler.laneConfig(lane)?.defaultDeadlineMs ?? this.config.defaultDeadlineMs;
    const id = this.#nextTaskId++;
    const submittedAt = this.#clock.now();
    let startedAt: number | undefined;
    let timings: TaskReply['t'] | undefined;
    const work = async (ctx: WorkContext): Promise<unknown> => {
      startedAt ??= this.#clock.now();
      const onAbort = () => this.#dispatcher.cancel(id, String((ctx.signal.reason as Error)?.message ?? 'aborted'));
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      try {
        for (let attempt = 1; ; attempt++) {
          const msg = build(id, epochNow() + (ctx.deadlineAt - this.#clock.now()), ctx.lane);
          if (this.#bytesHandoff && msg.kind === 'query' && isReadSpec(msg.spec)) msg.replyAs = 'bytes';
          let reply;
          try {
            reply = await this.#dispatcher.dispatch(msg);
          } catch (error) {
            const timeLeft = ctx.deadlineAt - this.#clock.now();
            if (error instanceof WorkerCrashedError && idempotent && attempt === 1 && !ctx.signal.aborted && timeLeft > 0) {
              this.#retries++;
              this.#log.warn({ taskId: id, lane: ctx.lane, timeLeftMs: Math.round(timeLeft) }, 'worker died under a request; retrying it once on another worker');
              continue;
            }
            throw error;
          }
          timings = reply.t;
          if (!reply.ok) throw fromSerialized(reply.error);
          // replyAs 'bytes': the worker sent the reply undecoded (src/engine/reply-handoff.ts). A
          // caller already answered (deadline, abort) gets nothing from it: no decode then.
          if (reply.bytes && msg.kind === 'query') {
            if (ctx.signal.aborted) throw ctx.signal.reason;
            return await this.#replyDecoder.decode(reply.bytes, msg.spec, reply.vectors);
          }
          return reply.value;
        }
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    };
    const result = this.#scheduler.submit(work, { lane, deadlineAt: this.#clock.now() + deadlineMs, signal: options.signal, costKey });
    if (this.#listeners.size > 0) {
      const kind = build(0, 0, lane).kind;
      const emit = (outcome: string) => {
        const now = this.#clock.now();
        const event: RequestEvent = {
          kind, lane, outcome, totalMs: now - submittedAt, queueWaitMs: (startedAt ?? now) - submittedAt,
          connectionWaitMs: timings && timings.acquireUs / 1000, executionMs: timings && timings.executeUs / 1000,
        };
        for (const listener of this.#listeners) {
          try {
            listener(event);
          } catch (error) {
            this.#log.warn({ error: String(error) }, 'an onRequest listener threw');
          }
        }
      };
      result.then(() => emit('ok'), (error: unknown) => emit(isExecutorError(error) ? error.code : 'WEX_INTERNAL'));
    }
    return result;
  }

  /**
   * Call `listener` once per finished request (metrics: src/metrics/prometheus.ts). Returns the
   * function that removes it. Listeners run on the main thread and must be quick.
   */
  onRequest(listener: (event: RequestEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The engine-wide snapshot (the note's keys, plus lanes, workers, latency, counters). */
  async stats(): Promise<EngineStats> {
    const workers = await this.#dispatcher.workerStats();
    const stats = buildEngineStats({
      mode: this.#dispatcher.mode,
      enabled: this.config.pool.enabled,
      minConnections: this.#min,
      maxConnections: this.#max,
      slots: this.#scheduler.slots,
      lanes: this.#scheduler.stats(),
      laneHistograms: this.#scheduler.laneNames.map((n) => this.#scheduler.histograms(n)!),
      workers,
      requests: this.#requests,
      validationErrors: this.#validationErrors,
      retries: this.#retries,
      crashes: this.#dispatcher instanceof WorkerDispatcher ? this.#dispatcher.crashes : 0,
      mainEventLoopP99Us: this.#eventLoop.percentileUs(99),
      autoscale: this.config.autoscale ? { ...this.config.autoscale, utilization: this.#autoscaleState.utilization, last_change: this.#autoscaleState.lastChange } : null,
    });
    stats.query_costs = this.#scheduler.costs();
    for (const lane of Object.values(stats.lanes)) this.#decorateLane(lane);
    return stats;
  }

  /**
   * The lanes alone (queued, in flight, limits, counters, adaptive state), read on the main
   * thread without asking the workers: cheap enough to sample every 100 ms under load, where a
   * full `stats()` (a round trip to every worker and merged histograms) is not.
   */
  laneStats(): Record<string, LaneStats> {
    return Object.fromEntries(this.#scheduler.stats().map((lane) => [lane.name, this.#decorateLane(lane)]));
  }

  #decorateLane(lane: LaneStats): LaneStats {
    lane.coalesced = this.#coalescer.hits(lane.name);
    const batcher = this.#batchers.get(lane.name);
    if (batcher) lane.write_batches = { batches: batcher.counts.batches, joined: batcher.counts.joined };
    return lane;
  }

  /** Every connection of every worker, with the note's per-connection metrics. */
  async connections(): Promise<WorkerConnections[]> {
    return this.#dispatcher.connections();
  }

  /** Flattened connection list (id is per worker). */
  async connectionList(): Promise<(ConnectionInfo & { worker: number })[]> {
    return (await this.connections()).flatMap((w) => w.connections.map((c) => ({ ...c, worker: w.threadId })));
  }

  /**
   * Change the engine-wide min/max at run time; workers get new shares, lanes new slots.
   * Calls run one at a time, in call order (autoscale's too), so worker shares and scheduler
   * slots always come from the same call. ShutdownError once close() was called.
   */
  resize(sizes: { min?: number; max?: number }): Promise<void> {
    if (this.#closing) return Promise.reject(new ShutdownError('The executor is closed; resize() is refused', {}));
    const next = this.#resizing.then(() => this.#resizeNow(sizes));
    this.#resizing = next.catch(() => {});
    return next;
  }

  #resizing: Promise<void> = Promise.resolve();

  async #resizeNow({ min, max }: { min?: number; max?: number }): Promise<void> {
    if (this.#closing) throw new ShutdownError('The executor is closed; resize() is refused', {});
    const newMin = min ?? this.#min;
    const newMax = max ?? this.#max;
    if (!Number.isInteger(newMin) || !Number.isInteger(newMax) || newMin < 0 || newMin > newMax || newMax < Math.max(1, this.config.workers)) {
      throw new ConfigError(`resize needs integers 0 <= min <= max and max >= workers (${this.config.workers}); got min ${newMin}, max ${newMax}`, { min: newMin, max: newMax });
    }
    this.#scheduler.checkSlots(newMax * this.config.pool.maxStreamsPerConnection, this.#sharedSlots(newMin, newMax));
    await this.#dispatcher.resize(newMin, newMax);
    this.#min = newMin;
    this.#max = newMax;
    this.#applySlotCaps(newMin, newMax);
    this.#scheduler.resize(newMax * this.config.pool.maxStreamsPerConnection);
  }

  /**
   * Lanes with dedicated workers get at most the slots of their workers' connections; the other
   * lanes together at most the shared workers' (only when some lane has dedicated workers: else
   * the shared workers are all of them, and the engine's slots bound the lanes already).
   */
  #applySlotCaps(min: number, max: number): void {
    if (this.config.workers === 0) return;
    const isolated = this.config.lanes.filter((l) => l.dedicatedWorkers > 0).map((l) => ({ name: l.name, workers: l.dedicatedWorkers }));
    const shares = splitShares(min, max, this.config.workers).map((s) => s.max);
    this.#scheduler.setSlotCaps(dedicatedSlotCaps(isolated, shares, this.config.pool.maxStreamsPerConnection), this.#sharedSlots(min, max));
  }

  /** The shared workers' slots with these connection bounds, when some lane has dedicated workers (undefined otherwise). */
  #sharedSlots(min: number, max: number): number | undefined {
    const dedicated = this.config.lanes.reduce((sum, l) => sum + l.dedicatedWorkers, 0);
    if (this.config.workers === 0 || dedicated === 0) return undefined;
    return sharedSlotCap(dedicated, splitShares(min, max, this.config.workers).map((s) => s.max), this.config.pool.maxStreamsPerConnection);
  }

  #autoscaleTimer: NodeJS.Timeout | undefined;
  #utilization: number[] = [];
  /** Autoscale state for stats: last utilisation and the last change made. */
  #autoscaleState: { utilization: number; lastChange: string | null } = { utilization: 0, lastChange: null };

  #startAutoscale(c: AutoscaleConfig): void {
    let elapsed = 0;
    const sampleMs = Math.min(1000, c.intervalMs);
    this.#autoscaleTimer = setInterval(() => {
      this.#utilization.push(utilizationSample(this.#scheduler.inFlight, this.#scheduler.queued, this.#scheduler.slots));
      elapsed += sampleMs;
      if (elapsed < c.intervalMs) return;
      elapsed = 0;
      const u = this.#utilization.reduce((a, b) => a + b, 0) / this.#utilization.length;
      this.#utilization = [];
      this.#autoscaleState.utilization = Math.round(u * 1000) / 1000;
      const target = nextMax(this.#max, u, c);
      if (target !== this.#max && !this.#closing) {
        const from = this.#max;
        this.resize({ min: Math.min(this.#min, target), max: target }).then(
          () => {
            this.#autoscaleState.lastChange = `${from} -> ${target} at utilisation ${u.toFixed(2)}`;
            this.#log.info({ from, to: target, utilization: u }, 'autoscale: maxConnections changed');
          },
          (error: unknown) => this.#log.warn({ error: String(error) }, 'autoscale: resize failed'),
        );
      }
    }, sampleMs);
    this.#autoscaleTimer.unref();
  }

  /** Health-check every idle connection now. */
  checkNow(): Promise<{ checked: number; failed: number }> {
    return this.#dispatcher.checkNow();
  }

  /**
   * Stop admitting (ShutdownError), reject what is still queued (ShutdownError), give in-flight
   * work up to closeTimeoutMs, then close every connection and worker. Idempotent; always settles.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#autoscaleTimer);
      await this.#scheduler.close({ timeoutMs: this.config.closeTimeoutMs });
      await this.#dispatcher.close(this.config.closeTimeoutMs);
      this.#eventLoop.disable();
      this.#log.info({}, 'executor closed');
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Build, start and return an executor (fails fast with ConnectError if Weaviate is unreachable,
 * ConfigError if an option or the task module is wrong). Give the task module's type to get
 * `run()` checked against it: `createExecutor<typeof import('./tasks.js')>({ taskModule })`.
 */
export async function createExecutor<TaskModuleType = never>(
  options: CreateExecutorOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ExecutorFor<TaskModuleType>> {
  const { logger, logLevel, clock, ...rest } = options;
  const config = resolveExecutorConfig(rest, env);
  const executor = new Executor(config, { logger: resolveLogger({ logger, logLevel }), clock: clock ?? systemClock });
  try {
    return (await executor.start()) as ExecutorFor<TaskModuleType>;
  } catch (error) {
    await executor.close().catch(() => {});
    throw error;
  }
}
