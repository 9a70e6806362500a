/**
 * `npm run bench:firmness -- bench/results/adaptive-*.json`
 *
 * How firm each recorded verdict of issue 13 is (verdictFirmness in bench/adaptive.ts): for each
 * bench:adaptive report given, the verdict as recorded and the share of the draws of its reps
 * (with replacement, a rep's contenders together) in which the criterion is met, for the adaptive
 * lane and each variant. Reports are judged by today's rule (judge(): the yardstick the best static
 * contender that held the target), also those recorded before it, so a verdict may differ from the
 * one the report printed; the column `recorded` says what it printed. Prints a Markdown table.
 */
import { readFileSync } from 'node:fs';
import { judge, staticKindsOf, verdictFirmness, type Comparison } from './adaptive.ts';
import { percentMet, type AdaptiveRun } from './adaptive-report.ts';

/** A report's name in the table: its time stamp. */
const runName = (file: string) => /adaptive-(.*)\.json$/.exec(file)?.[1] ?? file;

export function firmnessRow(file: string, c: Comparison): string {
  if (c.runs.some((r) => typeof r.trial.criticalHistogram !== 'string')) throw new Error('its trials kept no critical histograms (recorded before 2026-11-26 17:00Z)');
  const kinds = staticKindsOf(c.fallback !== undefined, (c.ladder ?? []).map((x) => x.kind));
  const target = c.tune.targetP99Ms;
  const cell = (kind: string) => {
    const j = judge(c.runs, kinds, kind, target);
    const f = verdictFirmness(c.runs, kinds, kind, target);
    return `${j.goodputRatio.toFixed(2)}x, ${j.pooled.criticalP99Ms.toFixed(2)} ms: ${j.met ? 'met' : 'not met'} (${percentMet(f)})`;
  };
  const yardstick = judge(c.runs, kinds, 'adaptive', target).yardstick;
  return `| ${runName(file)} | ${target} | ${yardstick.kind}${yardstick.held ? '' : ' (none held)'} | ${c.met ? 'met' : 'not met'} | ${cell('adaptive')} | ${c.variants.map((v) => cell(v.kind)).join('; ') || '-'} |`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: npm run bench:firmness -- bench/results/adaptive-*.json');
    process.exitCode = 2;
  } else {
    console.log('| run | target ms | yardstick | recorded | adaptive: x yardstick, p99: verdict (met in % of draws) | variants, the same |');
    console.log('|---|---:|---|---|---|---|');
    for (const file of files) {
      const run = JSON.parse(readFileSync(file, 'utf8')) as AdaptiveRun;
      if (!run.comparison) continue;
      try {
        console.log(firmnessRow(file, run.comparison));
      } catch (error) {
        console.log(`| ${runName(file)} | not judged: ${error instanceof Error ? error.message : String(error)} |`);
      }
    }
  }
}
