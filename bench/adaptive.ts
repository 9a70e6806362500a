/**
 * `npm run bench:adaptive -- [--quick] [--reps N] [--only adaptive|features] [--out FILE] [--adaptive-options JSON] [--compare-warmup-ms MS] [--critical-rate N] [--critical-p99 MS]`
 *
 * `--critical-p99` states the critical lane's objective (a service's SLO) instead of tune's rule
 * (1.5x the idle critical p99 measured first): tune picks its static setting against it and the
 * adaptive lane is told it. A looser objective than 1.5x idle lets tune's pick keep more normal
 * slots, and the yardstick's ladder below it more steps.
 *
 * `--compare-warmup-ms` is the warm-up of each comparison trial (default 12 s; 1 s with --quick):
 * a fresh engine's adaptive lane explores most in its first seconds (its retry wait doubles from
 * 5 s: about 3 tries of a level too high in the first 20 s, then one a minute), which a 20 s trial
 * after 2 s counted in full (bench/RESULTS.md 21:29Z vs 21:45Z); both contenders get the same
 * warm-up. It is still a lane's first half-minute: its next no-load probe (60 s) and a minute of
 * level memory fall outside the trial, and a lane a minute old served less at a target that
 * allowed more than 1 slot (bench/RESULTS.md 2026-11-28 06:24Z, bench/level-probe.ts adaptiveLong).
 *
 * `--adaptive-options '[{"tolerance":1.3}, ...]'` adds adaptive lanes with other options to the
 * rotation (for trying the algorithm's knobs; the done criterion is judged on the defaults;
 * `{"guardTargetMs":0}` is the guard relative to its base, not told the critical target).
 *
 * Issue 13's bench, in one run against one Weaviate:
 * 1. Adaptive limit against the best static setting. Runs `tune` (bench/tune.ts: capacity, the
 *    critical target, the worker/connection shapes and the static lane caps under the overload
 *    mix) and picks the best static setting by tune's own rule. Then, in the same overload mix,
 *    the best static setting and the normal lane with an adaptive limit (not told the result:
 *    no cap, same shape; told the critical lane's objective, tune's target, as `guardTargetMs`)
 *    run interleaved, ABBA order, `--reps` times each, so a machine whose
 *    load drifts hurts both alike; with them tune's fallback (the static setting with a smaller
 *    normal cap that met the target in tune with the most goodput below the pick's) and the rest
 *    of the ladder (tune's best setting at each other cap it swept below the pick's, down to 1: what a
 *    user steps down to when the pick misses on the day), in the same rotation. Reported:
 *    normal goodput (answers per second inside the window) and critical p99 of each, their
 *    ratio, and the done criterion met / not met (judge(): adaptive goodput >= 90 % of the best static setting as this comparison measured
 *    it (the static contender holding the target with the most goodput; tune's pick when none
 *    held), means over reps, and the adaptive critical p99 over all its reps' answers within the
 *    target); also the verdict against tune's pick alone.
 *    The adaptive trials also sample the lane (limit, in flight, RTT inputs) every 100 ms.
 * 2. Each feature on and off, side by side: coalescing (duplicate-heavy reads), write batching
 *    (many one-object inserts), cost-aware lanes (a hybrid lane against a bm25 lane).
 * Writes bench/results/adaptive-<time>.json (or --out), the HTML report next to it (same name,
 * .html: bench/adaptive-report.ts) and prints Markdown tables.
 */
