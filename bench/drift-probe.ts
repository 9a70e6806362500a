/**
 * Does a bench process get slower with age (issue 13)? For the same setting, bench:adaptive's
 * comparison read a median 1.24x tune's critical p99 (93 of 112 pairs higher; npm run
 * bench:headroom), at 0.98x the goodput. The comparison runs minutes later in the same process,
 * after ~30 engines were started and stopped. The parent starts one Weaviate; child A runs `n`
 * trials of one setting back to back (a new engine each, as the benches do; 1 worker x 16
 * connections, critical reserved 2, normal capped at `cap`, queue 200; critical 50 req/s, normal
 * offered at 4,000 req/s, 10 s after 2 s); then child B, a fresh process, runs `m` more against the
 * same server, then A2 two more. If B's first trials read like A's first, the process ages; like
 * A's last, the server or the host does. Per trial: a memory-latency chase (128 MB random cycle)
 * and an ALU loop timed before it, critical p99/p50, goodput, client and server CPU per answer
 * (approximate: goodput x 10 s + 500 critical answers), and the child's heap, RSS, fds, threads
 * and active handles after it. bench/RESULTS.md, 2026-11-27 21:05Z.
 * The children get the target as JSON: a local node the probe starts, or a WEAVIATE_HOST without
 * an API key (a Secret serialises as [REDACTED]; the children would send that).
 *   node --expose-gc bench/drift-probe.ts [n=16] [m=4] [cap=3]   (Node 24: PATH=node_modules/.bin:$PATH)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { resolveTarget, type WeaviateTarget } from '../src/pool/config.ts';
import type { EngineSetting } from './contenders.ts';
import { processCpuMs, type MeasureContext } from './load.ts';
import { withSampleWeaviate } from './setup.ts';
import { overloadTrial, warmUpServer } from './tune.ts';

const [n, m, cap] = [Number(process.argv[2] ?? 16), Number(process.argv[3] ?? 4), Number(process.argv[4] ?? 3)];
const say = (l: string) => console.log(l);

/** A random single cycle over 2^25 slots (128 MB; Sattolo's shuffle): each step a dependent load that misses the caches. */
function makeRing(): Int32Array {
  const size = 1 << 25;
  const a = new Int32Array(size);
  for (let i = 0; i < size; i++) a[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * i);
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a;
}

/** ns per load chasing the ring (memory latency), and ns per xorshift step (ALU, in registers). */
function calibrate(ring: Int32Array): { memNs: number; aluNs: number } {
  let k = 0;
  const steps = 2_000_000;
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) k = ring[k]!;
  const memNs = ((performance.now() - t0) * 1e6) / steps;
  let x = 1 + k;
  const n = 50_000_000;
  const t1 = performance.now();
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  // x is used, so the loop is not optimised away.
  return { memNs, aluNs: ((performance.now() - t1) * 1e6) / n + (x === 42 ? 1e-9 : 0) };
}

async function child(): Promise<void> {
  const { target, pid, trials, label } = JSON.parse(process.env['DRIFT_CHILD']!) as { target: WeaviateTarget; pid: number; trials: number; label: string };
  const ring = makeRing();
  const ctx: MeasureContext = { serverPid: pid, grpcPort: target.grpcPort };
  const setting: EngineSetting = { workers: 1, connections: 16, lanes: { critical: { reserved: 2 }, normal: { maxQueue: 200, maxConcurrency: cap } } };
  for (let i = 1; i <= trials; i++) {
    const cal = calibrate(ring);
    const c0 = process.cpuUsage(); const s0 = processCpuMs(pid)!;
    const r = await overloadTrial(target, ctx, setting, { criticalRate: 50, normalRate: 4000, targetP99Ms: 1000, trialMs: 10_000, warmupMs: 2000, progress: () => {} });
    const c = process.cpuUsage(c0); const s = processCpuMs(pid)! - s0;
    const answers = r.normalServed * 10 + 500; // approximately: goodput x 10 s + critical
    (globalThis as { gc?: () => void }).gc?.();
    const st = readFileSync('/proc/self/status', 'utf8');
    say(`${label} ${String(i).padStart(2)} mem ${cal.memNs.toFixed(1)}ns alu ${cal.aluNs.toFixed(2)}ns p99 ${r.criticalP99Ms.toFixed(1).padStart(5)} p50 ${r.criticalP50Ms.toFixed(1).padStart(4)} good ${r.normalServed.toFixed(0).padStart(4)} cliCPU/q ${(((c.user + c.system) / 1000) / answers).toFixed(3)} srvCPU/q ${(s / answers).toFixed(3)} heapMB ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} rssMB ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} fds ${readdirSync('/proc/self/fd').length} threads ${/Threads:\s+(\d+)/.exec(st)?.[1]} handles ${process.getActiveResourcesInfo().length}`);
  }
}

function run(label: string, trials: number, target: unknown, pid: number | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // A child outlives a parent ended by a signal (its Weaviate is stopped then: stopOnSignal).
    const p = spawn(process.execPath, ['--expose-gc', process.argv[1]!], { env: { ...process.env, DRIFT_CHILD: JSON.stringify({ target, pid, trials, label }) }, stdio: ['ignore', 'inherit', 'inherit'] });
    const killChild = () => p.kill('SIGKILL');
    process.once('exit', killChild);
    p.on('exit', (code) => {
      process.off('exit', killChild);
      if (code === 0) resolve();
      else reject(new Error(`${label} exited ${code}`));
    });
  });
}

if (process.env['DRIFT_CHILD']) await child();
else await withSampleWeaviate(say, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  await warmUpServer(target, { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort });
  await run('A', n, target, weaviate.node?.pid);
  await run('B', m, target, weaviate.node?.pid);
  await run('A2', 2, target, weaviate.node?.pid);
});
