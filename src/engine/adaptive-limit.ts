/**
 * An adaptive concurrency limit found from measured latency: Gradient2 of Netflix
 * concurrency-limits (`Gradient2Limit`, fed by a `WindowedLimit`), as a pure class with an
 * injected clock. The scheduler uses one per lane that opts in (`adaptive: true`) as a dynamic
 * cap on that lane's slots; docs/architecture.md and docs/stats.md describe it.
 *
 * Per window of samples (each sample: the round-trip time of one request of the lane, from the
 * moment it took its slot to its end, and the lane's in-flight count when it started):
 *   shortRtt  = mean RTT of the window
 *   longRtt   = exponential average of the window means (600 windows; the first 10 a plain mean)
 *   gradient  = clamp(tolerance x longRtt / shortRtt, 0.5, 1)
 *   new       = L x gradient + queueSize
 *   L'        = (1 - smoothing) L + smoothing x new, clamped to [minLimit, maxLimit]
 * with their two guards: when longRtt > 2 x shortRtt the long average is pulled down by 5 %
 * (recovery after a long overload), and the limit does not change while the lane used less
 * than half of it (an app-limited lane says nothing about the server).
 *
 * Where we depart from their defaults (initial 20, min 20, max 200, queueSize 4, window 1 s,
 * tolerance 1.5, long window 600; Envoy: probe at 3), measured with `npm run bench:adaptive`
 * (bench/RESULTS.md, 2026-11-26 12:31Z): with Gradient2's tolerance 1.5, a probe at 3 and a start
 * at all slots the normal lane sat at 9-12 slots under the overload mix and critical p99 was
 * 51 ms against 16 ms at the best static cap; with the defaults below, 3-4 slots and 32 ms at
 * twice the static cap's goodput:
 * - min 1, max = the lane's slots: our lanes have 2..64 slots, not hundreds.
 * - initial 2, growing from there (Envoy also starts at its minimum): starting at all slots let
 *   a flood hold 30 slots for the ~2 s the gradient needs to come down (in flight above the
 *   limit for the first seconds of every trial).
 * - queueSize 0.5: the limit settles where L = L x gradient + queueSize, i.e. at
 *   queueSize / (1 - gradient); with 4 a lane under the strongest gradient (0.5) would never go
 *   below 8 slots, while `npm run tune` found 1-2 slots for normal work best under a flood.
 * - tolerance 1.25 (Envoy's 25 % buffer over min RTT): the normal lane's small queries barely
 *   slow down as their slots grow on 2 cores (2.9 ms at 1 slot, 2.9-4.5 ms at 4) while a
 *   critical hybrid's p99 doubles, so 1.5 let the lane take 9-12 slots.
 * - long window 6000 windows: theirs is 600 windows of 1 s (~10 min); with our 100 ms windows
 *   600 let the long average drift 20 % towards the flooded RTT within 8 s.
 * - windows of at least 10 samples AND 100 ms (theirs: 10 samples, 1 s), so a lane reacts
 *   within a fraction of a second of a flood.
 * - a window that saw a dropped request (deadline passed while running, connection timeout)
 *   cuts the limit by AIMD's factor 0.9 instead (their advice for clients), as Gradient2
 *   itself ignores drops.
 * - a no-load probe, from Envoy's adaptive concurrency filter: at start and then every 60 s the
 *   limit is pinned at 1 (Envoy: 3; on 2 cores 3 in flight already queue: the probe measured
 *   5.3-7.2 ms at 3 against 2.4-3.7 ms at 1) for 50 requests, and their mean RTT resets the long average. Gradient2
 *   alone learns "normal" latency from whatever it sees first: a lane that starts under a flood
 *   (or stays flooded for minutes, as the long average drifts up) would take the flooded RTT as
 *   normal and never cut. Envoy re-measures every 60 s with 15 % jitter; we do not jitter (one
 *   process, no herd to spread). `probeSamples: 0` turns probing off (pure Gradient2).
 * - the tail guard (`protect`, on by default for a lane other than `critical`): the lane's own
 *   RTT stayed at ~2.9 ms whether it held 1 or 4 slots while critical p99 doubled, so Gradient2
 *   on it cannot see the tail it makes other lanes pay. The probe also measures the protected
 *   lanes' round trips with this lane pinned at its probe limit (their p99, pooled with later
 *   stretches at that limit, is the base: learnt, never told); a ceiling over the limit then
 *   starts at the probe's limit and, once a second, steps one slot up while the protected p99
 *   (of >= 100 round trips) stays within 1.25x the base, or is cut when it does not, after
 *   which it waits 5 s (doubling per cut in a row, up to 60 s) before trying a slot more (see
 *   addGuardSample). The guard's target is relative to the base, so it holds the protected tail
 *   near what it is with this lane at 1 slot, not what it is with this lane idle.
 */
import * as v from '../validate.ts';