import { writeFile, mkdir } from 'node:fs/promises';
import { execSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { createExecutor, type Executor } from '../src/engine/executor.ts';
import type { AdaptiveLimitOptions } from '../src/engine/adaptive-limit.ts';
import type { LaneOptions } from '../src/engine/lanes.ts';
import { silentLogger } from '../src/log.ts';
import { resolveTarget, type WeaviateTarget } from '../src/pool/config.ts';
import type { QuerySpec } from '../src/query/spec.ts';
import { REQUEST_TIMEOUT_MS, type EngineSetting } from './contenders.ts';
import { closedLoop, type CellMeasure, type MeasureContext } from './load.ts';
import { adaptiveHtml, percentMet, traceSummary, twinText, type AdaptiveRun, type AdaptiveSettings } from './adaptive-report.ts';
import { gitCommit } from './report.ts';
import { criticalQuery, smallQuery } from './scenarios.ts';
import { recommendationSummary } from './headroom.ts';
import { withSampleWeaviate } from './setup.ts';
import { lanesEnv, overloadTrial, warmUpServer, pooledTrial, positiveArg, staticFallback, staticLadder, tune, type TracePoint, type Trial, type TuneResult } from './tune.ts';
import { DEFAULT_SAMPLE_SIZE } from '../src/data/sample.ts';
import { fetchServerVersion } from '../src/weaviate/meta.ts';

type Say = (l: string) => void;

export interface Comparison {
  tune: TuneResult;
  /** Per repetition, in the order run. */
  runs: { rep: number; kind: string; trial: Trial; trace?: TracePoint[] }[];
  /** Variants of the adaptive options tried alongside (`--adaptive-options`): their means and ratios. */
  variants: { kind: string; options: AdaptiveLimitOptions; goodput: number; criticalP99Ms: number; goodputRatio: number; met: boolean; firmness?: Firmness }[];
  /** Means over repetitions of each trial's goodput and critical p99 (shown; not what is judged). */
  staticMean: { goodput: number; criticalP99Ms: number };
  adaptiveMean: { goodput: number; criticalP99Ms: number };
  /**
   * All repetitions of each contender pooled (tune's pooledTrial): the critical p99 over all their
   * answers, mean goodput. What is judged (absent in runs recorded before 2026-11-26 18:00Z, which
   * judged the mean of per-trial p99s).
   */
  staticPooled?: Trial;
  adaptivePooled?: Trial;
  /**
   * tune's fallback (staticFallback: the static setting with a smaller normal cap that met the
   * target in tune with the most goodput below the pick's; before 2026-11-27 05:00Z any cap), run in the same rotation: its mean goodput and critical p99 over the reps, and its reps pooled
   * (absent in runs recorded before 2026-11-27, and when tune's pick had no fallback).
   */
  fallback?: { setting: EngineSetting; mean: { goodput: number; criticalP99Ms: number }; pooled: Trial };
  /**
   * The rest of the ladder (staticLadder: the best setting at each other normal cap tune swept
   * below the pick's, down to 1; before 2026-11-27 12:10Z only those below the fallback's), run in
   * the same rotation, as `static cap N` in `runs` (absent in runs recorded before 2026-11-27
   * 08:30Z, and when the pick is at cap 1 or the fallback is the only cap below it).
   */
  ladder?: { kind: string; setting: EngineSetting; mean: { goodput: number; criticalP99Ms: number }; pooled: Trial }[];
  /**
   * What the adaptive lane is judged against (judge()): the best static setting as the comparison
   * itself measured it (absent in runs recorded before 2026-11-27, which judged against tune's pick).
   */
  yardstick?: Yardstick;
  /** The verdict against tune's pick alone, whether or not it held the target in the comparison (the rule before 2026-11-27). */
  vsPick?: { goodputRatio: number; met: boolean };
  /** adaptive goodput / the yardstick's goodput (means over repetitions; before 2026-11-27: / tune's pick's). */
  goodputRatio: number;
  goodputMet: boolean;
  latencyMet: boolean;
  met: boolean;
  /** How firm `met` is: the share of the resamples of the reps in which it is met (verdictFirmness; absent in runs recorded before 2026-11-27 13:15Z, and with more than FIRMNESS_MAX_REPS reps). */
  firmness?: Firmness;
  /** The criterion's noise floor in this run (twinVerdicts; absent in runs recorded before 2026-11-28 06:30Z, and with fewer than 2 or more than FIRMNESS_MAX_REPS reps). */
  twins?: TwinVerdicts;
}

/** verdictFirmness(): the share of the draws in which the criterion is met, and how many draws (reps^reps). */
export interface Firmness { met: number; draws: number }

/** The static contenders of a comparison in judge()'s order: tune's pick, its fallback, the ladder. */
export function staticKindsOf(fallback: boolean, ladderKinds: readonly string[]): string[] {
  return ['static', ...(fallback ? ['static fallback'] : []), ...ladderKinds];
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

export interface Yardstick {
  /** The contender's kind in `runs` ('static': tune's pick; 'static fallback'; 'static cap N': the ladder below it). */
  kind: string;
  /** Whether its critical p99 over all its answers in the comparison met the target. */
  held: boolean;
  /** Its mean normal goodput over its reps, req/s. */
  goodput: number;
}

/**
 * Issue 13's verdict on one comparison. The yardstick is the best static setting as measured in
 * the comparison itself, by tune's own rule: of the static contenders (tune's pick, its fallback
 * when there is one, and the ladder of lower caps below it) those whose critical p99 over all their answers met the target, the
 * one with the most goodput; when none held it, tune's pick. The adaptive lane (or a variant)
 * meets the criterion with goodput >= 90 % of the yardstick's (means over reps) and its own
 * critical p99 over all its answers within the target. `vsPick` is the same against tune's pick
 * alone. Judging only against the pick asked the lane to match a goodput that, on the day, did
 * not hold the target (3 of 6 runs on 2026-11-26, bench/RESULTS.md); the fallback in the same
 * rotation is what a user who watched the pick miss would run instead, and when it misses too, the
 * next cap down (the ladder, since 2026-11-27 08:30Z). Still none held (the lane cannot go below
 * one slot, nor a static cap): judged against the pick, as before.
 */
export function judge(runs: Comparison['runs'], staticKinds: readonly string[], kind: string, targetP99Ms: number):
  { yardstick: Yardstick; goodput: number; pooled: Trial; goodputRatio: number; goodputMet: boolean; latencyMet: boolean; met: boolean; vsPick: { goodputRatio: number; met: boolean } } {
  const of = (k: string) => runs.filter((r) => r.kind === k).map((r) => r.trial);
  const statics = staticKinds
    .filter((k) => of(k).length > 0)
    .map((k): Yardstick => ({ kind: k, held: pooledTrial(of(k), targetP99Ms).meets, goodput: mean(of(k).map((x) => x.normalServed)) }));
  if (statics.length === 0) throw new Error('judge: no static contender ran');
  const pick = statics[0]!;
  const yardstick = statics.filter((x) => x.held).sort((a, b) => b.goodput - a.goodput)[0] ?? pick;
  const goodput = mean(of(kind).map((x) => x.normalServed));
  const pooled = pooledTrial(of(kind), targetP99Ms);
  const latencyMet = pooled.criticalP99Ms <= targetP99Ms && pooled.criticalErrors === 0;
  const goodputRatio = goodput / Math.max(1e-9, yardstick.goodput);
  const pickRatio = goodput / Math.max(1e-9, pick.goodput);
  return {
    yardstick, goodput, pooled, goodputRatio, goodputMet: goodputRatio >= 0.9, latencyMet, met: goodputRatio >= 0.9 && latencyMet,
    vsPick: { goodputRatio: pickRatio, met: pickRatio >= 0.9 && latencyMet },
  };
}

/** twinVerdicts(): in how many of its splits the yardstick's twin, tune's pick, and the lane met the criterion. */
export interface TwinVerdicts { twin: number; pick: number; lane: number; splits: number }

/**
 * The criterion's noise floor in one recorded comparison: could the best static setting itself,
 * run again, meet it? The reps are split into two disjoint halves (floor(n/2) reps each, every
 * ordered pair of such halves once). In the first half judge() finds the yardstick (the static
 * contender that held the target with the most goodput there); in the second the same setting
 * (its twin: the same setting, other trials of the same rotation), tune's pick (what a user who
 * pasted tune's result runs) and the lane `kind` are each judged against it by the criterion:
 * mean goodput >= 90 % of the yardstick's, critical p99 over all their answers in that half
 * within the target, no critical error. A lane that meets it in
 * about as many splits as the twin does as well as an oracle told the best setting, on this
 * host; what both miss is the trials' spread, not the lane. Halves of 2 reps are noisier than
 * the run's 4, so these shares are lower than the run's verdicts: they compare the two, they do
 * not replace the verdict. Exact, no randomness.
 */
export function twinVerdicts(runs: Comparison['runs'], staticKinds: readonly string[], kind: string, targetP99Ms: number): TwinVerdicts {
  const reps = [...new Set(runs.map((r) => r.rep))].sort((a, b) => a - b);
  if (reps.length < 2) throw new Error(`twinVerdicts: needs at least 2 reps, got ${reps.length}`);
  if (reps.length > FIRMNESS_MAX_REPS) throw new Error(`twinVerdicts: ${reps.length} reps is more than the ${FIRMNESS_MAX_REPS} it enumerates`);
  const half = Math.floor(reps.length / 2);
  const subsets = (from: number[], k: number): number[][] =>
    k === 0 ? [[]] : from.flatMap((x, i) => subsets(from.slice(i + 1), k - 1).map((rest) => [x, ...rest]));
  const meets = (of: Comparison['runs'], k: string, goodput: number): boolean => {
    const ts = of.filter((r) => r.kind === k).map((r) => r.trial);
    return ts.length > 0 && mean(ts.map((t) => t.normalServed)) >= 0.9 * goodput && pooledTrial(ts, targetP99Ms).meets;
  };
  let twin = 0;
  let pick = 0;
  let lane = 0;
  let splits = 0;
  for (const a of subsets(reps, half)) {
    const first = runs.filter((r) => a.includes(r.rep));
    const { yardstick } = judge(first, staticKinds, kind, targetP99Ms);
    for (const b of subsets(reps.filter((r) => !a.includes(r)), half)) {
      const second = runs.filter((r) => b.includes(r.rep));
      splits++;
      if (meets(second, yardstick.kind, yardstick.goodput)) twin++;
      if (meets(second, staticKinds[0]!, yardstick.goodput)) pick++;
      if (meets(second, kind, yardstick.goodput)) lane++;
    }
  }
  return { twin, pick, lane, splits };
}

/** The most reps verdictFirmness enumerates: 6^6 draws, 462 distinct resamples, about 15 ms of pooling each per contender judged. */
export const FIRMNESS_MAX_REPS = 6;

/**
 * How firm a verdict is against the noise between repetitions: judge() again on every resample of
 * the reps with replacement (bootstrap over reps), each weighted by how many ordered draws give it,
 * and the share of the weight where the criterion is met. The reps are drawn jointly (one draw of
 * rep numbers for every contender) because a rep's contenders ran side by side, in the same state
 * of the machine. With 4 reps that is 35 distinct resamples standing for 256 draws: a coarse
 * figure, but it says whether a verdict turned on one rep (bench/RESULTS.md 2026-11-27 11:22Z:
 * met by 0.29 ms of the fallback's p99). Exact, no randomness; refuses more than FIRMNESS_MAX_REPS
 * reps (each resample pools every contender's histograms).
 */
export function verdictFirmness(runs: Comparison['runs'], staticKinds: readonly string[], kind: string, targetP99Ms: number): Firmness {
  const reps = [...new Set(runs.map((r) => r.rep))].sort((a, b) => a - b);
  const n = reps.length;
  if (n === 0) throw new Error('verdictFirmness: no runs');
  if (n > FIRMNESS_MAX_REPS) throw new Error(`verdictFirmness: ${n} reps is more than the ${FIRMNESS_MAX_REPS} it enumerates`);
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const byRep = reps.map((rep) => runs.filter((r) => r.rep === rep));
  let met = 0;
  // Each multiset of n rep indices once, as counts per rep, weighted by the ordered draws that give it.
  const counts = new Array<number>(n).fill(0);
  const visit = (i: number, left: number): void => {
    if (i === n - 1) {
      counts[i] = left;
      const resample = counts.flatMap((c, k) => Array.from({ length: c }, () => byRep[k]!).flat());
      if (judge(resample, staticKinds, kind, targetP99Ms).met) met += fact(n) / counts.reduce((a, c) => a * fact(c), 1);
      return;
    }
    for (let c = left; c >= 0; c--) {
      counts[i] = c;
      visit(i + 1, left - c);
    }
  };
  visit(0, n);
  return { met: met / n ** n, draws: n ** n };
}

export async function adaptiveVsStatic(
  target: Readonly<WeaviateTarget>,
  ctx: MeasureContext,
  o: { criticalRate: number; criticalP99Ms?: number | undefined; quick: boolean; reps: number; trialMs: number; warmupMs: number; compareMs: number; compareWarmupMs?: number | undefined; say: Say; variants?: AdaptiveLimitOptions[] | undefined },
): Promise<Comparison> {
  // tune's target comes from its first trial: Weaviate warms up first.
  o.say('## warm-up (5 s of small and critical reads, not measured)');
  await warmUpServer(target, ctx);
  o.say('## tune (static settings)');
  const t = await tune(target, ctx, { criticalRate: o.criticalRate, ...(o.criticalP99Ms === undefined ? {} : { targetP99Ms: o.criticalP99Ms }), users: 20, trialMs: o.trialMs, warmupMs: o.warmupMs, quick: o.quick, progress: o.say });
  const best = t.best.setting;
  const shape = { workers: best.workers, connections: best.connections };
  const adaptiveOf = (adaptive: true | AdaptiveLimitOptions): EngineSetting =>
    ({ ...shape, lanes: { critical: { reserved: best.lanes?.['critical']?.reserved ?? 1 }, normal: { maxQueue: best.lanes?.['normal']?.maxQueue ?? 200, adaptive } } });
  // The adaptive lane is told the critical lane's objective (tune's target, as a service states its
  // SLO: `guardTargetMs`), never the static setting; a variant may set its own (0: relative to the base).
  const told = { guardTargetMs: Math.round(t.targetP99Ms * 100) / 100 };
  const adaptiveSetting = adaptiveOf(told);
  const variants = (o.variants ?? []).map((options, k) => ({ kind: `variant ${k + 1}`, options, setting: adaptiveOf({ ...told, ...options }) }));
  for (const v of variants) o.say(`  ${v.kind}: ${JSON.stringify(v.options)}`);
  const fallback = staticFallback(t)?.setting;
  // The rest of the ladder: a user whose pick misses steps the cap down to the step that holds.
  const ladder = staticLadder(t).slice(fallback ? 1 : 0)
    .map((x) => ({ kind: `static cap ${x.setting.lanes?.['normal']?.maxConcurrency ?? 'none'}`, setting: x.setting }));
  const staticKinds = staticKindsOf(fallback !== undefined, ladder.map((x) => x.kind));
  const settingOf = (kind: string): EngineSetting =>
    (kind === 'static' ? best : kind === 'static fallback' ? fallback! : kind === 'adaptive' ? adaptiveSetting
      : (ladder.find((x) => x.kind === kind) ?? variants.find((v) => v.kind === kind)!).setting);
  const normalRate = t.normalRate;
  o.say(`\n## best static \`${lanesEnv(best)}\`${fallback ? ` and its fallback \`${lanesEnv(fallback)}\`` : ''}${ladder.map((x) => `, \`${lanesEnv(x.setting)}\``).join('')} (${shape.workers} worker(s) x ${shape.connections} connections) against \`${lanesEnv(adaptiveSetting)}\`, ${o.reps} rep(s), ABBA`);
  const runs: Comparison['runs'] = [];
  for (let rep = 1; rep <= o.reps; rep++) {
    const kinds = [...staticKinds, 'adaptive', ...variants.map((v) => v.kind)];
    const order = rep % 2 === 1 ? kinds : [...kinds].reverse();
    for (const kind of order) {
      const r = await overloadTrial(target, ctx, settingOf(kind), {
        criticalRate: o.criticalRate, normalRate, targetP99Ms: t.targetP99Ms, trialMs: o.compareMs, warmupMs: o.compareWarmupMs ?? o.warmupMs, progress: (l) => o.say(`  rep ${rep} ${kind}:${l}`),
        traceEveryMs: 100,
      });
      const { trace, ...trial } = r;
      runs.push({ rep, kind, trial, trace });
      if (!staticKinds.includes(kind)) o.say(`    ${traceSummary(trace, trial)}`);
      if (trial.traceCostMs) o.say(`    trace: ${trial.traceCostMs.samples} reads of the lanes, ${trial.traceCostMs.mean.toFixed(3)} ms each on average, at most ${trial.traceCostMs.max.toFixed(2)} ms`);
    }
  }
  const of = (k: string) => runs.filter((r) => r.kind === k).map((r) => r.trial);
  const staticMean = { goodput: mean(of('static').map((x) => x.normalServed)), criticalP99Ms: mean(of('static').map((x) => x.criticalP99Ms)) };
  const adaptiveMean = { goodput: mean(of('adaptive').map((x) => x.normalServed)), criticalP99Ms: mean(of('adaptive').map((x) => x.criticalP99Ms)) };
  // The critical p99 judged is the one over all the contender's critical answers in the run (its
  // repetitions pooled), not a mean of per-trial p99s: one stalled trial weighs what its answers weigh.
  const staticPooled = pooledTrial(of('static'), t.targetP99Ms);
  const v = judge(runs, staticKinds, 'adaptive', t.targetP99Ms);
  const fallbackFigures = fallback
    ? { setting: fallback, mean: { goodput: mean(of('static fallback').map((x) => x.normalServed)), criticalP99Ms: mean(of('static fallback').map((x) => x.criticalP99Ms)) }, pooled: pooledTrial(of('static fallback'), t.targetP99Ms) }
    : undefined;
  const ladderFigures = ladder.map((x) => ({
    kind: x.kind, setting: x.setting, mean: { goodput: mean(of(x.kind).map((r) => r.normalServed)), criticalP99Ms: mean(of(x.kind).map((r) => r.criticalP99Ms)) }, pooled: pooledTrial(of(x.kind), t.targetP99Ms),
  }));
  // Enumerated exactly: with more reps than it takes it is left out rather than thrown at the end of a long run.
  const firmness = (kind: string) => (o.reps <= FIRMNESS_MAX_REPS ? { firmness: verdictFirmness(runs, staticKinds, kind, t.targetP99Ms) } : {});
  const variantResults = variants.map((x) => {
    const j = judge(runs, staticKinds, x.kind, t.targetP99Ms);
    return { kind: x.kind, options: x.options, goodput: j.goodput, criticalP99Ms: j.pooled.criticalP99Ms, goodputRatio: j.goodputRatio, met: j.met, ...firmness(x.kind) };
  });
  return {
    tune: t, runs, variants: variantResults, staticMean, adaptiveMean, staticPooled, adaptivePooled: v.pooled, ...(fallbackFigures ? { fallback: fallbackFigures } : {}),
    ...(ladderFigures.length > 0 ? { ladder: ladderFigures } : {}),
    yardstick: v.yardstick, vsPick: v.vsPick, goodputRatio: v.goodputRatio, goodputMet: v.goodputMet, latencyMet: v.latencyMet, met: v.met,
    ...firmness('adaptive'),
    ...(o.reps >= 2 && o.reps <= FIRMNESS_MAX_REPS ? { twins: twinVerdicts(runs, staticKinds, 'adaptive', t.targetP99Ms) } : {}),
  };
}

export function printComparison(c: Comparison, say: Say): void {
  say(`\nTarget: critical p99 <= ${c.tune.targetP99Ms} ms (${(c.tune.targetP99Ms / c.tune.idleCriticalP99Ms).toFixed(2)}x idle ${c.tune.idleCriticalP99Ms.toFixed(2)} ms) at ${c.tune.criticalRate} req/s; normal offered at ${c.tune.normalRate.toFixed(0)} req/s (2x the most a shape served; the default engine's first figure: ${c.tune.capacity.toFixed(0)}).`);
  const pooled = c.tune.best.pooled ?? 1;
  say(`Best static by tune's rule: \`${lanesEnv(c.tune.best.setting)}\` (${c.tune.best.meets ? 'meets the target' : 'no static setting met the target: lowest critical p99'}${pooled > 1 ? `, over ${pooled} trials in tune` : ''}).`);
  const rec = recommendationSummary(c);
  if (rec) say(`tune's recommendation: ${rec}.`);
  say('\n| rep | contender | critical p50 ms | critical p99 ms | normal goodput req/s | adaptive limit at end |');
  say('|---:|---|---:|---:|---:|---|');
  for (const r of c.runs) {
    const e = r.trial.adaptiveEnd;
    say(`| ${r.rep} | ${r.kind} | ${r.trial.criticalP50Ms.toFixed(2)} | ${r.trial.criticalP99Ms.toFixed(2)} | ${r.trial.normalServed.toFixed(0)} | ${e ? `${e.limit} (${e.changes} changes)` : '-'} |`);
  }
  say(`\nMeans of the reps: static goodput ${c.staticMean.goodput.toFixed(0)} req/s, critical p99 ${c.staticMean.criticalP99Ms.toFixed(2)} ms; ` +
    `adaptive goodput ${c.adaptiveMean.goodput.toFixed(0)} req/s, critical p99 ${c.adaptiveMean.criticalP99Ms.toFixed(2)} ms.`);
  if (c.fallback) say(`Static fallback \`${lanesEnv(c.fallback.setting)}\`: goodput ${c.fallback.mean.goodput.toFixed(0)} req/s, critical p99 ${c.fallback.mean.criticalP99Ms.toFixed(2)} ms (means of the reps).`);
  for (const x of c.ladder ?? []) say(`${x.kind[0]!.toUpperCase()}${x.kind.slice(1)} \`${lanesEnv(x.setting)}\`: goodput ${x.mean.goodput.toFixed(0)} req/s, critical p99 ${x.mean.criticalP99Ms.toFixed(2)} ms (means of the reps).`);
  if (c.staticPooled && c.adaptivePooled) {
    say(`Critical p99 over all reps' answers (judged): static ${c.staticPooled.criticalP99Ms.toFixed(2)} ms${c.fallback ? `, static fallback ${c.fallback.pooled.criticalP99Ms.toFixed(2)} ms` : ''}${(c.ladder ?? []).map((x) => `, ${x.kind} ${x.pooled.criticalP99Ms.toFixed(2)} ms`).join('')}, adaptive ${c.adaptivePooled.criticalP99Ms.toFixed(2)} ms; target ${c.tune.targetP99Ms} ms.`);
  }
  const y = c.yardstick;
  if (y) {
    say(`Yardstick (the best static setting as measured in this comparison): ${y.kind}, ${y.goodput.toFixed(0)} req/s, ${y.held ? 'held the target' : 'no static setting held the target here: tune\'s pick'}.`);
  }
  say(`Goodput ratio adaptive / ${y ? y.kind : 'best static'}: ${(c.goodputRatio * 100).toFixed(0)} % (${c.goodputMet ? 'within' : 'NOT within'} 10 %); ` +
    `adaptive critical p99 ${c.latencyMet ? 'within' : 'NOT within'} the target. Done criterion: ${c.met ? 'MET' : 'NOT MET'}.`);
  if (c.firmness) say(`How firm: met in ${percentMet(c.firmness)} of the ${c.firmness.draws} draws of the reps with replacement (verdictFirmness).`);
  if (c.twins) say(`Noise floor (twinVerdicts): ${twinText(c.twins)}.`);
  if (c.vsPick && y && y.kind !== 'static') {
    const held = c.staticPooled?.meets === true ? 'it held the target here, with less goodput than the yardstick' : 'it did not hold the target here';
    say(`Against tune's pick alone (${held}): ${(c.vsPick.goodputRatio * 100).toFixed(0)} %, ${c.vsPick.met ? 'met' : 'not met'}.`);
  }
  for (const v of c.variants) {
    say(`${v.kind} ${JSON.stringify(v.options)}: goodput ${v.goodput.toFixed(0)} req/s (${(v.goodputRatio * 100).toFixed(0)} % of static), critical p99 ${v.criticalP99Ms.toFixed(2)} ms: ${v.met ? 'would meet' : 'would not meet'} the criterion${v.firmness ? ` (met in ${percentMet(v.firmness)} of the draws of the reps)` : ''}.`);
  }
}

// ---- Features on and off ------------------------------------------------------------------

export interface FeatureRow {
  feature: string;
  mode: 'off' | 'on';
  /** What was measured and how much of it per second. */
  unit: string;
  throughput: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuMsPerUnit: number | null;
  note: string;
}

async function withEngine<T>(target: Readonly<WeaviateTarget>, o: { lanes: Record<string, LaneOptions>; costAwareLanes?: boolean; connections?: number }, fn: (e: Executor) => Promise<T>): Promise<T> {
  const e = await createExecutor(
    {
      weaviate: { ...target }, workers: 1, minConnections: o.connections ?? 4, maxConnections: o.connections ?? 4, defaultDeadlineMs: REQUEST_TIMEOUT_MS,
      leakDetectionThresholdMs: 0, lanes: o.lanes, logger: silentLogger, ...(o.costAwareLanes !== undefined ? { costAwareLanes: o.costAwareLanes } : {}),
    },
    {},
  );
  try {
    return await fn(e);
  } finally {
    await e.close();
  }
}

const row = (feature: string, mode: 'off' | 'on', unit: string, m: CellMeasure, note: string, perUnit = 1): FeatureRow => ({
  feature, mode, unit, throughput: m.throughput * perUnit, p50Ms: m.latency.p50_us / 1000, p99Ms: m.latency.p99_us / 1000,
  serverCpuMsPerUnit: m.serverCpuMsPerQuery === null ? null : m.serverCpuMsPerQuery / perUnit, note,
});

export async function features(target: Readonly<WeaviateTarget>, ctx: MeasureContext, o: { warmupMs: number; durationMs: number; say: Say }): Promise<FeatureRow[]> {
  const rows: FeatureRow[] = [];
  const loop = { warmupMs: o.warmupMs, durationMs: o.durationMs };

  // Coalescing: 32 callers over 4 distinct reads (duplicate-heavy).
  for (const on of [false, true]) {
    const r = await withEngine(target, { lanes: { normal: { coalesce: on } } }, async (e) => {
      const m = await closedLoop(ctx, (i) => e.query(smallQuery(i % 4), { lane: 'normal' }), { concurrency: 32, ...loop });
      return { m, hits: (await e.stats()).lanes['normal']?.coalesced ?? 0 };
    });
    rows.push(row('coalescing (32 callers, 4 distinct reads)', on ? 'on' : 'off', 'reads/s', r.m, on ? `${r.hits} reads answered by another's call` : ''));
    o.say(`  coalescing ${on ? 'on' : 'off'}: ${r.m.throughput.toFixed(0)} reads/s, p99 ${(r.m.latency.p99_us / 1000).toFixed(2)} ms${on ? `, ${r.hits} coalesced` : ''}`);
  }

  // Write batching: 32 callers each inserting one object at a time, a fresh collection per mode.
  const base = `http://${target.host}:${target.httpPort}`;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {}) };
  for (const on of [false, true]) {
    const collection = `WexBenchBatch${process.pid}${on ? 'On' : 'Off'}`;
    const made = await fetch(`${base}/v1/schema`, { method: 'POST', headers, body: JSON.stringify({ class: collection, vectorizer: 'none', properties: [{ name: 'i', dataType: ['int'] }] }) });
    if (!made.ok) throw new Error(`could not create ${collection}: HTTP ${made.status}`);
    try {
      const r = await withEngine(target, { lanes: { write: on ? { batchWrites: true } : {} } }, async (e) => {
        const m = await closedLoop(ctx, (i) => e.query({ kind: 'insertMany', collection, objects: [{ properties: { i } }] } as QuerySpec, { lane: 'write' }), { concurrency: 32, ...loop });
        return { m, wb: (await e.stats()).lanes['write']?.write_batches };
      });
      rows.push(row('write batching (32 callers, 1-object inserts)', on ? 'on' : 'off', 'inserts/s', r.m, r.wb ? `${r.wb.batches} batches, ${r.wb.joined} inserts joined into another's` : ''));
      o.say(`  write batching ${on ? 'on' : 'off'}: ${r.m.throughput.toFixed(0)} inserts/s, p99 ${(r.m.latency.p99_us / 1000).toFixed(2)} ms`);
    } finally {
      await fetch(`${base}/v1/schema/${collection}`, { method: 'DELETE', headers });
    }
  }

  // Cost-aware lanes: a lane of hybrids against a lane of bm25s, equal weights, 16 callers each,
  // 8 slots; the question is how the server's time (slot time) is split.
  const bm25 = (i: number): QuerySpec => smallQuery(i * 2); // even i: bm25
  for (const on of [false, true]) {
    const r = await withEngine(target, { lanes: { hybrid: { weight: 1 }, bm25: { weight: 1 } }, costAwareLanes: on, connections: 2 }, async (e) => {
      // Warm the cost model (both kinds measured) before the window.
      const [h, b] = await Promise.all([
        closedLoop(ctx, () => e.query(criticalQuery(), { lane: 'hybrid' }), { concurrency: 16, ...loop }),
        closedLoop(ctx, (i) => e.query(bm25(i), { lane: 'bm25' }), { concurrency: 16, ...loop }),
      ]);
      const s = await e.stats();
      return { h, b, costs: s.query_costs ?? null };
    });
    // Slot time per lane = served x mean slot time of its kind (measured once, with costs on, below).
    const note = r.costs ? `measured slot time: hybrid ${r.costs['query:hybrid']?.avg_ms.toFixed(2) ?? '-'} ms, bm25 ${r.costs['query:bm25']?.avg_ms.toFixed(2) ?? '-'} ms` : '';
    rows.push(row('cost-aware lanes: hybrid lane', on ? 'on' : 'off', 'hybrids/s', r.h, note));
    rows.push(row('cost-aware lanes: bm25 lane', on ? 'on' : 'off', 'bm25s/s', r.b, ''));
    o.say(`  cost-aware ${on ? 'on' : 'off'}: hybrid lane ${r.h.throughput.toFixed(0)}/s (p99 ${(r.h.latency.p99_us / 1000).toFixed(1)} ms), bm25 lane ${r.b.throughput.toFixed(0)}/s (p99 ${(r.b.latency.p99_us / 1000).toFixed(1)} ms) ${note}`);
  }
  return rows;
}

