/**
 * Is the critical tail at one normal slot worse with the adaptive machinery than with a static
 * cap of 1 (issue 13)? In bench:adaptive runs whose target sat at the edge of what 1 slot gave,
 * the adaptive lane spent 79-100 % of its trials at 1 slot and still missed the p99 that the
 * static cap 1 met in the same reps. This runs, in the bench's overload mix and in rotation:
 *   static1           the normal lane capped at 1 slot
 *   adaptMax1         adaptive, told the objective, pinned at 1 (maxLimit 1): all its machinery
 *                     (windows, probe, guard decisions) and never a try of 2 slots
 *   adaptMax1NoGuard  the same without the tail guard
 *   adaptive          adaptive, told the objective, free to climb
 *   adaptiveLong      the same after 60 s of warm-up instead of 12: a lane whose retry wait has
 *                     grown (5, 10, 20, 40, 60 s) and whose level memory is full, as in a service
 *                     that has run for a minute; does the tail its tries cost go away then?
 *   adaptiveLongNoProbe adaptiveLong without the no-load probe every minute (only the one at
 *                     start): the second probe falls at 60 s, where adaptiveLong's window starts
 *   adaptive3min      the told lane measured for 3 minutes from its start (no warm-up), with its
 *                     limit's timeline per 10 s printed: what holds a lane after its first minute
 * each `reps` times (20 s after 12 s of warm-up, 1 worker x 16 connections, critical reserved 2);
 * `kinds` (comma-separated) picks some of them. Prints the p99 per rep and over all the reps' answers.
 *   node --expose-gc bench/level-probe.ts [targetMs=26.5] [reps=5] [kinds=static1,adaptMax1,adaptMax1NoGuard,adaptive]   (Node 24: PATH=node_modules/.bin:$PATH)
 */
import { withSampleWeaviate } from './setup.ts';
import { overloadTrial, pooledTrial, type TracePoint, type Trial } from './tune.ts';
import type { EngineSetting } from './contenders.ts';
import type { LaneOptions } from '../src/engine/lanes.ts';
import { resolveTarget } from '../src/pool/config.ts';

const targetMs = Number(process.argv[2] ?? 26.5);
const reps = Number(process.argv[3] ?? 5);
const shape = { workers: 1, connections: 16 };
const critical = { reserved: 2 };
/** The probe's shape with the normal lane (queue 200) as given. */
const withNormal = (normal: LaneOptions): EngineSetting => ({ ...shape, lanes: { critical, normal: { maxQueue: 200, ...normal } } });
/** The told lane: adaptive, told the objective. */
const told = { guardTargetMs: targetMs };
const settings: Record<string, EngineSetting> = {
  static1: withNormal({ maxConcurrency: 1 }),
  adaptMax1: withNormal({ adaptive: { ...told, maxLimit: 1 } }),
  adaptMax1NoGuard: withNormal({ adaptive: { maxLimit: 1, protect: [] } }),
  adaptive: withNormal({ adaptive: told }),
  // The told lane again; only the trial's warm-up and length differ (below).
  adaptiveLong: withNormal({ adaptive: told }),
  adaptiveLongNoProbe: withNormal({ adaptive: { ...told, probeIntervalMs: 3_600_000 } }),
  adaptive3min: withNormal({ adaptive: told }),
};
const warmupMs: Record<string, number> = { adaptiveLong: 60_000, adaptiveLongNoProbe: 60_000, adaptive3min: 0 };
const trialMs: Record<string, number> = { adaptive3min: 180_000 };
const chosen = (process.argv[4] ?? 'static1,adaptMax1,adaptMax1NoGuard,adaptive').split(',');
for (const k of chosen) if (!settings[k]) throw new Error(`kinds must be some of ${Object.keys(settings).join(', ')}, got ${k}`);

/**
 * The lane's limit per 10 s of a long trial, from its trace (100 ms samples): mean and range of the
 * limit, mean guard ceiling, the share of samples where Gradient2's estimate held the limit below
 * the ceiling, the share probing, steps up skipped (level memory) in the bucket, and the guard's last judged tail.
 */
function timeline(trace: readonly TracePoint[]): void {
  console.log('  s from start | limit mean (min-max) | ceiling mean | Gradient2 below the ceiling | probing | steps up skipped | guard tail ms (mean of its last judged p99)');
  const last = trace.at(-1)?.t_ms ?? 0;
  let skippedBefore = 0;
  for (let from = 0; from < last; from += 10_000) {
    const b = trace.filter((p) => p.t_ms >= from && p.t_ms < from + 10_000);
    if (b.length === 0) continue;
    const avg = (xs: number[]) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : NaN);
    const limits = b.map((p) => p.limit);
    const ceilings = b.flatMap((p) => (p.guard_ceiling === null ? [] : [p.guard_ceiling]));
    const below = b.filter((p) => !p.probing && p.guard_ceiling !== null && p.limit < Math.floor(p.guard_ceiling)).length;
    const skipped = b.at(-1)!.guard_skipped ?? 0;
    const tails = b.flatMap((p) => (p.guard_tail_ms === null ? [] : [p.guard_tail_ms]));
    console.log(`  ${String(from / 1000).padStart(4)}-${String((from + 10_000) / 1000).padEnd(4)} | ${avg(limits).toFixed(1)} (${Math.min(...limits)}-${Math.max(...limits)}) | ${avg(ceilings).toFixed(1)} | ${((100 * below) / b.length).toFixed(0)} % | ${((100 * b.filter((p) => p.probing).length) / b.length).toFixed(0)} % | ${skipped - skippedBefore} | ${avg(tails).toFixed(1)}`);
    skippedBefore = skipped;
  }
}

const rows: { rep: number; kind: string; p99: number; served: number; trial: Trial }[] = [];
await withSampleWeaviate((l) => console.log(l), async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const ctx = { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort };
  for (let rep = 1; rep <= reps; rep++) {
    const kinds = [...chosen];
    for (const kind of rep % 2 === 1 ? kinds : kinds.reverse()) {
      const r = await overloadTrial(target, ctx, settings[kind]!, {
        criticalRate: 50, normalRate: 3500, targetP99Ms: targetMs, trialMs: trialMs[kind] ?? 20_000, warmupMs: warmupMs[kind] ?? 12_000, progress: () => {}, traceEveryMs: 100,
      });
      rows.push({ rep, kind, p99: r.criticalP99Ms, served: r.normalServed, trial: r });
      console.log(`rep ${rep} ${kind}: critical p99 ${r.criticalP99Ms.toFixed(2)} ms, normal served ${r.normalServed.toFixed(0)} req/s`);
      if (trialMs[kind]) timeline(r.trace);
    }
  }
});
console.log('\n| contender | critical p99 per rep, sorted (ms) | median | over all its answers | normal goodput (mean, req/s) |\n|---|---|---:|---:|---:|');
for (const kind of chosen) {
  const of = rows.filter((r) => r.kind === kind);
  const p99s = of.map((r) => r.p99).sort((a, b) => a - b);
  const pooled = pooledTrial(of.map((r) => r.trial), targetMs);
  console.log(`| ${kind} | ${p99s.map((x) => x.toFixed(1)).join(', ')} | ${p99s[Math.floor(p99s.length / 2)]!.toFixed(1)} | ${pooled.criticalP99Ms.toFixed(2)}${pooled.meets ? '' : ' (over the target)'} | ${(of.reduce((a, r) => a + r.served, 0) / of.length).toFixed(0)} |`);
}
