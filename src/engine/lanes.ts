/**
 * Priority lanes. Each lane has a bounded queue, a weight, optional reserved slots and an
 * optional concurrency cap. The choice of which lane goes next is a pure function of the
 * lanes' state (`pickLane`), used by `LaneQueue`, the `queueClass` p-queue runs on.
 *
 * The policy (docs/architecture.md has the reasoning):
 * - Stride scheduling (Waldspurger & Weihl, 1995): every lane has a `pass`; the eligible lane
 *   with the smallest pass goes next and its pass grows by 1/weight. Lanes that are all
 *   backlogged share dispatches in proportion to their weights, so no lane starves: under a
 *   flood of critical work (weight 4) normal work (weight 1) still gets 1 dispatch in 5.
 * - A lane that was idle re-enters at the current virtual time (no banked credit), and ties go
 *   to the lane listed first, so a critical request arriving behind a normal backlog is
 *   dispatched at the next free slot.
 * - Reserved slots (Netflix concurrency-limits' partitions, without borrowing): a slot reserved
 *   for a lane and not in use by it cannot be taken by another lane, so critical work finds a
 *   free slot at once even while normal work floods. `maxConcurrency` caps a lane's slots.
 */
import * as v from '../validate.ts';
import { ADAPTIVE_DEFAULTS, resolveAdaptive, type AdaptiveLimitConfig, type AdaptiveLimitOptions } from './adaptive-limit.ts';
import { WRITE_BATCH_KEYS, resolveWriteBatch, type WriteBatchConfig, type WriteBatchOptions } from './write-batcher.ts';

export interface LaneOptions {
  /** Relative share of dispatches when lanes compete. @default critical 4, others 1 */
  weight?: number;
  /** Slots no other lane may take, even while this lane is idle. @default critical 1 when there are >= 4 slots, else 0; others 0 */
  reserved?: number;
  /** Most slots this lane may use at once. @default no cap */
  maxConcurrency?: number;
  /** Queue bound; a full lane rejects new work at once with QueueFullError. @default 1000 (critical), 10000 (others) */
  maxQueue?: number;
  /** Deadline for work that sets none. @default the executor's defaultDeadlineMs */
  defaultDeadlineMs?: number;
  /**
   * Worker threads that serve only this lane (its own event loop, heap and sub-pool), so its
   * requests never wait behind another lane's decoding or GC pauses. At least one worker must
   * remain for the other lanes. @default 0
   */
  dedicatedWorkers?: number;
  /**
   * A concurrency limit found from this lane's measured latency (Gradient2, src/engine/adaptive-limit.ts):
   * the lane's slots shrink when its latency rises and grow back while it stays stable, and, when
   * a `critical` lane exists, also when critical work's p99 rises above 1.25x its value measured
   * with this lane pinned low (the tail guard; `{ protect: [] }` turns it off).
   * `maxConcurrency` still caps it. `true` for the defaults, or options. @default false
   */
  adaptive?: boolean | AdaptiveLimitOptions;
  /**
   * Identical reads in flight on this lane go to Weaviate once; the others wait for that answer
   * and get their own copy (src/engine/coalesce.ts; counted in stats as `coalesced`). @default false
   */
  coalesce?: boolean;
  /**
   * Small `insertMany` calls arriving close together are sent as one insert (src/engine/write-batcher.ts):
   * `true` for the defaults (at most 200 objects, waiting at most 5 ms) or `{ maxObjects, maxDelayMs }`
   * (VECTOR_STORE_LANES: `batch=1`, or `batch.maxObjects=...,batch.maxDelayMs=...`). @default false
   */
  batchWrites?: boolean | WriteBatchOptions;
}

export interface LaneConfig {
  name: string;
  weight: number;
  reserved: number;
  maxConcurrency: number;
  maxQueue: number;
  defaultDeadlineMs: number | undefined;
  dedicatedWorkers: number;
  /** Adaptive limit of the lane; undefined = off. */
  adaptive?: AdaptiveLimitConfig | undefined;
  /**
   * `adaptive.maxLimit` was not given: the limit's max is the slots the lane can use, also after
   * `resize()` (`adaptive.maxLimit` then shows them at start). Otherwise the given `maxLimit` is
   * kept, capped by those slots (`adaptiveBounds`). @default false
   */
  adaptiveMaxFromSlots?: boolean;
  /** Join identical reads in flight. */
  coalesce?: boolean;
  /** Micro-batching of writes; undefined = off. */
  batchWrites?: WriteBatchConfig | undefined;
}

