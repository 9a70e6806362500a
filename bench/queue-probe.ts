/**
 * Does a deep lane queue cost goodput (issue 13)? In the bench:adaptive run of 2026-11-27 19:42Z
 * the static caps tune had paired with a 200-deep normal queue served 310-430 req/s per slot, the
 * ones paired with a 1,000-deep queue (and the adaptive lane, which takes the pick's) 170-310.
 * This runs the bench's overload mix (critical 50 req/s, normal offered at 4,000 req/s, open loop:
 * the normal queue stays full) with the normal lane capped at `cap`, its queue `queues` deep, in
 * rotation, 3 reps of 20 s after 12 s (1 worker x 16 connections, critical reserved 2), and prints
 * goodput, critical p50/p99, and the cores this process kept busy.
 *   node --expose-gc bench/queue-probe.ts [cap=4] [queues=200,1000]   (Node 24: PATH=node_modules/.bin:$PATH)
 */
import { resolveTarget } from '../src/pool/config.ts';
import type { EngineSetting } from './contenders.ts';
import type { MeasureContext } from './load.ts';
import { withSampleWeaviate } from './setup.ts';
import { overloadTrial, warmUpServer } from './tune.ts';

const cap = Number(process.argv[2] ?? 4);
const queues = (process.argv[3] ?? '200,1000').split(',').map(Number);
const say = (l: string) => console.log(l);
await withSampleWeaviate(say, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const ctx: MeasureContext = { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort };
  await warmUpServer(target, ctx);
  for (let rep = 1; rep <= 3; rep++) {
    for (const q of rep % 2 === 1 ? queues : [...queues].reverse()) {
      const setting: EngineSetting = { workers: 1, connections: 16, lanes: { critical: { reserved: 2 }, normal: { maxQueue: q, maxConcurrency: cap } } };
      const t0 = performance.now();
      const self0 = process.cpuUsage();
      const r = await overloadTrial(target, ctx, setting, { criticalRate: 50, normalRate: 4000, targetP99Ms: 1000, trialMs: 20_000, warmupMs: 12_000, progress: () => {} });
      const self = process.cpuUsage(self0);
      const cores = (self.user + self.system) / 1000 / (performance.now() - t0);
      say(`rep ${rep} queue ${q}: normal served ${r.normalServed.toFixed(0)} req/s, critical p50 ${r.criticalP50Ms.toFixed(2)} ms, p99 ${r.criticalP99Ms.toFixed(2)} ms; this process ${cores.toFixed(2)} cores`);
    }
  }
});
