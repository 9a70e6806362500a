/**
 * `npm run bench:firmness -- bench/results/adaptive-*.json`
 *
 * How firm each recorded verdict of issue 13 is (verdictFirmness in bench/adaptive.ts): for each
 * bench:adaptive report given, the verdict as recorded and the share of the draws of its reps
 * (with replacement, a rep's contenders together) in which the criterion is met, for the adaptive
 * lane and each variant. Reports are judged by today's rule (judge(): the yardstick the best static
 * contender that held the target), also those recorded before it, so a verdict may differ from the
 * one the report printed; the column `recorded` says what it printed. The last column is the
 * criterion's noise floor (twinVerdicts in bench/adaptive.ts): the reps split into halves, the
 * yardstick found in one half, and in the other its twin (the same static setting), tune's pick
 * and the lane each judged against it, over every split. Prints a Markdown table, then the three
 * shares over all the reports judged, over those at tune's 1.5x-idle target and over those with a
 * stated one, and the lane's per-report differences from the twin and the pick.
 */
import { readFileSync } from 'node:fs';
import { judge, staticKindsOf, twinVerdicts, verdictFirmness, type Comparison, type TwinVerdicts } from './adaptive.ts';
import { percentMet, type AdaptiveRun } from './adaptive-report.ts';

/** A report's name in the table: its time stamp. */
const runName = (file: string) => /adaptive-(.*)\.json$/.exec(file)?.[1] ?? file;

/** Whether a comparison's target was stated (`--critical-p99`) rather than tune's rule, 1.5x the idle critical p99. */
export const statedTarget = (c: Comparison) => Math.abs(c.tune.targetP99Ms - 1.5 * c.tune.idleCriticalP99Ms) > 0.01;

export function firmnessRow(file: string, c: Comparison, twins?: { stated: boolean; t: TwinVerdicts }[]): string {
  if (c.runs.some((r) => typeof r.trial.criticalHistogram !== 'string')) throw new Error('its trials kept no critical histograms (recorded before 2026-11-26 17:00Z)');
  const kinds = staticKindsOf(c.fallback !== undefined, (c.ladder ?? []).map((x) => x.kind));
  const target = c.tune.targetP99Ms;
  const cell = (kind: string) => {
    const j = judge(c.runs, kinds, kind, target);
    const f = verdictFirmness(c.runs, kinds, kind, target);
    return `${j.goodputRatio.toFixed(2)}x, ${j.pooled.criticalP99Ms.toFixed(2)} ms: ${j.met ? 'met' : 'not met'} (${percentMet(f)})`;
  };
  const yardstick = judge(c.runs, kinds, 'adaptive', target).yardstick;
  const t = twinVerdicts(c.runs, kinds, 'adaptive', target);
  twins?.push({ stated: statedTarget(c), t });
  return `| ${runName(file)} | ${target} | ${yardstick.kind}${yardstick.held ? '' : ' (none held)'} | ${c.met ? 'met' : 'not met'} | ${cell('adaptive')} | ${c.variants.map((v) => cell(v.kind)).join('; ') || '-'} | ${t.twin}/${t.splits}, ${t.pick}/${t.splits}, ${t.lane}/${t.splits} |`;
}

/** Over the reports judged (`which` names them): the mean share of splits met by the twin, tune's pick and the lane, and in how many reports the lane met at least as often as the twin. */
export function twinSummary(twins: readonly TwinVerdicts[], which = 'reports'): string {
  if (twins.length === 0) return `No ${which} had the reps to split.`;
  const share = (k: 'twin' | 'pick' | 'lane') => twins.reduce((a, t) => a + t[k] / t.splits, 0) / twins.length;
  const atLeast = twins.filter((t) => t.lane >= t.twin).length;
  // The lane's share minus the other's, report by report, in percentage points: mean ± 1.96 standard errors.
  const diff = (k: 'twin' | 'pick') => {
    const d = twins.map((t) => (100 * (t.lane - t[k])) / t.splits);
    const m = d.reduce((a, x) => a + x, 0) / d.length;
    if (d.length < 2) return `${m >= 0 ? '+' : ''}${m.toFixed(1)}`;
    const se = Math.sqrt(d.reduce((a, x) => a + (x - m) ** 2, 0) / (d.length - 1) / d.length);
    return `${m >= 0 ? '+' : ''}${m.toFixed(1)} ± ${(1.96 * se).toFixed(1)}`;
  };
  return `Over ${twins.length} ${which}, split into halves: the yardstick's twin met the criterion in ${(share('twin') * 100).toFixed(0)} % of the splits, tune's pick in ${(share('pick') * 100).toFixed(0)} %, the adaptive lane in ${(share('lane') * 100).toFixed(0)} %; the lane met it at least as often as the twin in ${atLeast} of ${twins.length}; the lane minus the twin ${diff('twin')} points, minus tune's pick ${diff('pick')} (per report, mean ± 1.96 standard errors).`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npm run bench:firmness -- bench/results/adaptive-*.json');
    process.exitCode = 2;
  } else {
    console.log('| run | target ms | yardstick | recorded | adaptive: x yardstick, p99: verdict (met in % of draws) | variants, the same | split in halves: twin met, pick met, lane met |');
    console.log('|---|---:|---|---|---|---|---|');
    const twins: { stated: boolean; t: TwinVerdicts }[] = [];
    for (const file of files) {
      const run = JSON.parse(readFileSync(file, 'utf8')) as AdaptiveRun;
      if (!run.comparison) continue;
      try {
        console.log(firmnessRow(file, run.comparison, twins));
      } catch (error) {
        console.log(`| ${runName(file)} | not judged: ${error instanceof Error ? error.message : String(error)} |`);
      }
    }
    console.log('');
    console.log(twinSummary(twins.map((x) => x.t)));
    console.log(twinSummary(twins.filter((x) => !x.stated).map((x) => x.t), 'reports at tune\'s 1.5x-idle target'));
    console.log(twinSummary(twins.filter((x) => x.stated).map((x) => x.t), 'reports with a stated target'));
  }
}