export const DEFAULT_LANES: Readonly<Record<string, LaneOptions>> = Object.freeze({
  critical: { weight: 4, maxQueue: 1000 },
  normal: { weight: 1, maxQueue: 10_000 },
});

const LANE_NAME = /^[a-z][a-z0-9_-]{0,31}$/;

/**
 * `VECTOR_STORE_LANES`: `name:key=value,...;name:...` with keys weight, reserved, concurrency,
 * queue, deadline (seconds), workers (dedicated worker threads), adaptive (1/0: a limit from latency), coalesce (1/0: join identical reads), batch (1/0: micro-batch small writes),
 * `adaptive.<option>=value` for each option of the adaptive limit (AdaptiveLimitOptions, by its
 * name: `adaptive.tolerance=1.3`, `adaptive.probeSamples=0`; giving one turns `adaptive` on), where
 * `adaptive.protect` is a `|`-separated list of lanes (`adaptive.protect=critical|bulk`; empty: the
 * tail guard off), and `batch.<option>=value` for each option of write micro-batching
 * (WriteBatchOptions: `batch.maxObjects=500,batch.maxDelayMs=2`; giving one turns `batch` on).
 * Example: `critical:weight=8,reserved=2,workers=1;normal:queue=20000,adaptive.protect=;bulk:weight=0.5,batch.maxDelayMs=10`.
 */
export function parseLanesEnv(text: string): Record<string, LaneOptions> {
  const source: v.Source = { name: 'VECTOR_STORE_LANES', kind: 'env' };
  const out: Record<string, LaneOptions> = {};
  const adaptiveGiven = new Map<string, Record<string, unknown>>();
  for (const part of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const [rawName, rest = ''] = part.split(':', 2) as [string, string?];
    const name = rawName.trim();
    if (!LANE_NAME.test(name)) v.fail(source, 'lanes as `name:key=value,...;...` with lower-case names', part);
    const lane: LaneOptions = {};
    const given: Record<EnvGroup, Record<string, unknown>> = { adaptive: {}, batch: {} };
    for (const kv of rest.split(',').map((s) => s.trim()).filter(Boolean)) {
      const [key, value] = kv.split('=', 2) as [string, string?];
      const at = { name: `VECTOR_STORE_LANES (${name}.${key})`, kind: 'env' as const };
      const dot = key.indexOf('.');
      const group = key.slice(0, dot);
      if (dot > 0 && isEnvGroup(group)) {
        given[group][key.slice(dot + 1)] = envGroupValue(at, group, key.slice(dot + 1), value);
        continue;
      }
      switch (key) {
        case 'weight': lane.weight = v.number(at, value, { min: 0, exclusiveMin: true }); break;
        case 'reserved': lane.reserved = v.integer(at, value, 0); break;
        case 'concurrency': lane.maxConcurrency = v.integer(at, value, 1); break;
        case 'queue': lane.maxQueue = v.integer(at, value, 0); break;
        case 'deadline': lane.defaultDeadlineMs = Math.round(v.number(at, value, { min: 0, exclusiveMin: true, unit: 'seconds' }) * 1000); break;
        case 'workers': lane.dedicatedWorkers = v.integer(at, value, 0); break;
        case 'adaptive': lane.adaptive = v.boolean(at, value); break;
        case 'coalesce': lane.coalesce = v.boolean(at, value); break;
        case 'batch': lane.batchWrites = v.boolean(at, value); break;
        default: v.fail(source, 'keys among weight, reserved, concurrency, queue, deadline, workers, adaptive, coalesce, batch, adaptive.<option>, batch.<option>', kv);
      }
    }
    for (const group of ENV_GROUP_NAMES) {
      const options = given[group];
      if (Object.keys(options).length === 0) continue;
      const { field } = ENV_GROUPS[group];
      const prefix = `VECTOR_STORE_LANES (${name}.${group}`;
      if (lane[field] === false) {
        v.conflict(`\`${prefix})\` is off (${group}=0) but ${group} options are given (${Object.keys(options).map((k) => `${group}.${k}`).join(', ')})`, { variable: 'VECTOR_STORE_LANES', lane: name });
      }
      // Bounds checked here, so that a bad value names the variable.
      ENV_GROUPS[group].check(`${prefix})`, options, (k) => ({ name: `${prefix}.${k})`, kind: 'env' }));
      (lane as Record<string, unknown>)[field] = options;
    }
    if (Object.keys(given.adaptive).length) adaptiveGiven.set(name, given.adaptive);
    out[name] = lane;
  }
  // `protect` names lanes: those of the variable plus the ones that always exist.
  const names = new Set([...Object.keys(DEFAULT_LANES), ...Object.keys(out)]);
  for (const [name, options] of adaptiveGiven) {
    for (const p of (options['protect'] as string[] | undefined) ?? []) {
      if (p === name || !names.has(p)) {
        v.fail({ name: `VECTOR_STORE_LANES (${name}.adaptive.protect)`, kind: 'env' }, `other lanes (${[...names].filter((n) => n !== name).join(', ')}) separated by |`, (options['protect'] as string[]).join('|'));
      }
    }
  }
  return out;
}