export interface AdaptiveLimitOptions {
  /** Limit at start (after the first probe). @default 2 (or maxLimit when smaller) */
  initialLimit?: number;
  /** Never below this. @default 1 */
  minLimit?: number;
  /** Never above this (a lane's limit: nor above the lane's slots now, also after `resize()`). @default the lane's slots */
  maxLimit?: number;
  /** Weight of a new estimate. @default 0.2 (Gradient2) */
  smoothing?: number;
  /**
   * RTT rise tolerated before the limit falls: longRtt x tolerance >= shortRtt is "no queueing".
   * @default 1.25 (Gradient2: 1.5; Envoy's buffer: 25 %); 2 with `guardTargetMs` (a told
   * objective is the guard's to hold, and Gradient2 then cuts only on a clear RTT rise:
   * `TOLD_TARGET_DEFAULTS`)
   */
  tolerance?: number;
  /** Headroom added each window (growth when stable). @default 0.5 (Gradient2: 4) */
  queueSize?: number;
  /** Windows in the long RTT average. @default 6000 (= Gradient2's 600 windows of 1 s: 10 min at our 100 ms windows) */
  longWindow?: number;
  /** A window closes after at least this many samples... @default 10 */
  windowSamples?: number;
  /** ...and at least this long, ms. @default 100 */
  windowMs?: number;
  /** Multiplier when a window saw a drop. @default 0.9 (AIMD) */
  backoff?: number;
  /** Limit while probing no-load latency. @default 1 (Envoy: 3) */
  probeLimit?: number;
  /** Requests per probe; 0 = never probe. @default 50 (Envoy) */
  probeSamples?: number;
  /** Time between probes, ms. @default 60_000 (Envoy) */
  probeIntervalMs?: number;
  /**
   * Lanes whose tail latency this limit also answers to (the tail guard, below). Default: the
   * `critical` lane when it exists and is not this lane (lanes.ts); `[]` turns the guard off.
   */
  protect?: readonly string[];
  /** The guard's target: the base (the protected lanes' p99 with this lane at its probe limit) x this. @default 1.25 */
  guardTolerance?: number;
  /**
   * The protected lanes' p99 to hold, ms: their latency objective, when there is one. Given, it
   * replaces `guardTolerance` x base as the guard's target: the lane takes as many slots as keep
   * the protected tail within it (and holds at minLimit when even that does not). @default 0 (none: relative)
   */
  guardTargetMs?: number;
  /**
   * With `guardTargetMs`, the guard steers the protected p99 to this fraction of it: it cuts above
   * target x margin. An objective holds for the p99 over a whole period; a controller that steers
   * to the objective itself sits on its edge, over it about half the time (measured, bench/RESULTS.md
   * 2026-11-26: 1.0 missed a 20.75 ms objective by 0.45 ms in one run and met a 29.9 ms one by
   * 0.6 ms in another, where 0.9 held it at 26.7 ms for 1.05x the best static goodput).
   * @default 0.9
   */
  guardMargin?: number;
  /**
   * The guard steps one slot up only while the protected p99 is at most this fraction of its
   * target; between that and the target it holds. @default 1 (no margin: measured, 0.8 held the
   * lane at 1 slot when the target sat near the tail at 1 slot, at 0.71x the best static goodput)
   */
  guardHeadroom?: number;
  /** Protected-lane round trips the probe collects for its p99 (it waits up to `guardProbeMaxMs` for them). @default 100 */
  guardProbeSamples?: number;
  /** Longest a probe waits for protected samples once it has its own, ms. @default 3000 */
  guardProbeMaxMs?: number;
  /** The guard looks at protected round trips that ended within this horizon, ms. @default 10_000 */
  guardWindowMs?: number;
  /** ...and decides at most once per this, ms. @default 1000 */
  guardIntervalMs?: number;
  /** ...on at least this many round trips that started after the limit last changed (a p99 of fewer is mostly noise). @default 100 */
  guardMinSamples?: number;
  /**
   * The guard steps one slot up only on at least this many round trips since the limit last
   * changed (and at least `guardMinSamples`); cuts still need only `guardMinSamples`. The p99 of
   * 100 is their 2nd-highest: a level near the target passes it at times, and each try of the
   * level above costs answers over the target (bench/RESULTS.md, 2026-11-27 00:32Z). More asks
   * for a steadier tail before a try, at the price of slower climbs; it must fit in
   * `guardWindowMs` at the protected lanes' rate, or the guard never climbs.
   * @default 0 (= `guardMinSamples`)
   */
  guardClimbSamples?: number;
  /**
   * Per-level memory: the guard keeps the last this many protected round trips measured at each
   * limit (requests that started and ended at it), and a cut is not taken when the level it
   * would cut to measured (pooled, at least `guardMinSamples` there) a p99 no lower than the
   * one that asks for the cut: a tail that does not follow this lane's slots is not this lane's
   * to fix, and cutting would only give up goodput (bench/RESULTS.md, 2026-11-27 02:08Z: at 1
   * and 2 slots the critical p99 was within noise of each other). Such a decision holds the
   * level and counts in `guard_kept`.
   * @default 0 (off: each level is judged on its own round trips); 500 with `guardTargetMs`
   */
  guardLevelSamples?: number;
  /**
   * With `guardLevelSamples`: a step up to a level whose memory (its last round trips there, the
   * newest within this many ms) measured a protected p99 over the target is not tried (a try the
   * early cut ended, with fewer than `guardMinSamples` there, counts when more of them were over
   * the target than a p99 of `guardMinSamples` allows: 2 of 100); it counts as a try that failed (the retry wait doubles) and in
   * `guard_skipped`. A try costs at least the round trips over the target that cut it, and at a
   * target at the edge of the level below those tries are what sets the protected p99
   * (bench/RESULTS.md, 2026-11-27, bench/level-probe.ts). Memory older than this is tried again.
   * @default 0 (off: every step up is tried); 60_000 with `guardTargetMs`
   */
  guardSkipMs?: number;
  /**
   * The guard's slow start (TCP's, before its first loss): until the protected tail is first over
   * the target, each step up multiplies the ceiling by this (at least one slot more) instead of
   * adding one slot, and lifts Gradient2's estimate with it, so that a lane whose objective allows
   * many slots reaches them in a few decisions (1, 2, 4, 8, 16, 32: ~10 s at 50 protected req/s)
   * instead of one slot per decision. The first decision over the target ends it: the ceiling
   * goes back to the level the last step came from (the highest that held), or is cut as usual
   * when it held none; a step up to a level `guardSkipMs` knows to be over the target ends it too.
   * @default 1 (off: one slot per step)
   */
  guardSlowStart?: number;
  /** Multiplier of the guard's ceiling when the protected tail is above target (at least one slot down). @default 0.75 */
  guardBackoff?: number;
  /** After a cut, the guard waits this long before it tries one slot more; each cut in a row doubles the wait. @default 5000 */
  guardRetryMs?: number;
  /** ...up to this, ms. @default 60_000 */
  guardRetryMaxMs?: number;
}