export function printFeatures(rows: FeatureRow[], say: Say): void {
  say('\n| feature | mode | throughput | p50 ms | p99 ms | note |');
  say('|---|---|---:|---:|---:|---|');
  for (const r of rows) say(`| ${r.feature} | ${r.mode} | ${r.throughput.toFixed(0)} ${r.unit} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.note} |`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      'critical-rate': { type: 'string', default: '50' },
      'critical-p99': { type: 'string' },
      'adaptive-options': { type: 'string' },
      'compare-warmup-ms': { type: 'string' },
    },
  });
  const quick = values.quick!;
  const reps = Number(values.reps ?? 2);
  const warmupMs = quick ? 1000 : 2000;
  const compareWarmupMs = Number(values['compare-warmup-ms'] ?? (quick ? warmupMs : 12_000));
  if (!Number.isInteger(compareWarmupMs) || compareWarmupMs < 0) throw new Error(`--compare-warmup-ms must be a non-negative integer, got ${values['compare-warmup-ms']}`);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a positive integer, got ${values.reps}`);
  const criticalRate = positiveArg('critical-rate', values['critical-rate'], 'req/s')!;
  const criticalP99Ms = positiveArg('critical-p99', values['critical-p99'], 'ms');
  if (values.only !== undefined && values.only !== 'adaptive' && values.only !== 'features') throw new Error(`--only must be adaptive or features, got ${values.only}`);
  const rawVariants: unknown = values['adaptive-options'] === undefined ? [] : JSON.parse(values['adaptive-options']);
  const variants = (Array.isArray(rawVariants) ? rawVariants : [rawVariants]) as AdaptiveLimitOptions[];
  const say = (l: string) => console.log(l);
  const t0 = Date.now();
  const started = new Date().toISOString();
  const commit = gitCommit();
  say(`bench:adaptive ${process.argv.slice(2).join(' ')} at ${started}, commit ${commit}, load ${execSync('uptime', { encoding: 'utf8' }).trim()}`);
  const settings: AdaptiveSettings = {
    reps, trialMs: quick ? 4000 : 10_000, warmupMs, compareMs: quick ? 8000 : 20_000, compareWarmupMs, featureMs: quick ? 4000 : 10_000,
    criticalRate, ...(criticalP99Ms === undefined ? {} : { criticalP99Ms }), only: values.only ?? null,
  };
  await withSampleWeaviate(say, async (weaviate) => {
    const target = resolveTarget({ ...weaviate.target }, {});
    const ctx: MeasureContext = { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort };
    const out: AdaptiveRun = { started, commit, quick };
    if (values.only !== 'features') {
      out.comparison = await adaptiveVsStatic(target, ctx, { ...settings, quick, say, variants });
      printComparison(out.comparison, say);
    }
    if (values.only !== 'adaptive') {
      say('\n## features on and off');
      out.features = await features(target, ctx, { warmupMs: settings.warmupMs, durationMs: settings.featureMs, say });
      printFeatures(out.features, say);
    }
    // The same keys as the main bench's meta (bench/report.ts settingsTable reads them).
    out.meta = {
      date: started,
      commit,
      command: `npm run bench:adaptive -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
      node: process.version,
      weaviate: { version: await fetchServerVersion(target, 5000).catch(() => 'unknown'), sameHost: ['127.0.0.1', 'localhost'].includes(target.host) },
      data: `m_asset_schema, ${DEFAULT_SAMPLE_SIZE} objects, 64-dim vectors`,
      durationS: Math.round((Date.now() - t0) / 1000),
      settings,
    };
    await mkdir(new URL('./results/', import.meta.url), { recursive: true });
    const file = values.out ?? new URL(`./results/adaptive-${started.replace(/[:.]/g, '-')}.json`, import.meta.url).pathname;
    await writeFile(file, JSON.stringify(out, null, 1));
    const report = file.replace(/(\.json)?$/, '.html');
    await writeFile(report, adaptiveHtml(out));
    say(`\nwrote ${file}\nHTML: ${report}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
