/**
 * Where does a half-second stall happen (issue 13)? One trial in 20-40 of the overload mix has a
 * critical p99 of 0.5-1 s against a p50 of ~7 ms (bench/RESULTS.md: 978 ms on 2026-11-26, 521 ms
 * in drift-probe on 2026-11-27). This probe runs the drift probe's trial (one Weaviate; 1 worker x
 * 16 connections, critical reserved 2, normal capped at `cap`, queue 200; critical 50 req/s,
 * normal offered at 4,000 req/s, 10 s after 2 s; a new engine each) `n` times and keeps, per
 * request, its stages (`onRequest`: lane queue, connection wait and execution in the worker, and
 * the rest, the hand-offs between threads), and every 20 ms the main thread's timer lag and the
 * CPU of Weaviate, of this process and of the machine (steal, iowait), the kernel's I/O pressure
 * (PSI) and, when the CPUs waited on I/O, which threads were (state D). When a critical request
 * took more than `stallMs`, it prints the 50 ms buckets around the slowest one: which stage the time went
 * to, and whether the server, the client or the machine stopped.
 * The stages of the tail answers (at or above the trial's p99) are printed per trial; `shapes`
 * (comma-separated, taken in turn) compares a critical lane sharing its worker with normal work
 * against one on a worker of its own, or a worker with V8's large young generation (`young192`).
 *   node --expose-gc bench/stall-probe.ts [n=40] [cap=3] [stallMs=200] [shapes=shared]   (Node 24: PATH=node_modules/.bin:$PATH)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createExecutor, type RequestEvent, type WorkerResourceLimits } from '../src/index.ts';
import { resolveTarget } from '../src/pool/config.ts';
import { silentLogger } from '../src/log.ts';
import { hostTicks, openLoop, processCpuMs, type MeasureContext } from './load.ts';
import { overloadStreams } from './scenarios.ts';
import { withSampleWeaviate } from './setup.ts';
import { warmUpServer } from './tune.ts';

const [n, cap, stallMs] = [Number(process.argv[2] ?? 40), Number(process.argv[3] ?? 3), Number(process.argv[4] ?? 200)];
/** Shapes taken in turn, trial by trial: `shared` (1 worker x 16 connections, critical reserved 2), `dedicated` (2 workers x 8, critical on a worker of its own), `young192` (`shared` with V8's own young generation for a worker here, 192 MB, instead of the engine's 12), `young32`, `young64`. */
const shapes = (process.argv[5] ?? 'shared').split(',');
const SHAPES: Record<string, { workers: number; connections: number; critical: { reserved?: number; dedicatedWorkers?: number }; workerResourceLimits?: WorkerResourceLimits }> = {
  shared: { workers: 1, connections: 16, critical: { reserved: 2 } },
  dedicated: { workers: 2, connections: 8, critical: { dedicatedWorkers: 1 } },
  // `shared` with the young generation V8 gives a worker on this 24 GiB machine without a limit
  // (the engine's default is 12 MB since 2026-11-28; the run that chose it compared the two).
  young192: { workers: 1, connections: 16, critical: { reserved: 2 }, workerResourceLimits: { maxYoungGenerationSizeMb: 192 } },
  // Sizes between: a smaller young generation promotes more of each request's objects (bench/gc-probe.ts).
  young32: { workers: 1, connections: 16, critical: { reserved: 2 }, workerResourceLimits: { maxYoungGenerationSizeMb: 32 } },
  young64: { workers: 1, connections: 16, critical: { reserved: 2 }, workerResourceLimits: { maxYoungGenerationSizeMb: 64 } },
};
for (const s of shapes) if (!SHAPES[s]) throw new Error(`shape must be one of ${Object.keys(SHAPES).join(', ')}, got ${s}`);
const say = (l: string) => console.log(l);

type Req = RequestEvent & { end: number };
type Sample = { at: number; lagMs: number; serverCpuMs: number | null; selfCpuMs: number; steal: number; iowait: number; busy: number; total: number; ioSomeUs: number | null; blocked?: string };