export type AdaptiveLimitConfig = Required<AdaptiveLimitOptions>;

export const ADAPTIVE_DEFAULTS: Readonly<Omit<AdaptiveLimitConfig, 'initialLimit' | 'maxLimit' | 'protect'>> = Object.freeze({
  minLimit: 1,
  smoothing: 0.2,
  tolerance: 1.25,
  queueSize: 0.5,
  longWindow: 6000,
  windowSamples: 10,
  windowMs: 100,
  backoff: 0.9,
  probeLimit: 1,
  probeSamples: 50,
  probeIntervalMs: 60_000,
  guardTolerance: 1.25,
  guardTargetMs: 0,
  guardMargin: 0.9,
  guardHeadroom: 1,
  guardProbeSamples: 100,
  guardProbeMaxMs: 3000,
  guardWindowMs: 10_000,
  guardIntervalMs: 1000,
  guardMinSamples: 100,
  guardClimbSamples: 0,
  guardLevelSamples: 0,
  guardSkipMs: 0,
  guardSlowStart: 1,
  guardBackoff: 0.75,
  guardRetryMs: 5000,
  guardRetryMaxMs: 60_000,
});

/**
 * Defaults that differ when the lane is told the protected lanes' objective (`guardTargetMs` > 0,
 * with lanes to protect).
 * The guard then answers to a stated p99, so (bench/RESULTS.md, issue 13, 2026-11-27):
 * - Gradient2 cuts only on a clear RTT rise (`tolerance` 2): at 1.25 it held the lane below what
 *   the objective allowed in loose-target runs (below the guard's ceiling 56-99 % of the time);
 * - the guard keeps each level's tail (`guardLevelSamples` 500) and does not cut to a level that
 *   measured no lower a p99: in tight-target runs the critical p99 at 1 and 2 slots was within
 *   noise, and noise-driven cuts gave up the second slot's goodput;
 * - a step up to a level that measured a p99 over the target within the last minute is not tried
 *   (`guardSkipMs` 60 s): at a target at the edge of the level below, the tries themselves set the
 *   protected p99 (bench/level-probe.ts), and a minute is the longest retry wait anyway.
 * An option given explicitly always wins.
 */
export const TOLD_TARGET_DEFAULTS: Readonly<Pick<AdaptiveLimitConfig, 'tolerance' | 'guardLevelSamples' | 'guardSkipMs'>> = Object.freeze({
  tolerance: 2,
  guardLevelSamples: 500,
  guardSkipMs: 60_000,
});

const KEYS = [
  'initialLimit', 'minLimit', 'maxLimit', 'smoothing', 'tolerance', 'queueSize', 'longWindow', 'windowSamples', 'windowMs', 'backoff',
  'probeLimit', 'probeSamples', 'probeIntervalMs', 'protect', 'guardTolerance', 'guardTargetMs', 'guardMargin', 'guardHeadroom', 'guardProbeSamples', 'guardProbeMaxMs', 'guardWindowMs',
  'guardIntervalMs', 'guardMinSamples', 'guardClimbSamples', 'guardLevelSamples', 'guardSkipMs', 'guardSlowStart', 'guardBackoff', 'guardRetryMs',
  'guardRetryMaxMs',
];

/**
 * Validate `adaptive` options of a lane with `slots` slots (max and initial default to them).
 * `at` names where an option came from in errors (VECTOR_STORE_LANES names its own keys).
 */
export function resolveAdaptive(
  name: string, options: AdaptiveLimitOptions, slots: number, at = (k: string): v.Source => ({ name: `${name}.${k}`, kind: 'option' }),
): AdaptiveLimitConfig {
  v.knownKeys({ name, kind: 'option' }, options as Record<string, unknown>, KEYS);
  const o = options as Record<string, unknown>;
  const int = (k: string, fallback: number) => (o[k] === undefined ? fallback : v.integer(at(k), o[k], 1));
  const guardTargetMs = o['guardTargetMs'] === undefined ? ADAPTIVE_DEFAULTS.guardTargetMs : v.number(at('guardTargetMs'), o['guardTargetMs'], { min: 0, max: 3_600_000 });
  const protect = o['protect'] === undefined ? [] : protectOf(at('protect'), o['protect']);
  // Told defaults only where the objective is someone's: a guard with lanes to protect.
  const defaults = guardTargetMs > 0 && protect.length > 0 ? { ...ADAPTIVE_DEFAULTS, ...TOLD_TARGET_DEFAULTS } : ADAPTIVE_DEFAULTS;
  const num = (k: keyof typeof ADAPTIVE_DEFAULTS, min: number, max: number) =>
    o[k] === undefined ? defaults[k] : v.number(at(k), o[k], { min, max });
  const maxLimit = int('maxLimit', Math.max(1, slots));
  const minLimit = int('minLimit', Math.min(ADAPTIVE_DEFAULTS.minLimit, maxLimit));
  const config: AdaptiveLimitConfig = {
    maxLimit,
    minLimit,
    initialLimit: int('initialLimit', Math.max(minLimit, Math.min(2, maxLimit))),
    smoothing: num('smoothing', 0.01, 1),
    tolerance: num('tolerance', 1, 10),
    queueSize: num('queueSize', 0, 1000),
    longWindow: int('longWindow', ADAPTIVE_DEFAULTS.longWindow),
    windowSamples: int('windowSamples', ADAPTIVE_DEFAULTS.windowSamples),
    windowMs: num('windowMs', 0, 60_000),
    backoff: num('backoff', 0.1, 1),
    probeLimit: int('probeLimit', ADAPTIVE_DEFAULTS.probeLimit),
    probeSamples: o['probeSamples'] === undefined ? ADAPTIVE_DEFAULTS.probeSamples : v.integer(at('probeSamples'), o['probeSamples'], 0),
    probeIntervalMs: num('probeIntervalMs', 1000, 86_400_000),
    protect,
    guardTolerance: num('guardTolerance', 1, 10),
    guardTargetMs,
    guardMargin: num('guardMargin', 0.1, 1),
    guardHeadroom: num('guardHeadroom', 0.1, 1),
    guardProbeSamples: int('guardProbeSamples', ADAPTIVE_DEFAULTS.guardProbeSamples),
    guardProbeMaxMs: num('guardProbeMaxMs', 0, 60_000),
    guardWindowMs: num('guardWindowMs', 100, 600_000),
    guardIntervalMs: num('guardIntervalMs', 0, 600_000),
    guardMinSamples: int('guardMinSamples', ADAPTIVE_DEFAULTS.guardMinSamples),
    guardClimbSamples: o['guardClimbSamples'] === undefined ? ADAPTIVE_DEFAULTS.guardClimbSamples : v.integer(at('guardClimbSamples'), o['guardClimbSamples'], 0),
    guardLevelSamples: o['guardLevelSamples'] === undefined ? defaults.guardLevelSamples : v.integer(at('guardLevelSamples'), o['guardLevelSamples'], 0, 100_000),
    guardSkipMs: num('guardSkipMs', 0, 3_600_000),
    guardSlowStart: num('guardSlowStart', 1, 16),
    guardBackoff: num('guardBackoff', 0.1, 0.99),
    guardRetryMs: num('guardRetryMs', 0, 3_600_000),
    guardRetryMaxMs: num('guardRetryMaxMs', 0, 3_600_000),
  };
  if (!(config.minLimit <= config.initialLimit && config.initialLimit <= config.maxLimit)) {
    v.conflict(`\`${name}\` needs minLimit <= initialLimit <= maxLimit, got ${config.minLimit}, ${config.initialLimit}, ${config.maxLimit}`, { option: name });
  }
  if (config.guardRetryMs > config.guardRetryMaxMs) {
    v.conflict(`\`${name}\` needs guardRetryMs <= guardRetryMaxMs, got ${config.guardRetryMs}, ${config.guardRetryMaxMs}`, { option: name });
  }
  return Object.freeze(config);
}

