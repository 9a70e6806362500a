/**
 * `npm run bench:headroom -- bench/results/adaptive-*.json`
 *
 * How tune's figures for a static setting compare with what bench:adaptive's comparison measured
 * for the same setting minutes later, in recorded runs, and how often the setting tune recommends
 * (recommendedPick) at a few headrooms held the target in that comparison.
 * 1. Every static contender of a comparison (tune's pick, its fallback, the ladder) that tune also
 *    measured: tune's critical p99 (pooled over its re-measurement where there was one, else its
 *    sweep trial) against the comparison's pooled p99 over the reps, and the goodput likewise.
 * 2. For each headroom: the setting recommendedPick chooses from the run's tune figures, and the
 *    comparison's contender at the same setting, else at the same normal cap (marked `~`): held
 *    the target or not, and its goodput over the best static contender that held (none held: `-`).
 *    A run whose comparison ran no contender at that cap counts for neither.
 * The comparisons only ran settings tune had picked (all had met the target in tune), and the
 * headroom was chosen by looking at these same runs: an in-sample figure, not a forecast.
 * Prints Markdown.
 */
import { readFileSync } from 'node:fs';
import type { Comparison } from './adaptive.ts';
import type { AdaptiveRun } from './adaptive-report.ts';
import type { EngineSetting } from './contenders.ts';
import { median } from './report.ts';
import { lanesEnv, measuredFigures, normalCap, recommendedPick, settingKey, type Trial } from './tune.ts';

export const HEADROOMS = [1, 0.9, 0.8, 0.7] as const;

const capName = (s: EngineSetting): string => (Number.isFinite(normalCap(s)) ? `cap ${normalCap(s)}` : 'no cap');

/** The comparison's static contenders, pooled over their reps. */
export function staticContenders(c: Comparison): { kind: string; pooled: Trial }[] {
  return [
    ...(c.staticPooled ? [{ kind: 'pick', pooled: c.staticPooled }] : []),
    ...(c.fallback ? [{ kind: 'fallback', pooled: c.fallback.pooled }] : []),
    ...(c.ladder ?? []).map((l) => ({ kind: l.kind, pooled: l.pooled })),
  ];
}

export interface Pair { kind: string; tuneP99Ms: number; comparisonP99Ms: number; tuneGoodput: number; comparisonGoodput: number }

/** Part 1: each static contender tune measured, tune's figures against the comparison's. */
export function tuneVsComparison(c: Comparison): Pair[] {
  const figures = measuredFigures(c.tune);
  return staticContenders(c).flatMap(({ kind, pooled }) => {
    const t = figures.get(settingKey(pooled.setting));
    return t ? [{ kind, tuneP99Ms: t.criticalP99Ms, comparisonP99Ms: pooled.criticalP99Ms, tuneGoodput: t.normalServed, comparisonGoodput: pooled.normalServed }] : [];
  });
}

export interface Outcome { setting: EngineSetting; withHeadroom: boolean; measured: 'setting' | 'cap' | 'no'; held?: boolean; p99Ms?: number; vsBestHeld?: number }

/** Part 2: what recommendedPick at `headroom` chose in this run, and how it fared in the comparison. */
export function headroomOutcome(c: Comparison, headroom: number): Outcome {
  const target = c.tune.targetP99Ms;
  const r = recommendedPick({ best: c.tune.best, confirmed: c.tune.confirmed ?? [], trials: c.tune.trials, targetP99Ms: target }, headroom);
  const statics = staticContenders(c).map((s) => s.pooled);
  const held = (t: Trial) => t.criticalP99Ms <= target && t.criticalErrors === 0;
  const exact = statics.find((t) => settingKey(t.setting) === settingKey(r.trial.setting));
  const sameCap = statics.find((t) => normalCap(t.setting) === normalCap(r.trial.setting));
  const at = exact ?? sameCap;
  if (!at) return { setting: r.trial.setting, withHeadroom: r.withHeadroom, measured: 'no' };
  const bestHeld = Math.max(0, ...statics.filter(held).map((t) => t.normalServed));
  return {
    setting: r.trial.setting, withHeadroom: r.withHeadroom, measured: exact ? 'setting' : 'cap', held: held(at), p99Ms: at.criticalP99Ms,
    ...(bestHeld > 0 ? { vsBestHeld: at.normalServed / bestHeld } : {}),
  };
}

