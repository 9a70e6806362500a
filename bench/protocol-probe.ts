/**
 * Does the way a trial is run move the critical p99 it measures (issue 13)? In bench:adaptive runs
 * tune's pick met its target over 3 trials in tune and missed it in the comparison minutes later
 * (every run of 2026-11-27 10:37Z-12:33Z, and 18:53Z after the server restart). Tune runs 10 s
 * trials after 2 s of warm-up with nothing reading the lanes; the comparison 20 s after 12 s with
 * the lanes read every 100 ms. This runs one setting (tune's usual pick: 1 worker x 16
 * connections, critical reserved 2, normal capped at `cap`, queue 200) in the bench's overload mix
 * (critical 50 req/s, normal offered at 4,000 req/s, open loop) under
 *   tune            10 s after 2 s, no trace
 *   compare         20 s after 12 s, traced every 100 ms
 *   compareNoTrace  20 s after 12 s, no trace
 * in rotation, `reps` times each, and prints each trial's critical p99 and the p99 over all of a
 * kind's answers (as bench:adaptive pools them).
 *   node --expose-gc bench/protocol-probe.ts [cap=2] [reps=4]   (Node 24: PATH=node_modules/.bin:$PATH)
 */
import { resolveTarget } from '../src/pool/config.ts';
import type { EngineSetting } from './contenders.ts';
import type { MeasureContext } from './load.ts';
import { withSampleWeaviate } from './setup.ts';
import { overloadTrial, pooledTrial, warmUpServer, type Trial } from './tune.ts';

const cap = Number(process.argv[2] ?? 2);
const reps = Number(process.argv[3] ?? 4);
const setting: EngineSetting = { workers: 1, connections: 16, lanes: { critical: { reserved: 2 }, normal: { maxQueue: 200, maxConcurrency: cap } } };
const kinds: Record<string, { trialMs: number; warmupMs: number; traceEveryMs?: number }> = {
  tune: { trialMs: 10_000, warmupMs: 2000 },
  compare: { trialMs: 20_000, warmupMs: 12_000, traceEveryMs: 100 },
  compareNoTrace: { trialMs: 20_000, warmupMs: 12_000 },
};
const say = (l: string) => console.log(l);
const trials: Record<string, Trial[]> = {};
await withSampleWeaviate(say, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const ctx: MeasureContext = { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort };
  await warmUpServer(target, ctx);
  for (let rep = 1; rep <= reps; rep++) {
    const names = Object.keys(kinds);
    for (const k of rep % 2 === 1 ? names : names.reverse()) {
      const r = await overloadTrial(target, ctx, setting, { criticalRate: 50, normalRate: 4000, targetP99Ms: 1000, progress: () => {}, ...kinds[k]! });
      (trials[k] ??= []).push(r);
      say(`rep ${rep} ${k}: critical p99 ${r.criticalP99Ms.toFixed(2)} ms, p50 ${r.criticalP50Ms.toFixed(2)} ms, normal served ${r.normalServed.toFixed(0)} req/s`);
    }
  }
});
say('\n| protocol | critical p99 per trial (ms) | pooled p99 | normal goodput (mean) |\n|---|---|---:|---:|');
for (const [k, ts] of Object.entries(trials)) {
  const pooled = pooledTrial(ts, 1000);
  say(`| ${k} | ${ts.map((t) => t.criticalP99Ms.toFixed(1)).join(', ')} | ${pooled.criticalP99Ms.toFixed(2)} | ${(ts.reduce((a, t) => a + t.normalServed, 0) / ts.length).toFixed(0)} |`);
}
