/**
 * The executor's configuration: the pool's (the note's variables, engine-wide min/max) plus
 * workers, lanes and deadlines. Options > env > defaults; validated once, frozen.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { resolvePoolConfig, MAX_TIMER_MS, type PoolConfig, type PoolOptions } from '../pool/config.ts';
import type { DeclaredCollection } from '../query/schema.ts';
import * as v from '../validate.ts';
import { AUTOSCALE_DEFAULTS, type AutoscaleConfig } from './autoscale.ts';
import { MAX_ISOLATED_GROUPS, sharedSlotCap } from './balancer.ts';
import { splitShares } from './dispatcher.ts';
import { checkSharedReserved, parseLanesEnv, resolveLanes, type LaneConfig, type LaneOptions } from './lanes.ts';

export interface EngineOptions {
  /** Worker threads; 0 runs everything on the caller's thread. Env `VECTOR_STORE_WORKERS`. @default max(1, min(cores - 1, maxConnections)) */
  workers?: number;
  /** Lanes besides (or overriding) critical and normal. Env `VECTOR_STORE_LANES`. */
  lanes?: Record<string, LaneOptions>;
  /** Deadline of work that sets none and whose lane sets none. Env `VECTOR_STORE_DEFAULT_DEADLINE` (seconds). @default 30_000 */
  defaultDeadlineMs?: number;
  /** Module whose exported functions `run(name, args)` calls in the workers with a leased client. */
  taskModule?: string | URL;
  /** Vector dimensions per collection, for validation (learnt from a stored object when not given). */
  collections?: Record<string, DeclaredCollection>;
  /** Check specs against the live schema (property names, types, vector length). @default true */
  validateAgainstSchema?: boolean;
  /** Bound of each control call to a worker (stats, resize, ...). @default 2_000 */
  controlTimeoutMs?: number;
  /** Bound of close(): in-flight work gets this long to finish. @default 10_000 */
  closeTimeoutMs?: number;
  /** A worker whose control port stays silent this long is terminated and replaced; 0 = never. @default 30_000 */
  watchdogTerminateMs?: number;
  /** Log level inside workers. @default 'warn' */
  workerLogLevel?: string;
  /**
   * The note's dynamic sizing: grow max by 2 above 80 % utilisation, shrink by 1 below 20 %,
   * within 5..20, every 5 s (`true` for those defaults, or an object to change them).
   * Env `VECTOR_STORE_AUTOSCALE=true`. @default off
   */
  autoscale?: boolean | Partial<AutoscaleConfig>;
  /**
   * Nice increment of worker threads (Linux), so that the main thread gets the CPU first when the
   * cores are busy. Env `VECTOR_STORE_WORKER_NICE`. @default 0
   */
  workerNice?: number;
  /**
   * Lanes share the server's time, not its request count: each dispatch advances its lane's
   * stride pass by its kind's measured cost (src/engine/cost.ts), so expensive queries
   * (hybrid) count for more than cheap ones (bm25). Env `VECTOR_STORE_COST_AWARE_LANES=true`. @default false
   */
  costAwareLanes?: boolean;
  /**
   * How a worker hands a lean-path read result to the main thread: `bytes` posts the reply's
   * protobuf bytes (transferred, not copied) and the main thread decodes them; `objects` decodes
   * in the worker and posts the result objects (a structured clone). Only with workers > 0 and
   * `queryPath: 'lean'`. Env `VECTOR_STORE_REPLY_HANDOFF`. @default 'bytes' (bench/RESULTS.md)
   */
  replyHandoff?: ReplyHandoff;
  /**
   * With `replyHandoff: 'bytes'`: the main thread decodes handed replies for at most this long
   * per event-loop turn, then lets timers and I/O run before it decodes more (a burst of large
   * replies otherwise blocks the loop for all of them); 0 decodes each reply as it arrives.
   * @default 1 (bench/RESULTS.md: with large results it halved the saturated main-thread loop
   * p99 or better at the same throughput, for 0.07-0.5 ms more CPU per large query)
   */
  decodeSliceMs?: number;
  /**
   * V8 heap limits of each worker thread (Node's `Worker` `resourceLimits`; the main thread keeps
   * its own). `maxYoungGenerationSizeMb` trades how long a worker's young-generation collection
   * (scavenge) pauses it against how often: with V8's default young generation a worker under
   * load paused a median 7 ms and up to 30 ms about once a second, and a critical answer that
   * meets such a pause waits it out (bench/RESULTS.md, 2026-11-28 01:38Z). A worker that runs
   * out of its old generation dies with ERR_WORKER_OUT_OF_MEMORY and is replaced; its requests
   * fail (reads once retried on another worker). Keys not given keep their defaults. Env
   * `VECTOR_STORE_WORKER_YOUNG_GENERATION_MB`, `VECTOR_STORE_WORKER_OLD_GENERATION_MB` (per key).
   * @default `{ maxYoungGenerationSizeMb: 12 }` (V8's own for the rest): against V8's 192 MB here,
   * the critical p99 under overload was lower in 11 of 12 alternating pairs of trials (median
   * 0.84x) at the same normal goodput (bench/RESULTS.md, 2026-11-28 01:55Z)
   */
  workerResourceLimits?: WorkerResourceLimits;
}