/**
 * What tune recommended to paste (TuneResult.recommended; runs recorded before 2026-11-27 21:20Z
 * have none) and how the comparison found it (headroomOutcome at tune's headroom), for
 * bench:adaptive's summary and report.
 */
export function recommendationSummary(c: Comparison): string | undefined {
  const rec = c.tune.recommended;
  if (!rec) return undefined;
  const room = `${((c.tune.headroom ?? 1) * 100).toFixed(0)} %`;
  const o = headroomOutcome(c, c.tune.headroom ?? 1);
  const here = o.measured === 'no'
    ? 'not run in this comparison (no static contender at its cap)'
    : `in this comparison ${o.measured === 'cap' ? 'the contender at its normal cap ' : ''}${o.held ? 'held' : 'missed'} the target at ${o.p99Ms!.toFixed(2)} ms`;
  const why = c.tune.recommendedHasHeadroom ? `the most goodput within ${room} of the target` : `none came within ${room} of the target: the most room`;
  return `VECTOR_STORE_LANES="${lanesEnv(rec.setting)}" (${why}; critical p99 ${rec.criticalP99Ms.toFixed(2)} ms in tune); ${here}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npm run bench:headroom -- bench/results/adaptive-*.json');
    process.exitCode = 2;
  } else {
    const runs = files.flatMap((file) => {
      const c = (JSON.parse(readFileSync(file, 'utf8')) as AdaptiveRun).comparison;
      return c?.tune.confirmed && c.staticPooled ? [{ name: /adaptive-(.*)\.json$/.exec(file)?.[1] ?? file, c }] : [];
    });
    const pairs = runs.flatMap(({ c }) => tuneVsComparison(c));
    console.log(`## tune's figure against the comparison's, same setting (${runs.length} runs with both, ${pairs.length} pairs)\n`);
    if (pairs.length > 0) {
      const p99 = pairs.map((p) => p.comparisonP99Ms / p.tuneP99Ms);
      console.log(`critical p99, comparison / tune: median ${median(p99).toFixed(2)}x (range ${Math.min(...p99).toFixed(2)}-${Math.max(...p99).toFixed(2)}), higher in ${pairs.filter((p) => p.comparisonP99Ms > p.tuneP99Ms).length} of ${pairs.length}; ` +
        `normal goodput, comparison / tune: median ${median(pairs.map((p) => p.comparisonGoodput / p.tuneGoodput)).toFixed(2)}x`);
    }
    console.log(`\n## The recommended setting at each headroom, in the comparison\n`);
    console.log(`| run | target ms | ${HEADROOMS.map((h) => `headroom ${h}`).join(' | ')} |`);
    console.log(`|---|---:|${HEADROOMS.map(() => '---|').join('')}`);
    const tally = HEADROOMS.map(() => ({ held: 0, measured: 0, ratios: [] as number[] }));
    for (const { name, c } of runs) {
      const cells = HEADROOMS.map((h, k) => {
        const o = headroomOutcome(c, h);
        if (o.measured !== 'no') {
          tally[k]!.measured++;
          if (o.held) tally[k]!.held++;
          if (o.held && o.vsBestHeld !== undefined) tally[k]!.ratios.push(o.vsBestHeld);
        }
        const what = `${o.measured === 'cap' ? '~' : ''}${capName(o.setting)}${o.withHeadroom ? '' : ' (no room)'}`;
        return o.measured === 'no' ? `${what}: not run` : `${what}: ${o.held ? 'held' : 'missed'} ${o.p99Ms!.toFixed(1)} ms, ${o.vsBestHeld === undefined ? '-' : `${o.vsBestHeld.toFixed(2)}x`}`;
      });
      console.log(`| ${name} | ${c.tune.targetP99Ms} | ${cells.join(' | ')} |`);
    }
    console.log(`| **held / run** | | ${tally.map((t) => `**${t.held} / ${t.measured}**${t.ratios.length > 0 ? `, when held median ${median(t.ratios).toFixed(2)}x the best held` : ''}`).join(' | ')} |`);
  }
}