function protectOf(source: v.Source, value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.some((x) => typeof x !== 'string' || x === '')) v.fail(source, 'an array of lane names', value);
  return Object.freeze([...(value as string[])]);
}

/** p99 of some numbers (nearest rank: of 100 the 99th, of 40-100 the largest or next to it). */
function p99(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(0.99 * s.length) - 1))]!;
}

/**
 * Whether `over` of `size` numbers above a bound put their p99 (as p99() ranks it) above it,
 * whatever the others are: more of them than the ranks above the p99 (2 of 100, 1 of 1-99).
 */
function p99Over(over: number, size: number): boolean {
  return over > size - Math.ceil(0.99 * size);
}

/** One change of the (integer) limit, for stats. */
export interface LimitChange {
  /** Clock time of the change, ms. */
  atMs: number;
  from: number;
  to: number;
  shortRttMs: number;
  longRttMs: number;
  gradient: number;
  reason: 'gradient' | 'drop' | 'probe' | 'guard' | 'bounds';
}

/** What stats show of a limit (lanes[].adaptive). */
export interface AdaptiveLimitSnapshot {
  /** The cap in force now (slots). */
  limit: number;
  /** The unrounded estimate behind it. */
  estimate: number;
  min_limit: number;
  max_limit: number;
  /** Mean RTT of the last closed window, ms (null before the first). */
  short_rtt_ms: number | null;
  /** Long average of window RTTs, ms (null before the first). */
  long_rtt_ms: number | null;
  /** The last window's gradient (1 = no queueing seen). */
  gradient: number;
  windows: number;
  /** Windows skipped because the lane used less than half its limit. */
  app_limited_windows: number;
  /** Changes of `limit` since start. */
  changes: number;
  /** Measuring no-load latency now (the limit is pinned at probe_limit). */
  probing: boolean;
  /** Mean RTT of the last no-load probe, ms (null before the first). */
  no_load_rtt_ms: number | null;
  probes: number;
  /**
   * With `protect` (the tail guard): the protected lanes' p99 at the guard's last decision, their
   * p99 during the last probe (the base), the target (base x guardTolerance), ms; the guard's
   * ceiling on the limit (slots, unrounded); its decisions and how many cut the ceiling.
   */
  guard_tail_ms?: number | null;
  guard_base_ms?: number | null;
  guard_target_ms?: number | null;
  guard_ceiling?: number;
  guard_decisions?: number;
  guard_cuts?: number;
  /** `guardLevelSamples` only: decisions over the target whose cut was not taken, the level below having measured no lower a p99. */
  guard_kept?: number;
  /** `guardSkipMs` only: steps up not tried, the level above having measured a p99 over the target. */
  guard_skipped?: number;
  /** `guardSlowStart` only: still in slow start (no decision over the target yet). */
  guard_slow_start?: boolean;
  /** ms until the guard may try one slot more (0: it may now; it also needs the tail within target). */
  guard_retry_in_ms?: number;
  /** Up to the last 10 changes, oldest first. */
  recent_changes: { at_ms: number; from: number; to: number; short_rtt_ms: number; long_rtt_ms: number; gradient: number; reason: string }[];
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Protected round trips at the probe limit that the base is the p99 of (~10 s of a 50 req/s lane). */
const BASE_SAMPLES = 500;
/** Fewest protected round trips a probe needs to learn a base from (or guardProbeSamples, if fewer). */
const PROBE_MIN_SAMPLES = 40;

export class AdaptiveLimit {
  #config: AdaptiveLimitConfig;
  readonly #now: () => number;
  #estimate: number;
  #long: number | undefined;
  #longCount = 0;
  #short: number | undefined;
  #gradient = 1;
  // The open window.
  #windowStart: number | undefined;
  #windowSum = 0;
  #windowCount = 0;
  #windowMaxInFlight = 0;
  #windowDropped = false;
  #windows = 0;
  #appLimited = 0;
  #changes = 0;
  readonly #recent: LimitChange[] = [];
  // The no-load probe: 'probing' pins the limit; its samples give the no-load RTT.
  #probing: boolean;
  #probeSum = 0;
  #probeCount = 0;
  #noLoad: number | undefined;
  #probes = 0;
  #nextProbeAt = Number.POSITIVE_INFINITY;
  #probeStart: number | undefined;
  #probeOwnDone = false;
  // The tail guard: protected lanes' recent round trips (start and end times), their p99 measured
  // during the last probe (the base), and the ceiling it keeps on the limit (AIMD).
  #guardRecent: { startAt: number; endAt: number; rttMs: number }[] = [];
  /** Entries of #guardRecent before this index ended outside the horizon (dropped in bulk, not per sample). */
  #guardHead = 0;
  readonly #guardProbe: number[] = [];
  #guardBase: number | undefined;
  #guardCeiling: number;
  #guardTail: number | undefined;
  #guardLastDecision = Number.NEGATIVE_INFINITY;
  #guardDecisions = 0;
  #guardCuts = 0;
  /** The guard tries one slot more only from this time on (after a cut: retry wait, doubling). */
  #guardUpAt = Number.NEGATIVE_INFINITY;
  #guardRetryMs: number;
  /** The ceiling the last cut came down from, and good decisions in a row since then at or above it. */
  #guardFailedAt = Number.POSITIVE_INFINITY;
  #guardHeld = 0;
  /** `guardLevelSamples`: protected round trips per limit level, newest last; and the cuts not taken. */
  readonly #levels = new Map<number, number[]>();
  /** `guardSkipMs`: when each level's memory last took a round trip; and the steps up not tried. */
  readonly #levelAt = new Map<number, number>();
  #guardKept = 0;
  #guardSkipped = 0;
  /** `guardSlowStart`: still before the first decision over the target; the ceiling the last step up came from. */
  #slowStart: boolean;
  #slowFrom: number | undefined;
  /**
   * Protected round trips measured with this lane at its probe limit (the probe's, and later ones
   * that started and ended at that limit), newest last, at most BASE_SAMPLES and none older
   * than probeIntervalMs: the base is their p99. One probe's p99 (~100 requests, 2 s) varied
   * 13-37 ms between trials; pooling every stretch at the probe limit steadies it.
   */
  #baseSamples: { endAt: number; rttMs: number }[] = [];
  /** When the limit last changed, for any reason. */
  #limitChangedAt = Number.NEGATIVE_INFINITY;
  /**
   * When the guard (or a probe) last changed the limit: the guard judges only requests that
   * started after it. Gradient2's changes do not reset it, or a limit the gradient moves every
   * few windows would starve the guard of samples.
   */
  #changedAt = Number.NEGATIVE_INFINITY;