/** The part of Node's `ResourceLimits` the engine passes to its workers (MB). */
export interface WorkerResourceLimits {
  maxYoungGenerationSizeMb?: number;
  maxOldGenerationSizeMb?: number;
  stackSizeMb?: number;
}

export const REPLY_HANDOFFS = ['bytes', 'objects'] as const;
export type ReplyHandoff = (typeof REPLY_HANDOFFS)[number];

export type ExecutorOptions = PoolOptions & EngineOptions;

export interface ExecutorConfig {
  pool: Readonly<PoolConfig>;
  workers: number;
  lanes: readonly LaneConfig[];
  defaultDeadlineMs: number;
  taskModule: string | undefined;
  collections: Readonly<Record<string, DeclaredCollection>>;
  validateAgainstSchema: boolean;
  controlTimeoutMs: number;
  closeTimeoutMs: number;
  watchdogTerminateMs: number;
  workerLogLevel: string;
  workerNice: number;
  autoscale: Readonly<AutoscaleConfig> | undefined;
  costAwareLanes: boolean;
  replyHandoff: ReplyHandoff;
  decodeSliceMs: number;
  workerResourceLimits: Readonly<WorkerResourceLimits>;
}

const ENGINE_KEYS = [
  'workers', 'lanes', 'defaultDeadlineMs', 'taskModule', 'collections', 'validateAgainstSchema',
  'controlTimeoutMs', 'closeTimeoutMs', 'watchdogTerminateMs', 'workerLogLevel', 'workerNice', 'autoscale',
  'costAwareLanes', 'replyHandoff', 'decodeSliceMs', 'workerResourceLimits',
] as const;

export const ENGINE_ENV = Object.freeze({
  VECTOR_STORE_WORKERS: 'workers',
  VECTOR_STORE_LANES: 'lanes',
  VECTOR_STORE_DEFAULT_DEADLINE: 'defaultDeadlineMs',
  VECTOR_STORE_WORKER_NICE: 'workerNice',
  VECTOR_STORE_AUTOSCALE: 'autoscale',
  VECTOR_STORE_COST_AWARE_LANES: 'costAwareLanes',
  VECTOR_STORE_REPLY_HANDOFF: 'replyHandoff',
  VECTOR_STORE_WORKER_YOUNG_GENERATION_MB: 'workerResourceLimits.maxYoungGenerationSizeMb',
  VECTOR_STORE_WORKER_OLD_GENERATION_MB: 'workerResourceLimits.maxOldGenerationSizeMb',
} as const);

type Env = Readonly<Record<string, string | undefined>>;