/** The kernel's I/O pressure (PSI): total µs during which some task waited on I/O (null without /proc/pressure). */
function ioSomeUs(): number | null {
  try {
    const m = /^some .*total=(\d+)/m.exec(readFileSync('/proc/pressure/io', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The threads of this machine in uninterruptible sleep (state D: waiting on I/O), by process name
 * and kernel wait channel, e.g. `weaviate-server x3 (folio_wait_bit_common)`. Read only for a
 * sample whose CPUs waited on I/O, as it walks every thread in /proc.
 */
function blockedThreads(): string {
  const counts = new Map<string, number>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        if (stat[close + 2] !== 'D') continue;
        const name = stat.slice(stat.indexOf('(') + 1, close);
        let wchan = '?';
        try {
          wchan = readFileSync(`/proc/${pid}/task/${tid}/wchan`, 'utf8') || '?';
        } catch {}
        const key = `${name} (${wchan})`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      } catch {}
    }
  }
  return [...counts].map(([k, c]) => (c > 1 ? k.replace(' (', ` x${c} (`) : k)).join(', ');
}

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0;
};

/** The 50 ms buckets from 600 ms before the slowest request's submit to 400 ms after its answer. */
function timeline(reqs: Req[], samples: Sample[], worst: Req): void {
  const start = worst.end - worst.totalMs;
  const from = start - 600;
  const to = worst.end + 400;
  say(`  slowest: ${worst.lane}, submitted at ${start.toFixed(0)} ms (performance.now(); --trace-gc's times on the main thread), ${worst.totalMs.toFixed(0)} ms = queue ${worst.queueWaitMs.toFixed(1)} + connection ${worst.connectionWaitMs?.toFixed(1) ?? '-'} + execution ${worst.executionMs?.toFixed(1) ?? '-'} + hand-offs ${(worst.totalMs - worst.queueWaitMs - (worst.connectionWaitMs ?? 0) - (worst.executionMs ?? 0)).toFixed(1)}`);
  say('  ms from its submit | submitted crit/norm | answered | max critical total of those submitted | of those answered, max critical queue / conn / exec / hand-off | main lag max | server CPU ms | client CPU ms | machine busy % steal % iowait % | I/O pressure ms (PSI some) | threads waiting on I/O (state D)');
  for (let b = from; b < to; b += 50) {
    const sub = reqs.filter((r) => r.end - r.totalMs >= b && r.end - r.totalMs < b + 50);
    const ans = reqs.filter((r) => r.end >= b && r.end < b + 50);
    const crit = ans.filter((r) => r.lane === 'critical');
    const ss = samples.filter((s) => s.at >= b && s.at < b + 50);
    const prev = samples.filter((s) => s.at < b).at(-1);
    const last = ss.at(-1);
    const d = (k: 'serverCpuMs' | 'selfCpuMs') => (prev && last && prev[k] !== null && last[k] !== null ? (last[k]! - prev[k]!).toFixed(0) : '-');
    const m = (k: 'steal' | 'iowait' | 'busy') => (prev && last && last.total > prev.total ? ((100 * (last[k] - prev[k])) / (last.total - prev.total)).toFixed(0) : '-');
    const max = (xs: number[]) => (xs.length ? Math.max(...xs).toFixed(1) : '-');
    const io = prev && last && prev.ioSomeUs !== null && last.ioSomeUs !== null ? ((last.ioSomeUs - prev.ioSomeUs) / 1000).toFixed(0) : '-';
    const blocked = [...new Set(ss.map((s) => s.blocked).filter((x) => x))].join('; ');
    say(
      `  ${String(Math.round(b - start)).padStart(5)} | ${String(sub.filter((r) => r.lane === 'critical').length).padStart(2)}/${String(sub.filter((r) => r.lane !== 'critical').length).padStart(3)} | ${String(ans.length).padStart(3)} | ${max(sub.filter((r) => r.lane === 'critical').map((r) => r.totalMs)).padStart(6)} | ` +
        `${max(crit.map((r) => r.queueWaitMs))} / ${max(crit.map((r) => r.connectionWaitMs ?? 0))} / ${max(crit.map((r) => r.executionMs ?? 0))} / ${max(crit.map((r) => r.totalMs - r.queueWaitMs - (r.connectionWaitMs ?? 0) - (r.executionMs ?? 0)))} | ` +
        `${max(ss.map((s) => s.lagMs))} | ${d('serverCpuMs')} | ${d('selfCpuMs')} | ${m('busy')} ${m('steal')} ${m('iowait')} | ${io} | ${blocked || '-'}`,
    );
  }
}