/**
 * Option groups VECTOR_STORE_LANES sets one option at a time, `<group>.<option>=value`: the lane
 * field they fill, the options (all of the group's options type) and the check of their bounds.
 */
const ENV_GROUPS = {
  adaptive: {
    field: 'adaptive',
    what: 'an adaptive option',
    keys: ['initialLimit', 'maxLimit', ...Object.keys(ADAPTIVE_DEFAULTS), 'protect'],
    // The lane's slots are not known yet (max and initial default to them in resolveLanes), so
    // any large count stands in.
    check: (name: string, o: Record<string, unknown>, at: (k: string) => v.Source) => resolveAdaptive(name, o as AdaptiveLimitOptions, Number.MAX_SAFE_INTEGER, at),
  },
  batch: {
    field: 'batchWrites',
    what: 'a batch option',
    keys: WRITE_BATCH_KEYS,
    check: (name: string, o: Record<string, unknown>, at: (k: string) => v.Source) => resolveWriteBatch(name, o as WriteBatchOptions, at),
  },
} as const satisfies Record<string, { field: keyof LaneOptions; what: string; keys: readonly string[]; check: unknown }>;
type EnvGroup = keyof typeof ENV_GROUPS;
const ENV_GROUP_NAMES = Object.keys(ENV_GROUPS) as EnvGroup[];
const isEnvGroup = (s: string): s is EnvGroup => Object.hasOwn(ENV_GROUPS, s);

/** One `<group>.<key>=value`: a number, or for `adaptive.protect` a `|`-separated list of lane names (empty = none). */
function envGroupValue(at: v.Source, group: EnvGroup, key: string, value: string | undefined): number | string[] {
  const { keys, what } = ENV_GROUPS[group];
  if (!(keys as readonly string[]).includes(key)) v.fail(at, `${what} (${keys.join(', ')})`, key);
  if (key !== 'protect') {
    // Bounds (and integer-ness) are the group's check, made by the caller under this name.
    const n = value === undefined || value.trim() === '' ? Number.NaN : Number(value.trim());
    return Number.isFinite(n) ? n : v.fail(at, 'a number', value);
  }
  const names = (value ?? '').split('|').map((s) => s.trim());
  if (names.length === 1 && names[0] === '') return [];
  if (names.some((n) => !LANE_NAME.test(n))) v.fail(at, 'lane names separated by | (empty: the tail guard off)', value);
  return names;
}

/**
 * Lanes as a `VECTOR_STORE_LANES` value, the inverse of parseLanesEnv: `parseLanesEnv(formatLanesEnv(x))`
 * equals `x` for lanes the variable can state (whole milliseconds of deadline; an empty options
 * object for `adaptive` or `batchWrites`, which means the defaults, comes back as `true`). A lane
 * with nothing set is written as its bare name, so that it still exists.
 */