  constructor(config: AdaptiveLimitConfig, now: () => number) {
    this.#config = config;
    this.#now = now;
    this.#estimate = config.initialLimit;
    this.#guardCeiling = config.maxLimit;
    this.#guardRetryMs = config.guardRetryMs;
    this.#slowStart = config.guardSlowStart > 1;
    this.#probing = config.probeSamples > 0;
    if (this.#probing) this.#probeStart = now();
  }

  get config(): AdaptiveLimitConfig {
    return this.#config;
  }

  /**
   * New bounds for the limit (the slots under it were resized): the estimate, and the tail guard's
   * ceiling, are clamped into them. Without a tail guard the ceiling is the max, so a larger max
   * lets Gradient2 climb to it; nothing else of the limit's state changes. When the clamp moves
   * the limit in force, that is a change like any other (`changes`, `recent_changes` with reason
   * `bounds`), so that a limit's history accounts for every step it took.
   */
  setBounds(minLimit: number, maxLimit: number): void {
    const before = this.limit;
    const c = this.#config;
    const initialLimit = Math.max(minLimit, Math.min(c.initialLimit, maxLimit));
    this.#config = Object.freeze({ ...c, minLimit, maxLimit, initialLimit });
    this.#estimate = Math.max(minLimit, Math.min(this.#estimate, maxLimit));
    this.#guardCeiling = c.protect.length === 0 ? maxLimit : Math.max(minLimit, Math.min(this.#guardCeiling, maxLimit));
    this.#note(this.#now(), before, 'bounds');
  }

  /**
   * The cap in force: the smaller of the estimate and the guard's ceiling, rounded down, never
   * below minLimit (while probing: probeLimit).
   */
  get limit(): number {
    if (this.#probing) return this.#probeLimit();
    return Math.max(this.config.minLimit, Math.floor(Math.min(this.#estimate, this.#guardCeiling)));
  }

  /**
   * One finished request: its round trip (ms, from taking its slot to its end), the lane's
   * in-flight count when it started (itself included), and whether it was dropped (timed out).
   */
  addSample(rttMs: number, inFlight: number, dropped = false): void {
    const now = this.#now();
    if (this.#probing) {
      this.#probeSample(now, rttMs, inFlight, dropped);
      return;
    }
    if (now >= this.#nextProbeAt) {
      this.#startProbe(now);
      return;
    }
    this.#windowStart ??= now;
    if (!dropped && Number.isFinite(rttMs) && rttMs >= 0) {
      this.#windowSum += rttMs;
      this.#windowCount++;
    }
    this.#windowDropped ||= dropped;
    this.#windowMaxInFlight = Math.max(this.#windowMaxInFlight, inFlight);
    const closes = now - this.#windowStart >= this.config.windowMs && (this.#windowCount >= this.config.windowSamples || this.#windowDropped);
    if (closes) this.#closeWindow(now);
  }

  #startProbe(now: number): void {
    const before = this.limit;
    this.#probing = true;
    this.#probeSum = this.#probeCount = 0;
    this.#probeStart = now;
    this.#probeOwnDone = false;
    this.#guardProbe.length = 0;
    // The open window mixes loads; drop it.
    this.#windowStart = undefined;
    this.#windowSum = this.#windowCount = this.#windowMaxInFlight = 0;
    this.#windowDropped = false;
    this.#note(now, before, 'probe');
  }

  #probeSample(now: number, rttMs: number, inFlight: number, dropped: boolean): void {
    // Requests that started with more of the lane in flight than the pin (before the probe, at
    // the old limit) do not measure no-load latency: left out.
    this.#probeStart ??= now;
    if (!this.#probeOwnDone) {
      if (dropped || !Number.isFinite(rttMs) || rttMs < 0 || inFlight > this.config.probeLimit) return;
      this.#probeSum += rttMs;
      this.#probeCount++;
      if (this.#probeCount < this.config.probeSamples) return;
      this.#probeOwnDone = true;
    }
    this.#maybeEndProbe(now);
  }

  /**
   * One finished request of a protected lane (`protect`), its round trip in ms. During a probe
   * it measures the protected lane's tail with this lane pinned low (the base); otherwise it
   * feeds the tail guard.
   *
   * The tail guard (a ceiling over this lane's limit, driven by another lane's p99, in the
   * manner of SLO-driven controllers and TCP's probing with backoff): at most once per
   * `guardIntervalMs`, once at least `guardMinSamples` protected round trips that started after
   * the limit last changed have ended within the last `guardWindowMs`, their p99 is compared
   * with base x `guardTolerance`.
   * - Above the target: a cut, ceiling = min(ceiling, limit) x `guardBackoff` (at least one slot
   *   down, never below minLimit), and no step up for `guardRetryMs`, doubled by each cut in a
   *   row up to `guardRetryMaxMs`.
   * - Early: as soon as enough round trips since the last change are over the target that the
   *   p99 of `guardMinSamples` would be (2 of 100), the cut is taken then, not at the 100th, and
   *   not at the lowest limit (nothing to cut). Same decision, earlier: a level too high is left
   *   after a few of its round trips over the target instead of ~2 s of them.
   * - Within it: once the retry wait has passed, one slot more (while the ceiling is what holds
   *   the limit). A ceiling that was cut from holds three decisions: the wait is back to
   *   `guardRetryMs`.
   * The ceiling starts at the probe's limit once the first base is learnt and climbs on evidence.
   * Why a retry wait and not a steady additive increase (the previous rule, bench/RESULTS.md
   * 13:31-13:48Z): a p99 needs ~1 s of protected traffic to judge, so a ceiling that steps into
   * a level whose tail is too high pays it for a second or more each time; with the level below
   * the best one, growing every few seconds spent a third of a trial above it. The doubling wait
   * bounds that share (one second per retry wait); the protected p99 of a whole run is set by
   * the level held, not by the probes.
   * Gradient2's 100 ms windows cannot judge a p99 (a p99 needs ~100 requests, 2 s of a 50 req/s
   * lane), hence its own pace; only requests that started after a change are judged, so one slow
   * second is not cut twice.
   */
  addGuardSample(rttMs: number): void {
    if (this.config.protect.length === 0 || !Number.isFinite(rttMs) || rttMs < 0) return;
    const now = this.#now();
    const startAt = now - rttMs;
    if (this.#probing) {
      // Only requests that started after the pin measure the protected lane at low load.
      if (this.#probeStart !== undefined && startAt < this.#probeStart) return;
      this.#guardProbe.push(rttMs);
      // Bounded: a probe whose own lane is idle stays open while the protected lane runs on.
      if (this.#guardProbe.length > this.config.guardProbeSamples) this.#guardProbe.shift();
      if (this.#probeOwnDone) this.#maybeEndProbe(now);
      return;
    }
    if (this.#guardBase === undefined) return;
    if (this.limit === this.#probeLimit() && startAt >= this.#limitChangedAt) this.#addBaseSample(now, rttMs);
    if (this.config.guardLevelSamples > 0 && startAt >= this.#limitChangedAt) {
      let level = this.#levels.get(this.limit);
      if (!level) this.#levels.set(this.limit, (level = []));
      level.push(rttMs);
      this.#levelAt.set(this.limit, now);
      if (level.length > this.config.guardLevelSamples * 2) level.splice(0, level.length - this.config.guardLevelSamples);
    }
    const recent = this.#guardRecent;
    recent.push({ startAt, endAt: now, rttMs });
    const horizon = now - this.config.guardWindowMs;
    // Ended in order: skip the stale head (at most 10,000 kept), copy only when it is most of the array.
    let head = Math.max(this.#guardHead, recent.length - 10_000);
    while (head < recent.length && recent[head]!.endAt < horizon) head++;
    if (head > 1024 && head * 2 > recent.length) {
      this.#guardRecent = recent.slice(head);
      head = 0;
    }
    this.#guardHead = head;
    // An early cut: the p99 of guardMinSamples round trips is above the target as soon as more of
    // them are (min - ceil(0.99 min) + 1: 2 of 100), so once that many since the last change are,
    // the decision due at guardMinSamples is a cut whatever the rest: take it now. A level above
    // the right one then costs ~2 round trips over the target instead of 100 (2 s at 50 req/s:
    // a tenth of a 20 s bench trial, enough to move its p99; bench/RESULTS.md 2026-11-26 17:43Z).
    const target = this.#guardTarget();
    const due = now - this.#guardLastDecision >= this.config.guardIntervalMs;
    const early = rttMs > target && startAt >= this.#changedAt && Math.min(Math.floor(this.#guardCeiling), this.limit) > this.config.minLimit;
    if (!due && !early) return;
    const judged: number[] = [];
    for (let i = this.#guardHead; i < this.#guardRecent.length; i++) {
      const r = this.#guardRecent[i]!;
      if (r.startAt >= this.#changedAt) judged.push(r.rttMs);
    }
    const min = this.config.guardMinSamples;
    if (judged.length >= min) {
      if (!due) return; // enough for a decision: that one keeps its pace
    } else if (!early || !p99Over(judged.filter((x) => x > target).length, min)) {
      return;
    }
    this.#guardLastDecision = now;
    this.#guardDecisions++;
    const tail = p99(judged);
    this.#guardTail = tail;
    if (this.#baseSamples.length > 0) this.#guardBase = p99(this.#baseSamples.map((x) => x.rttMs));
    const before = this.limit;
    const c = this.config;
    const ceiling = Math.min(Math.floor(this.#guardCeiling), before);
    if (tail > this.#guardTarget()) {
      this.#guardCuts++;
      this.#guardHeld = 0;
      // Slow start ends here: back to the level its last step came from, the highest that held.
      const held = this.#slowStart ? this.#slowFrom : undefined;
      this.#slowStart = false;
      // Above target at the lowest limit: nothing to cut, and no evidence against the level above
      // (at the probe limit the round trips feed the base instead).
      const next = held !== undefined && held < ceiling
        ? Math.max(c.minLimit, held)
        : Math.max(c.minLimit, Math.min(ceiling - 1, Math.floor(ceiling * c.guardBackoff)));
      if (ceiling > c.minLimit && this.#lowerNoBetter(next, tail)) {
        this.#guardKept++;
      } else if (ceiling > c.minLimit) {
        this.#guardUpAt = now + this.#guardRetryMs;
        this.#guardFailedAt = ceiling;
        this.#guardCeiling = next;
        this.#guardRetryMs = Math.min(c.guardRetryMaxMs, this.#guardRetryMs * 2);
      }
    } else {
      if (ceiling >= this.#guardFailedAt && ++this.#guardHeld >= 3) {
        this.#guardRetryMs = c.guardRetryMs;
        this.#guardFailedAt = Number.POSITIVE_INFINITY;
      }
      // One slot more only with headroom below the target, on guardClimbSamples round trips since
      // the last change, and only where the ceiling is what holds the limit (not Gradient2's
      // estimate). Between headroom and target: hold.
      const headroom = tail <= this.#guardTarget() * c.guardHeadroom && judged.length >= Math.max(c.guardMinSamples, c.guardClimbSamples);
      if (headroom && now >= this.#guardUpAt && Math.floor(this.#guardCeiling) <= before && this.#guardCeiling < c.maxLimit) {
        const from = Math.floor(this.#guardCeiling);
        let up = Math.min(c.maxLimit, from + 1);
        if (this.#slowStart) {
          // A level known to fail ends the slow start; one slot more is still worth a look.
          const fast = Math.min(c.maxLimit, Math.max(from + 1, Math.floor(from * c.guardSlowStart)));
          if (fast > up && this.#levelOver(fast, now)) this.#slowStart = false;
          else up = fast;
        }
        if (this.#levelOver(up, now)) {
          // Known to fail: wait as after a failed try, without paying for one.
          this.#guardSkipped++;
          this.#slowStart = false;
          this.#guardUpAt = now + this.#guardRetryMs;
          this.#guardRetryMs = Math.min(c.guardRetryMaxMs, this.#guardRetryMs * 2);
        } else {
          if (this.#slowStart) {
            // Gradient2's additive growth (queueSize x smoothing a window: a slot a second) would
            // hold the step back: the estimate comes along; Gradient2 still cuts on an RTT rise.
            this.#slowFrom = from;
            this.#estimate = Math.max(this.#estimate, up);
          }
          this.#guardCeiling = up;
        }
      }
    }
    this.#note(now, before, 'guard');
  }

  /**
   * `guardLevelSamples`: the protected p99 level `limit` measured over its last guardLevelSamples
   * round trips; undefined when the memory is off or holds fewer than guardMinSamples there.
   */
  #levelTail(limit: number): number | undefined {
    const n = this.config.guardLevelSamples;
    if (n === 0) return undefined;
    const xs = this.#levels.get(limit) ?? [];
    const last = xs.length > n ? xs.slice(xs.length - n) : xs;
    return last.length < Math.min(this.config.guardMinSamples, n) ? undefined : p99(last);
  }

  /** Whether level `lower` measured a protected p99 no lower than `tail`, the p99 the guard judges the level it is at by (false when not known). */
  #lowerNoBetter(lower: number, tail: number): boolean {
    const t = this.#levelTail(lower);
    return t !== undefined && t >= tail;
  }

  /**
   * `guardSkipMs`: whether level `up` measured, within the last guardSkipMs, a protected p99 over
   * the target. A try the early cut ended holds fewer than guardMinSamples round trips there; it
   * counts by the early cut's own rule: more of them over the target than the p99 of
   * guardMinSamples allows, so that p99 is over the target whatever the rest would have been
   * (on its full memory this is the same as its p99 over the target).
   */
  #levelOver(up: number, now: number): boolean {
    const { guardSkipMs, guardLevelSamples: n, guardMinSamples } = this.config;
    if (guardSkipMs === 0 || n === 0) return false;
    if (now - (this.#levelAt.get(up) ?? Number.NEGATIVE_INFINITY) > guardSkipMs) return false;
    const xs = this.#levels.get(up) ?? [];
    const target = this.#guardTarget();
    let over = 0;
    for (let i = Math.max(0, xs.length - n); i < xs.length; i++) if (xs[i]! > target) over++;
    const size = Math.max(Math.min(xs.length, n), Math.min(guardMinSamples, n));
    return p99Over(over, size);
  }

  #maybeEndProbe(now: number): void {
    const c = this.config;
    // Wait for the protected lane's samples only if it is active (one came in already), and not
    // longer than guardProbeMaxMs: a probe never holds the lane at its pin for long.
    const waiting = this.#guardProbe.length > 0 && this.#guardProbe.length < c.guardProbeSamples && now - (this.#probeStart ?? now) < c.guardProbeMaxMs;
    if (c.protect.length > 0 && waiting) return;
    if (c.protect.length > 0 && this.#guardProbe.length >= Math.min(PROBE_MIN_SAMPLES, c.guardProbeSamples)) {
      // The first base: the ceiling starts at the probe's limit and climbs on evidence. Later
      // probes add to the base's samples and keep the ceiling.
      if (this.#guardBase === undefined) this.#guardCeiling = this.#probeLimit();
      for (const rtt of this.#guardProbe) this.#addBaseSample(now, rtt);
      this.#guardBase = p99(this.#baseSamples.map((x) => x.rttMs));
      this.#guardRecent = [];
      this.#guardHead = 0;
    }
    const before = this.limit;
    const noLoad = this.#probeSum / this.#probeCount;
    this.#noLoad = noLoad;
    this.#probes++;
    this.#probing = false;
    // The long average restarts from the no-load RTT (as if warmed up).
    this.#long = noLoad;
    this.#longCount = Math.max(this.#longCount, 10);
    this.#nextProbeAt = now + c.probeIntervalMs;
    this.#note(now, before, 'probe');
  }

  #guardTarget(): number {
    const c = this.config;
    return c.guardTargetMs > 0 ? c.guardTargetMs * c.guardMargin : this.#guardBase! * c.guardTolerance;
  }

  #probeLimit(): number {
    return Math.max(this.config.minLimit, Math.min(this.config.probeLimit, this.config.maxLimit));
  }

  #addBaseSample(now: number, rttMs: number): void {
    const xs = this.#baseSamples;
    xs.push({ endAt: now, rttMs });
    const oldest = now - this.config.probeIntervalMs;
    let drop = Math.max(0, xs.length - BASE_SAMPLES);
    while (drop < xs.length && xs[drop]!.endAt < oldest) drop++;
    if (drop > 0) xs.splice(0, drop);
  }

  #note(now: number, before: number, reason: LimitChange['reason']): void {
    const after = this.limit;
    if (after === before) return;
    this.#limitChangedAt = now;
    if (reason !== 'gradient') this.#changedAt = now;
    this.#changes++;
    this.#recent.push({ atMs: now, from: before, to: after, shortRttMs: this.#short ?? 0, longRttMs: this.#long ?? 0, gradient: this.#gradient, reason });
    if (this.#recent.length > 10) this.#recent.shift();
  }

  #closeWindow(now: number): void {
    const before = this.limit;
    const c = this.config;
    const inFlight = this.#windowMaxInFlight;
    const dropped = this.#windowDropped;
    const short = this.#windowCount > 0 ? this.#windowSum / this.#windowCount : undefined;
    this.#windowStart = undefined;
    this.#windowSum = this.#windowCount = this.#windowMaxInFlight = 0;
    this.#windowDropped = false;
    this.#windows++;

    let reason: LimitChange['reason'] = 'gradient';
    if (dropped) {
      reason = 'drop';
      this.#estimate = Math.max(c.minLimit, this.#estimate * c.backoff);
    } else if (short !== undefined) {
      this.#short = short;
      // ExpAvgMeasurement(window, warmup 10): a plain mean first, then an exponential average.
      this.#longCount++;
      if (this.#long === undefined) this.#long = short;
      else if (this.#longCount <= 10) this.#long += (short - this.#long) / this.#longCount;
      else this.#long += (short - this.#long) * (2 / (c.longWindow + 1));
      const long = this.#long;
      if (long / Math.max(short, 1e-6) > 2) this.#long = long * 0.95;
      if (inFlight < this.#estimate / 2) {
        this.#appLimited++;
        return;
      }
      this.#gradient = Math.max(0.5, Math.min(1, (c.tolerance * long) / Math.max(short, 1e-6)));
      const next = this.#estimate * this.#gradient + c.queueSize;
      this.#estimate = Math.max(c.minLimit, Math.min(c.maxLimit, this.#estimate * (1 - c.smoothing) + next * c.smoothing));
    }
    this.#note(now, before, reason);
  }

  snapshot(): AdaptiveLimitSnapshot {
    return {
      limit: this.limit,
      estimate: round(this.#estimate),
      min_limit: this.config.minLimit,
      max_limit: this.config.maxLimit,
      short_rtt_ms: this.#short === undefined ? null : round(this.#short),
      long_rtt_ms: this.#long === undefined ? null : round(this.#long),
      gradient: round(this.#gradient),
      windows: this.#windows,
      app_limited_windows: this.#appLimited,
      changes: this.#changes,
      probing: this.#probing,
      no_load_rtt_ms: this.#noLoad === undefined ? null : round(this.#noLoad),
      probes: this.#probes,
      ...(this.config.protect.length
        ? {
            guard_tail_ms: this.#guardTail === undefined ? null : round(this.#guardTail),
            guard_base_ms: this.#guardBase === undefined ? null : round(this.#guardBase),
            guard_target_ms: this.#guardBase === undefined ? null : round(this.#guardTarget()),
            guard_ceiling: round(this.#guardCeiling),
            guard_decisions: this.#guardDecisions,
            guard_cuts: this.#guardCuts,
            ...(this.config.guardLevelSamples > 0 ? { guard_kept: this.#guardKept } : {}),
            ...(this.config.guardSkipMs > 0 ? { guard_skipped: this.#guardSkipped } : {}),
            ...(this.config.guardSlowStart > 1 ? { guard_slow_start: this.#slowStart } : {}),
            guard_retry_in_ms: Math.max(0, Math.round(this.#guardUpAt - this.#now())),
          }
        : {}),
      recent_changes: this.#recent.map((r) => ({
        at_ms: Math.round(r.atMs), from: r.from, to: r.to, short_rtt_ms: round(r.shortRttMs), long_rtt_ms: round(r.longRttMs), gradient: round(r.gradient), reason: r.reason,
      })),
    };
  }
}