export function resolveExecutorConfig(options: ExecutorOptions = {}, env: Env = process.env): Readonly<ExecutorConfig> {
  const engine: Record<string, unknown> = {};
  const poolOptions: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(options)) {
    if ((ENGINE_KEYS as readonly string[]).includes(k)) engine[k] = value;
    else poolOptions[k] = value;
  }
  const pool = resolvePoolConfig(poolOptions as PoolOptions, env);
  const opt = (name: string): v.Source => ({ name, kind: 'option' });
  const envSrc = (name: string): v.Source => ({ name, kind: 'env' });

  let workers: number;
  if (engine['workers'] !== undefined) workers = v.integer(opt('workers'), engine['workers'], 0, 256);
  else if (env['VECTOR_STORE_WORKERS']) workers = v.integer(envSrc('VECTOR_STORE_WORKERS'), env['VECTOR_STORE_WORKERS'], 0, 256);
  // One core is left to the main thread (it validates, schedules and answers callers):
  // measured on 2 cores, 1 worker cost less CPU per query than 2 at the same throughput.
  else workers = Math.max(1, Math.min(availableParallelism() - 1, pool.maxConnections));
  if (!pool.enabled) workers = 0; // legacy mode: one plain connection on the caller's thread
  if (workers > pool.maxConnections) {
    v.conflict(`\`workers\` (${workers}) must be <= \`maxConnections\` (${pool.maxConnections}): every worker needs at least one connection`, {
      option: 'workers', value: workers, maxConnections: pool.maxConnections,
    });
  }

  const lanesOption = engine['lanes'] !== undefined
    ? (v.plainObject(opt('lanes'), engine['lanes']) as Record<string, LaneOptions>)
    : env['VECTOR_STORE_LANES'] ? parseLanesEnv(env['VECTOR_STORE_LANES']) : undefined;
  const lanes = resolveLanes(lanesOption, pool.maxConnections * pool.maxStreamsPerConnection);
  const dedicated = lanes.filter((l) => l.dedicatedWorkers > 0);
  const dedicatedTotal = dedicated.reduce((sum, l) => sum + l.dedicatedWorkers, 0);
  if (dedicatedTotal > 0 && dedicatedTotal >= workers) {
    v.conflict(
      `Lanes ask for ${dedicatedTotal} dedicated worker(s) but the engine has ${workers}; at least one must serve the other lanes (raise \`workers\`)`,
      { option: 'lanes', dedicated: dedicatedTotal, workers },
    );
  }
  if (dedicated.length > MAX_ISOLATED_GROUPS) {
    v.conflict(`At most ${MAX_ISOLATED_GROUPS} lanes may have dedicated workers, got ${dedicated.length}`, { option: 'lanes' });
  }
  if (dedicatedTotal > 0) {
    const shares = splitShares(pool.minConnections, pool.maxConnections, workers).map((s) => s.max);
    checkSharedReserved(lanes, sharedSlotCap(dedicatedTotal, shares, pool.maxStreamsPerConnection));
  }

  let defaultDeadlineMs = 30_000;
  if (engine['defaultDeadlineMs'] !== undefined) {
    defaultDeadlineMs = v.number(opt('defaultDeadlineMs'), engine['defaultDeadlineMs'], { min: 0, max: MAX_TIMER_MS, exclusiveMin: true, unit: 'ms' });
  } else if (env['VECTOR_STORE_DEFAULT_DEADLINE']) {
    defaultDeadlineMs = 1000 * v.number(envSrc('VECTOR_STORE_DEFAULT_DEADLINE'), env['VECTOR_STORE_DEFAULT_DEADLINE'], { min: 0, max: MAX_TIMER_MS / 1000, exclusiveMin: true, unit: 'seconds' });
  }

  let taskModule: string | undefined;
  if (engine['taskModule'] !== undefined) {
    const t = engine['taskModule'];
    if (t instanceof URL) taskModule = t.href;
    else {
      const s = v.string(opt('taskModule'), t);
      taskModule = /^[a-z]+:/.test(s) ? s : pathToFileURL(s).href;
    }
  }
  let autoscale: AutoscaleConfig | undefined;
  const asRaw = engine['autoscale'] !== undefined ? engine['autoscale'] : env['VECTOR_STORE_AUTOSCALE'] ? v.boolean(envSrc('VECTOR_STORE_AUTOSCALE'), env['VECTOR_STORE_AUTOSCALE']) : undefined;
  if (asRaw === true || (typeof asRaw === 'object' && asRaw !== null)) {
    const o = asRaw === true ? {} : v.plainObject(opt('autoscale'), asRaw);
    v.knownKeys(opt('autoscale'), o, Object.keys(AUTOSCALE_DEFAULTS));
    const num = (k: keyof AutoscaleConfig, min: number, max: number, integer: boolean) =>
      o[k] === undefined ? AUTOSCALE_DEFAULTS[k] : integer ? v.integer(opt(`autoscale.${k}`), o[k], min, max) : v.number(opt(`autoscale.${k}`), o[k], { min, max });
    autoscale = Object.freeze({
      floor: num('floor', Math.max(1, workers), 1000, true),
      ceiling: num('ceiling', Math.max(1, workers), 1000, true),
      high: num('high', 0, 1, false),
      low: num('low', 0, 1, false),
      intervalMs: num('intervalMs', 100, MAX_TIMER_MS, false),
    });
    if (autoscale.floor > autoscale.ceiling || autoscale.low >= autoscale.high) {
      v.conflict(`autoscale needs floor <= ceiling and low < high, got ${JSON.stringify(autoscale)}`, { option: 'autoscale' });
    }
  } else if (asRaw !== undefined && asRaw !== false) {
    v.fail(opt('autoscale'), 'a boolean or an object', asRaw);
  }
  const ms = (key: string, fallback: number, min = 0): number =>
    engine[key] === undefined ? fallback : v.number(opt(key), engine[key], { min, max: MAX_TIMER_MS, unit: 'ms' });

  return Object.freeze({
    pool,
    workers,
    lanes,
    defaultDeadlineMs,
    taskModule,
    collections: Object.freeze({ ...((engine['collections'] as Record<string, DeclaredCollection> | undefined) ?? {}) }),
    validateAgainstSchema: engine['validateAgainstSchema'] === undefined ? true : v.boolean(opt('validateAgainstSchema'), engine['validateAgainstSchema']),
    controlTimeoutMs: ms('controlTimeoutMs', 2000, 1),
    closeTimeoutMs: ms('closeTimeoutMs', 10_000),
    watchdogTerminateMs: ms('watchdogTerminateMs', 30_000),
    autoscale,
    costAwareLanes:
      engine['costAwareLanes'] !== undefined
        ? v.boolean(opt('costAwareLanes'), engine['costAwareLanes'])
        : env['VECTOR_STORE_COST_AWARE_LANES']
          ? v.boolean(envSrc('VECTOR_STORE_COST_AWARE_LANES'), env['VECTOR_STORE_COST_AWARE_LANES'])
          : false,
    decodeSliceMs: ms('decodeSliceMs', 1),
    workerResourceLimits: resourceLimitsOf(engine['workerResourceLimits'], env),
    replyHandoff:
      engine['replyHandoff'] !== undefined
        ? v.oneOf(opt('replyHandoff'), engine['replyHandoff'], REPLY_HANDOFFS)
        : env['VECTOR_STORE_REPLY_HANDOFF']
          ? v.oneOf(envSrc('VECTOR_STORE_REPLY_HANDOFF'), env['VECTOR_STORE_REPLY_HANDOFF'], REPLY_HANDOFFS)
          : 'bytes',
    workerNice:
      engine['workerNice'] !== undefined
        ? v.integer(opt('workerNice'), engine['workerNice'], 0, 19)
        : env['VECTOR_STORE_WORKER_NICE']
          ? v.integer(envSrc('VECTOR_STORE_WORKER_NICE'), env['VECTOR_STORE_WORKER_NICE'], 0, 19)
          : 0,
    workerLogLevel: engine['workerLogLevel'] === undefined ? 'warn' : v.oneOf(opt('workerLogLevel'), engine['workerLogLevel'], ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  });
}

