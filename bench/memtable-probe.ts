/**
 * Weaviate's cost per query in the minutes after a data load (issue 13; bench/RESULTS.md,
 * 2026-11-27 18:30Z). Starts a Weaviate with its Prometheus metrics on, loads the sample data,
 * optionally restarts it (`restart`: a clean stop writes the memtables out) and idles `idleS`
 * seconds (printing its CPU), then runs back-to-back 8 s closed-loop trials (30 callers after 1 s,
 * 1 worker x 8 connections) of one query mix, and prints per trial: a fixed single-thread
 * calculation's time just before (a check on the host's speed), throughput, Weaviate's CPU per
 * answer, p50, and what moved in its LSM/GC metrics (delta, and the total in parentheses).
 *   node --expose-gc bench/memtable-probe.ts [mix=small|bm25|nv|crit] [trials=14] [restart|load] [idleS=0]
 * (Node 24: PATH=node_modules/.bin:$PATH; the metrics port is 21000-21999, from the pid.)
 */
import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { ensureWeaviate } from '../src/launcher/local.ts';
import { resolveTarget } from '../src/pool/config.ts';
import { engine } from './contenders.ts';
import { closedLoop, processCpuMs, type MeasureContext } from './load.ts';
import { criticalQuery, smallQuery } from './scenarios.ts';
import { loadSampleData } from './setup.ts';

const mix = process.argv[2] ?? 'small';
const trials = Number(process.argv[3] ?? 14);
const restart = process.argv[4] === 'restart';
const idleS = Number(process.argv[5] ?? 0);
const port = 21000 + (process.pid % 1000);
const say = (l: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${l}`);
const WANTED = /lsm|memtable|segment|compaction|flush|go_gc_duration_seconds_count|go_memstats_heap_alloc/i;

/** Weaviate's metrics of interest, summed over their labels. */
async function metrics(): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line) continue;
    const sp = line.lastIndexOf(' ');
    const name = line.slice(0, sp).replace(/\{.*\}/, '');
    if (WANTED.test(name) && !name.endsWith('_bucket')) m.set(name, (m.get(name) ?? 0) + Number(line.slice(sp + 1)));
  }
  return m;
}
function moved(a: Map<string, number>, b: Map<string, number>): string {
  const out: string[] = [];
  for (const [k, v] of b) {
    const d = v - (a.get(k) ?? 0);
    if (Math.abs(d) > 1e-9) out.push(`${k}=${+d.toPrecision(4)}(${+v.toPrecision(4)})`);
  }
  return out.join(' ');
}
/** A fixed single-thread calculation (hashing and integer arithmetic), ms. */
function calibrate(): number {
  const block = Buffer.alloc(4096, 7);
  const t0 = performance.now();
  let h: Uint8Array = block;
  for (let i = 0; i < 20_000; i++) h = createHash('sha256').update(h).update(block).digest();
  let x = 0;
  for (let i = 0; i < 3e7; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return performance.now() - t0 + (x < 0 ? 1 : 0);
}
const send = (e: ReturnType<typeof engine>) => (i: number) =>
  mix === 'crit' ? e.query(criticalQuery(), 'normal')
    : mix === 'bm25' ? e.query(smallQuery(2 * (i % 4)), 'normal')
      : mix === 'nv' ? e.query(smallQuery(2 * (i % 4) + 1), 'normal')
        : e.query(smallQuery(i), 'normal');

const w = await ensureWeaviate({ env: { PROMETHEUS_MONITORING_ENABLED: 'true', PROMETHEUS_MONITORING_PORT: String(port) } });
try {
  if (!w.node) throw new Error('memtable-probe starts its own Weaviate: unset WEAVIATE_HOST/WEAVIATE_PORT');
  await loadSampleData(w, () => {});
  say('loaded');
  if (restart) {
    const t0 = performance.now();
    await w.node.restart();
    say(`restarted in ${(performance.now() - t0).toFixed(0)} ms; segment files: ${execSync(`find ${w.node.dataDir} -name '*.db' | wc -l`).toString().trim()}`);
  }
  const target = resolveTarget({ ...w.target }, {});
  const ctx: MeasureContext = { serverPid: w.node.pid, grpcPort: target.grpcPort };
  let prev = await metrics();
  for (let s = 0; s < idleS; s += 5) {
    const c0 = processCpuMs(ctx.serverPid) ?? 0;
    await new Promise((r) => setTimeout(r, 5000));
    const m = await metrics();
    say(`idle ${s + 5} s: Weaviate ${(((processCpuMs(ctx.serverPid) ?? 0) - c0) / 5000).toFixed(3)} cores ${moved(prev, m)}`);
    prev = m;
  }
  const e = engine(target, { workers: 1, connections: 8 });
  await e.start();
  try {
    for (let t = 1; t <= trials; t++) {
      const cal = calibrate();
      const r = await closedLoop(ctx, send(e), { concurrency: 30, warmupMs: 1000, durationMs: 8000 });
      const m = await metrics();
      say(`trial ${t}: calc ${cal.toFixed(0)} ms, ${r.throughput.toFixed(0)} req/s, Weaviate ${r.serverCpuMsPerQuery?.toFixed(3)} ms/answer, p50 ${(r.latency.p50_us / 1000).toFixed(1)} ms | ${moved(prev, m)}`);
      prev = m;
    }
  } finally {
    await e.stop();
  }
} finally {
  await w.stop();
}