await withSampleWeaviate(say, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const pid = weaviate.node?.pid;
  const ctx: MeasureContext = { serverPid: pid, grpcPort: target.grpcPort };
  await warmUpServer(target, ctx);
  let stalls = 0;
  for (let i = 1; i <= n; i++) {
    const shape = shapes[(i - 1) % shapes.length]!;
    const sh = SHAPES[shape]!;
    const executor = await createExecutor(
      { weaviate: { ...target }, workers: sh.workers, minConnections: sh.connections, maxConnections: sh.connections, defaultDeadlineMs: 30_000, leakDetectionThresholdMs: 0, logger: silentLogger, lanes: { critical: sh.critical, normal: { maxQueue: 200, maxConcurrency: cap } }, ...(sh.workerResourceLimits ? { workerResourceLimits: sh.workerResourceLimits } : {}) },
      {},
    );
    const reqs: Req[] = [];
    const off = executor.onRequest((e) => reqs.push({ ...e, end: performance.now() }));
    const samples: Sample[] = [];
    let expected = performance.now() + 20;
    const timer = setInterval(() => {
      const now = performance.now();
      const c = process.cpuUsage();
      const ticks = hostTicks();
      const before = samples.at(-1);
      // A fifth of the CPUs' time since the last sample waiting on I/O: who is waiting (walks /proc, so only then).
      const waited = before !== undefined && ticks.total > before.total && (ticks.iowait - before.iowait) / (ticks.total - before.total) > 0.2;
      samples.push({ at: now, lagMs: Math.max(0, now - expected), serverCpuMs: processCpuMs(pid), selfCpuMs: (c.user + c.system) / 1000, ...ticks, ioSomeUs: ioSomeUs(), ...(waited ? { blocked: blockedThreads() } : {}) });
      expected = now + 20;
    }, 20);
    const t0 = performance.now();
    try {
      await openLoop(ctx, overloadStreams(executor), { warmupMs: 2000, durationMs: 10_000, drainMs: 12_000 });
    } finally {
      clearInterval(timer);
      off();
    }
    const stats = await executor.stats();
    await executor.close();
    const measured = reqs.filter((r) => r.end - r.totalMs >= t0 + 2000 && r.outcome === 'ok');
    const crit = measured.filter((r) => r.lane === 'critical').map((r) => r.totalMs);
    const worst = measured.filter((r) => r.lane === 'critical').reduce<Req | undefined>((w, r) => (w === undefined || r.totalMs > w.totalMs ? r : w), undefined);
    const w = stats.workers.reduce<(typeof stats.workers)[number] | undefined>((a, x) => (a === undefined || x.event_loop_delay_max_us > a.event_loop_delay_max_us ? x : a), undefined);
    // Where a tail answer's time went: the critical answers at or above the trial's p99, stage by stage (means).
    const p99 = pct(crit, 0.99);
    const tail = measured.filter((r) => r.lane === 'critical' && r.totalMs >= p99);
    const body = measured.filter((r) => r.lane === 'critical' && r.totalMs < pct(crit, 0.5));
    const stages = (rs: Req[]) => {
      const m = (f: (r: Req) => number) => (rs.reduce((a, r) => a + f(r), 0) / Math.max(1, rs.length)).toFixed(1);
      return `queue ${m((r) => r.queueWaitMs)} conn ${m((r) => r.connectionWaitMs ?? 0)} exec ${m((r) => r.executionMs ?? 0)} hand-off ${m((r) => r.totalMs - r.queueWaitMs - (r.connectionWaitMs ?? 0) - (r.executionMs ?? 0))}`;
    };
    say(
      `trial ${String(i).padStart(2)} ${shape}: critical p50 ${pct(crit, 0.5).toFixed(1)} p99 ${pct(crit, 0.99).toFixed(1)} max ${Math.max(0, ...crit).toFixed(0)} ms; normal ${(measured.length - crit.length) / 10} req/s; ` +
        `main lag max ${Math.max(0, ...samples.map((s) => s.lagMs)).toFixed(0)} ms; worker loop delay (the worst worker) max ${((w?.event_loop_delay_max_us ?? 0) / 1000).toFixed(0)} ms p99 ${((w?.event_loop_delay_p99_us ?? 0) / 1000).toFixed(0)} ms`,
    );
    say(`  critical at or above p99 (${tail.length}): ${stages(tail)}; below p50 (${body.length}): ${stages(body)}`);
    if (worst && worst.totalMs > stallMs) {
      stalls++;
      timeline(measured, samples, worst);
    }
  }
  say(`${stalls} of ${n} trials had a critical request over ${stallMs} ms`);
});