export function formatLanesEnv(lanes: Readonly<Record<string, LaneOptions>>): string {
  const parts: string[] = [];
  for (const [name, lane] of Object.entries(lanes)) {
    const kv: string[] = [];
    if (lane.weight !== undefined) kv.push(`weight=${lane.weight}`);
    if (lane.reserved !== undefined) kv.push(`reserved=${lane.reserved}`);
    if (lane.maxConcurrency !== undefined) kv.push(`concurrency=${lane.maxConcurrency}`);
    if (lane.maxQueue !== undefined) kv.push(`queue=${lane.maxQueue}`);
    if (lane.defaultDeadlineMs !== undefined) kv.push(`deadline=${lane.defaultDeadlineMs / 1000}`);
    if (lane.dedicatedWorkers !== undefined) kv.push(`workers=${lane.dedicatedWorkers}`);
    formatGroup(kv, 'adaptive', lane.adaptive);
    if (lane.coalesce !== undefined) kv.push(`coalesce=${lane.coalesce ? 1 : 0}`);
    formatGroup(kv, 'batch', lane.batchWrites);
    parts.push(kv.length ? `${name}:${kv.join(',')}` : name);
  }
  return parts.join(';');
}

/** `<group>=1` or `=0`, then `<group>.<option>=value` for each option given. */
function formatGroup(kv: string[], group: EnvGroup, value: boolean | object | undefined): void {
  if (value === undefined) return;
  kv.push(`${group}=${value === false ? 0 : 1}`);
  if (typeof value !== 'object') return;
  for (const [k, x] of Object.entries(value)) {
    if (x !== undefined) kv.push(`${group}.${k}=${Array.isArray(x) ? x.join('|') : String(x)}`);
  }
}

/** Defaults merged with the user's lanes (critical and normal always exist), validated. */
export function resolveLanes(options: Record<string, LaneOptions> | undefined, slots: number): LaneConfig[] {
  const merged: Record<string, LaneOptions> = { ...DEFAULT_LANES };
  for (const [name, lane] of Object.entries(options ?? {})) merged[name] = { ...(DEFAULT_LANES[name] ?? {}), ...lane };
  const lanes: LaneConfig[] = [];
  const reservedOf = (name: string, lane: LaneOptions): number =>
    lane.reserved === undefined ? (name === 'critical' && slots >= 4 ? 1 : 0) : v.integer({ name: `lanes.${name}.reserved`, kind: 'option' }, lane.reserved, 0);
  let allReserved = 0;
  for (const [name, lane] of Object.entries(merged)) {
    if (!LANE_NAME.test(name)) v.fail({ name: 'lanes', kind: 'option' }, 'lane names matching /^[a-z][a-z0-9_-]{0,31}$/', name);
    v.knownKeys({ name: `lanes.${name}`, kind: 'option' }, lane as Record<string, unknown>, ['weight', 'reserved', 'maxConcurrency', 'maxQueue', 'defaultDeadlineMs', 'dedicatedWorkers', 'adaptive', 'coalesce', 'batchWrites']);
    allReserved += reservedOf(name, lane);
  }
  for (const [name, lane] of Object.entries(merged)) {
    const at = (key: string): v.Source => ({ name: `lanes.${name}.${key}`, kind: 'option' });
    const reserved = reservedOf(name, lane);
    lanes.push({
      name,
      weight: lane.weight === undefined ? 1 : v.number(at('weight'), lane.weight, { min: 0, exclusiveMin: true }),
      reserved,
      maxConcurrency: lane.maxConcurrency === undefined ? Number.POSITIVE_INFINITY : v.integer(at('maxConcurrency'), lane.maxConcurrency, 1),
      maxQueue: lane.maxQueue === undefined ? 10_000 : v.integer(at('maxQueue'), lane.maxQueue, 0),
      defaultDeadlineMs:
        lane.defaultDeadlineMs === undefined ? undefined : v.number(at('defaultDeadlineMs'), lane.defaultDeadlineMs, { min: 0, exclusiveMin: true }),
      dedicatedWorkers: lane.dedicatedWorkers === undefined ? 0 : v.integer(at('dedicatedWorkers'), lane.dedicatedWorkers, 0, 64),
      adaptive: adaptiveOf(name, lane, slots, Object.keys(merged), allReserved - reserved),
      adaptiveMaxFromSlots: typeof lane.adaptive === 'object' && lane.adaptive !== null ? lane.adaptive.maxLimit === undefined : true,
      coalesce: lane.coalesce === undefined ? false : v.boolean(at('coalesce'), lane.coalesce),
      batchWrites: lane.batchWrites === undefined || lane.batchWrites === false ? undefined : resolveWriteBatch(`lanes.${name}.batchWrites`, lane.batchWrites),
    });
  }
  checkReserved(lanes, slots);
  for (const lane of lanes) {
    for (const p of lane.adaptive?.protect ?? []) {
      if (p === lane.name || !lanes.some((l) => l.name === p)) {
        v.conflict(`\`lanes.${lane.name}.adaptive.protect\` names \`${p}\`, which is ${p === lane.name ? 'the lane itself' : 'not a lane'} (lanes: ${lanes.map((l) => l.name).join(', ')})`, { option: `lanes.${lane.name}.adaptive.protect` });
      }
    }
  }
  return lanes;
}