const RESOURCE_LIMIT_KEYS = ['maxYoungGenerationSizeMb', 'maxOldGenerationSizeMb', 'stackSizeMb'] as const;

/**
 * A worker's young generation: V8 sizes it from the machine's memory (192 MB on 24 GiB), and a
 * scavenge of it paused a worker under load a median 7 ms, up to 30 ms, once a second. At 12 MB
 * they pause ~2 ms, 7x as often; the critical p99 was lower in 11 of 12 pairs (bench/RESULTS.md).
 */
export const DEFAULT_WORKER_YOUNG_GENERATION_MB = 12;

function resourceLimitsOf(raw: unknown, env: Env): Readonly<WorkerResourceLimits> {
  const limits: WorkerResourceLimits = { maxYoungGenerationSizeMb: DEFAULT_WORKER_YOUNG_GENERATION_MB };
  // Options > env > defaults, key by key: an option object that sets only the stack keeps the env's heap sizes.
  for (const [name, key] of [
    ['VECTOR_STORE_WORKER_YOUNG_GENERATION_MB', 'maxYoungGenerationSizeMb'],
    ['VECTOR_STORE_WORKER_OLD_GENERATION_MB', 'maxOldGenerationSizeMb'],
  ] as const) {
    if (env[name]) limits[key] = v.number({ name, kind: 'env' }, env[name], { min: 1, max: 1_048_576, unit: 'MB' });
  }
  if (raw === undefined) return Object.freeze(limits);
  const source: v.Source = { name: 'workerResourceLimits', kind: 'option' };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) v.fail(source, 'an object', raw);
  const o = raw as Record<string, unknown>;
  v.knownKeys(source, o, RESOURCE_LIMIT_KEYS);
  for (const k of RESOURCE_LIMIT_KEYS) {
    if (o[k] !== undefined) limits[k] = v.number({ name: `workerResourceLimits.${k}`, kind: 'option' }, o[k], { min: k === 'stackSizeMb' ? 0.5 : 1, max: 1_048_576, unit: 'MB' });
  }
  return Object.freeze(limits);
}
