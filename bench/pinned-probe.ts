/**
 * Does an adaptive lane at N slots serve what a static cap of N does (issue 13)? In a loose-target
 * bench:adaptive run (2026-11-27 16:46Z, told 80 ms) the lane with `tolerance: 10, guardSlowStart: 2`
 * held 27-31 slots and served 0.71-0.77x of the uncapped static lane (~31 slots) in the same reps.
 * This runs, in the bench's overload mix (critical 50 req/s, normal offered at 4,000 req/s, open
 * loop) and in ABBA rotation, 3 reps of 12 s after `warmupMs` (1 worker x 8 connections, critical
 * reserved 2, normal queue 1000), some of:
 *   nocap        the normal lane uncapped (30 slots: 8 connections x 4 streams, 2 reserved)
 *   cap          the normal lane capped at N
 *   pinned       adaptive pinned at N (minLimit = maxLimit = N), no probe, no guard
 *   pinnedGuard  adaptive pinned at N, told an 80 ms objective: its probe and guard run, never move it
 *   slowStart    adaptive told 80 ms with `tolerance: 10, guardSlowStart: 2`, free to move
 * and prints each trial's goodput, the lane's mean in flight after the warm-up, goodput per slot, and
 * over the whole trial: the cores Weaviate and this process kept busy, and the host's steal time
 * (/proc/stat: time this VM's CPUs were ready but the hypervisor ran something else).
 *   node --expose-gc bench/pinned-probe.ts [N=30] [kinds=nocap,cap,pinned,pinnedGuard] [warmupMs=5000]
 * (Node 24: PATH=node_modules/.bin:$PATH)
 */
import { resolveTarget } from '../src/pool/config.ts';
import { hostTicks, processCpuMs, type MeasureContext } from './load.ts';
import type { EngineSetting } from './contenders.ts';
import { withSampleWeaviate } from './setup.ts';
import { overloadTrial, warmUpServer } from './tune.ts';

const n = Number(process.argv[2] ?? 30);
const kinds = (process.argv[3] ?? 'nocap,cap,pinned,pinnedGuard').split(',');
const warmupMs = Number(process.argv[4] ?? 5000);
const shape = { workers: 1, connections: 8 };
const critical = { reserved: 2 };
const pin = { minLimit: n, initialLimit: n, maxLimit: n };
const settings: Record<string, EngineSetting> = {
  nocap: { ...shape, lanes: { critical, normal: { maxQueue: 1000 } } },
  cap: { ...shape, lanes: { critical, normal: { maxQueue: 1000, maxConcurrency: n } } },
  pinned: { ...shape, lanes: { critical, normal: { maxQueue: 1000, adaptive: { ...pin, probeSamples: 0, protect: [] } } } },
  pinnedGuard: { ...shape, lanes: { critical, normal: { maxQueue: 1000, adaptive: { ...pin, guardTargetMs: 80 } } } },
  slowStart: { ...shape, lanes: { critical, normal: { maxQueue: 1000, adaptive: { guardTargetMs: 80, tolerance: 10, guardSlowStart: 2 } } } },
};
for (const k of kinds) if (!settings[k]) throw new Error(`unknown kind \`${k}\` (kinds: ${Object.keys(settings).join(', ')})`);
const say = (l: string) => console.log(l);

await withSampleWeaviate(say, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const ctx: MeasureContext = { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort };
  await warmUpServer(target, ctx);
  const served: Record<string, number[]> = {};
  for (let rep = 1; rep <= 3; rep++) {
    for (const k of rep % 2 === 1 ? kinds : [...kinds].reverse()) {
      const t0 = performance.now();
      const server0 = processCpuMs(ctx.serverPid);
      const self0 = process.cpuUsage();
      const host0 = hostTicks();
      const r = await overloadTrial(target, ctx, settings[k]!, {
        criticalRate: 50, normalRate: 4000, targetP99Ms: 80, trialMs: 12_000, warmupMs, progress: (l) => say(`rep ${rep} ${k}: ${l}`), traceEveryMs: 100,
      });
      const wallMs = performance.now() - t0;
      const server1 = processCpuMs(ctx.serverPid);
      const self = process.cpuUsage(self0);
      const host1 = hostTicks();
      const serverCores = server0 === null || server1 === null ? NaN : (server1 - server0) / wallMs;
      const selfCores = (self.user + self.system) / 1000 / wallMs;
      const steal = (host1.steal - host0.steal) / Math.max(1, host1.total - host0.total);
      const after = r.trace.filter((p) => p.t_ms >= warmupMs);
      const inFlight = after.reduce((a, p) => a + p.in_flight, 0) / Math.max(1, after.length);
      say(`  in flight ${inFlight.toFixed(1)}, per slot ${(r.normalServed / inFlight).toFixed(0)} req/s; cores busy: Weaviate ${serverCores.toFixed(2)}, this process ${selfCores.toFixed(2)}; host steal ${(steal * 100).toFixed(1)} %`);
      (served[k] ??= []).push(r.normalServed);
    }
  }
  for (const [k, xs] of Object.entries(served)) say(`${k}: ${xs.map((x) => x.toFixed(0)).join(' ')}`);
});