/**
 * A lane's adaptive limit options, validated (against the engine's `slots`, less the lane's
 * `maxConcurrency`); max defaults to the slots the lane can use: those less the other lanes'
 * reservations (unless a given initial or min limit is above that). The tail
 * guard (`protect`) defaults to the `critical` lane when there is one and this lane is another:
 * a limit driven by the lane's own latency cannot see the tail it makes critical work pay
 * (bench/RESULTS.md, 2026-11-26), and keeping critical latency is what lanes are for.
 */
function adaptiveOf(name: string, lane: LaneOptions, slots: number, laneNames: readonly string[], othersReserved: number): AdaptiveLimitConfig | undefined {
  const a = lane.adaptive;
  if (a === undefined || a === false) return undefined;
  const at = `lanes.${name}.adaptive`;
  if (a !== true && (typeof a !== 'object' || a === null || Array.isArray(a))) v.fail({ name: at, kind: 'option' }, 'a boolean or an object', a);
  const usable = lane.maxConcurrency === undefined ? slots : Math.min(slots, Number(lane.maxConcurrency));
  const options: AdaptiveLimitOptions = a === true ? {} : a;
  const protect = name !== 'critical' && laneNames.includes('critical') ? ['critical'] : [];
  const config = resolveAdaptive(at, options.protect === undefined ? { ...options, protect } : options, usable);
  if (options.maxLimit !== undefined || othersReserved === 0) return config;
  // The other lanes' reservations are never lent, so the scheduler's bounds (adaptiveBounds) leave
  // them out: the resolved max shows what the lane gets. Not when a given initial or min limit is
  // above it: the scheduler clamps those at start (a `bounds` change), and a min limit comes back
  // when the slots grow (resize), which it could not once lowered here.
  const max = Math.max(1, Math.min(usable, slots - othersReserved));
  return config.initialLimit > max || config.minLimit > max ? config : { ...config, maxLimit: max };
}

/**
 * The bounds of a lane's adaptive limit with `slots` slots in the engine, `othersReserved` of them
 * reserved by the other lanes, and the lane capped at `slotCap` (its dedicated workers'
 * connections x streams, or the shared workers' that it shares with the lanes of its group, which
 * reserve `groupOthersReserved` of them): the max is the slots the lane can use (the engine's slots less the
 * other lanes' reservations, its `maxConcurrency` and its cap, at least 1) or, when `maxLimit`
 * was given, the smaller of it and those; the min is `minLimit`, or the max when that is smaller.
 * The scheduler applies them at start and whenever the slots change (`resize()`): a user who gave
 * `maxLimit: 20` gets 20 at 32 slots, 8 at 8 slots and 20 again at 32; one who gave none gets all
 * the lane's slots each time. A limit never counts on slots the lane cannot have, and reserved
 * slots of another lane are such slots: they are never lent (`isEligible`: a lane dispatches only
 * while in flight + the others' unused reservations < slots), so with 16 slots and critical's 1
 * reserved the normal lane runs at most 15, however idle critical is. Pure.
 */
export function adaptiveBounds(
  lane: LaneConfig, slots: number, slotCap = Number.POSITIVE_INFINITY, othersReserved = 0, groupOthersReserved = 0,
): { minLimit: number; maxLimit: number } | undefined {
  const a = lane.adaptive;
  if (!a) return undefined;
  const usable = Math.max(1, Math.min(slots - othersReserved, lane.maxConcurrency, slotCap - groupOthersReserved));
  const maxLimit = lane.adaptiveMaxFromSlots ? usable : Math.min(a.maxLimit, usable);
  return { minLimit: Math.min(a.minLimit, maxLimit), maxLimit };
}

/**
 * Reserved slots must leave at least one slot to the lanes without a reservation (and never
 * exceed the total): otherwise those lanes are never eligible. Checked at start and on resize.
 */
export function checkReserved(lanes: readonly LaneConfig[], slots: number, where = 'maxConnections x maxStreamsPerConnection'): void {
  const reserved = lanes.reduce((sum, l) => sum + l.reserved, 0);
  if (reserved > slots || (reserved === slots && lanes.some((l) => l.reserved === 0))) {
    v.conflict(
      `Lanes reserve ${reserved} slots of ${slots} (${where}); some lanes could never run. Lower \`reserved\` or raise maxConnections`,
      { option: 'lanes', reserved, slots },
    );
  }
}

/**
 * With dedicated workers, the lanes without them share the other workers' slots (`sharedSlots`:
 * balancer.ts `sharedSlotCap`), and their reservations must leave one of those to the ones
 * without a reservation, as `checkReserved` asks of the engine's slots.
 */
export function checkSharedReserved(lanes: readonly LaneConfig[], sharedSlots: number): void {
  if (!lanes.some((l) => l.dedicatedWorkers > 0)) return;
  checkReserved(lanes.filter((l) => l.dedicatedWorkers === 0), sharedSlots, 'the connections of the workers without a dedicated lane x maxStreamsPerConnection');
}

/** What `pickLane` needs to know of a lane. */
export interface LaneView {
  readonly config: LaneConfig;
  /**
   * Most slots the lane can use given where its work can run (a lane with dedicated workers:
   * their connections x streams). Below `config.maxConcurrency` when that is lower. @default Infinity
   */
  slotCap?: number;
  /**
   * Lanes with the same group run on the same workers and share `slotCap` (the lanes without
   * dedicated workers, when some lane has them): their in flight together stays below it, and
   * within it the group's other lanes' unused reservations are held back. @default undefined (alone)
   */
  slotGroup?: number | undefined;
  /** The lane's adaptive limit now (src/engine/adaptive-limit.ts). @default Infinity */
  adaptiveCap?: number;
  queued: number;
  inFlight: number;
  pass: number;
}

/** Reserved slots of other lanes that those lanes do not use now. */
function heldBack(lanes: readonly LaneView[], except: LaneView): number {
  let held = 0;
  for (const l of lanes) if (l !== except) held += Math.max(0, l.config.reserved - l.inFlight);
  return held;
}

export function isEligible(lane: LaneView, lanes: readonly LaneView[], slots: number): boolean {
  if (lane.queued === 0 || lane.inFlight >= Math.min(lane.config.maxConcurrency, lane.adaptiveCap ?? Infinity)) return false;
  const cap = lane.slotCap ?? Infinity;
  if (cap !== Infinity) {
    let used = lane.inFlight;
    if (lane.slotGroup !== undefined) {
      for (const l of lanes) if (l !== lane && l.slotGroup === lane.slotGroup) used += l.inFlight + Math.max(0, l.config.reserved - l.inFlight);
    }
    if (used >= cap) return false;
  }
  const inFlight = lanes.reduce((sum, l) => sum + l.inFlight, 0);
  return inFlight + heldBack(lanes, lane) < slots;
}

/** The next lane to dispatch from: eligible, smallest pass, ties to the lane listed first. */
export function pickLane<L extends LaneView>(lanes: readonly L[], slots: number): L | undefined {
  let best: L | undefined;
  for (const lane of lanes) {
    if (!isEligible(lane, lanes, slots)) continue;
    if (best === undefined || lane.pass < best.pass) best = lane;
  }
  return best;
}

interface Item {
  run: () => Promise<void>;
  id: string;
  /** Stride cost of dispatching it (cost-aware lanes: its kind's measured cost; else 1). */
  cost: number;
  /** Neighbours in the lane's FIFO; `linked` is false once the item left it (run or removed). */
  prev: Item | undefined;
  next: Item | undefined;
  linked: boolean;
}

export class LaneState implements LaneView {
  readonly config: LaneConfig;
  /** Items in the FIFO: kept equal to the list's length by push/unlink, the only writers. */
  queued = 0;
  inFlight = 0;
  /** Running work whose caller was already answered (deadline or abort); it still holds its slot. */
  overdue = 0;
  slotCap = Number.POSITIVE_INFINITY;
  slotGroup: number | undefined = undefined;
  adaptiveCap = Number.POSITIVE_INFINITY;
  pass = 0;
  /**
   * FIFO as a doubly linked list: a removed (shed, aborted) item is unlinked at once, in O(1),
   * so the lane holds no memory for work that will never run.
   */
  #head: Item | undefined;
  #tail: Item | undefined;
  constructor(config: LaneConfig) {
    this.config = config;
  }
  push(item: Item): void {
    item.prev = this.#tail;
    item.next = undefined;
    item.linked = true;
    if (this.#tail) this.#tail.next = item;
    else this.#head = item;
    this.#tail = item;
    this.queued++;
  }
  unlink(item: Item): void {
    if (!item.linked) return;
    item.linked = false;
    if (item.prev) item.prev.next = item.next;
    else this.#head = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.#tail = item.prev;
    item.prev = item.next = undefined;
    this.queued--;
  }
  shift(): Item | undefined {
    const item = this.#head;
    if (item) this.unlink(item);
    return item;
  }
  *items(): IterableIterator<Item> {
    for (let item = this.#head; item; item = item.next) yield item;
  }
  /** Entries this lane's queue holds in memory (counted by walking it, not from `queued`). */
  held(): number {
    let n = 0;
    for (let item = this.#head; item; item = item.next) n++;
    return n;
  }
}

/**
 * p-queue `queueClass`. `size` counts only work that may start now (eligible lanes), so p-queue
 * never asks for a task the lane policy would refuse; when a running task ends, p-queue asks
 * again and the policy is re-evaluated.
 */
export class LaneQueue {
  readonly lanes: LaneState[];
  readonly #byName: Map<string, LaneState>;
  readonly #byId = new Map<string, { item: Item; lane: LaneState }>();
  /** Total slots (p-queue's concurrency); read on every decision so a resize applies at once. */
  slots: () => number;
  #virtualTime = 0;

  constructor(configs: readonly LaneConfig[], slots: () => number) {
    this.lanes = configs.map((c) => new LaneState(c));
    this.#byName = new Map(this.lanes.map((l) => [l.config.name, l]));
    this.slots = slots;
  }

  lane(name: string): LaneState | undefined {
    return this.#byName.get(name);
  }

  enqueue(run: () => Promise<void>, options: { id?: string; lane?: string; cost?: number } = {}): void {
    const lane = this.#byName.get(options.lane ?? 'normal');
    if (!lane) throw new Error(`unknown lane ${options.lane}`);
    if (lane.queued === 0) lane.pass = Math.max(lane.pass, this.#virtualTime);
    const item: Item = { run, id: options.id ?? '', cost: options.cost ?? 1, prev: undefined, next: undefined, linked: false };
    lane.push(item);
    if (item.id) this.#byId.set(item.id, { item, lane });
  }

  dequeue(): (() => Promise<void>) | undefined {
    const lane = pickLane(this.lanes, this.slots());
    if (!lane) return undefined;
    const item = lane.shift();
    if (!item) return undefined;
    this.#byId.delete(item.id);
    this.#virtualTime = lane.pass;
    lane.pass += item.cost / lane.config.weight;
    return item.run;
  }

  remove(id: string | (() => Promise<void>)): void {
    if (typeof id !== 'string') return;
    const entry = this.#byId.get(id);
    if (!entry) return;
    this.#byId.delete(id);
    entry.lane.unlink(entry.item);
  }

  /** Work that may start now. */
  get size(): number {
    let n = 0;
    const slots = this.slots();
    for (const lane of this.lanes) if (isEligible(lane, this.lanes, slots)) n += lane.queued;
    return n;
  }

  /** Everything queued, eligible or not. */
  get queued(): number {
    return this.lanes.reduce((sum, l) => sum + l.queued, 0);
  }

  filter(options: { lane?: string }): (() => Promise<void>)[] {
    const lane = options.lane ? this.#byName.get(options.lane) : undefined;
    const out: (() => Promise<void>)[] = [];
    for (const l of lane ? [lane] : this.lanes) {
      for (const item of l.items()) out.push(item.run);
    }
    return out;
  }

  setPriority(): void {
    throw new Error('Priorities are lanes here: submit to another lane instead of changing priority');
  }
}
