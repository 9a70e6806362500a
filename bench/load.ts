/**
 * Load generators and what is measured around them.
 *
 * - Closed loop: `concurrency` callers, each sends its next request when the previous answer
 *   comes back. Latency = answer - send. (Subject to coordinated omission by construction: use
 *   it for throughput at saturation.)
 * - Open loop: requests are sent on a fixed schedule whether or not earlier ones answered;
 *   latency = answer - SCHEDULED send time, so a stalled client or event loop shows up as
 *   latency instead of hiding (coordinated omission corrected by construction).
 *
 * Around every cell: client CPU (process.cpuUsage: all threads of this process), server CPU
 * (/proc/<weaviate pid>/stat), peak RSS, main-thread event-loop delay, sockets to Weaviate.
 */
import { readFileSync } from 'node:fs';
import type { Histogram } from 'hdr-histogram-js';
import { EventLoopMonitor } from '../src/stats/event-loop.ts';
import { encode, newHistogram, recordMs, summarize, type LatencySummary } from '../src/stats/histogram.ts';
import { countEstablished } from '../src/weaviate/sockets.ts';

export interface CellMeasure {
  /** Requests answered successfully per second, over the measured window. */
  throughput: number;
  ok: number;
  errors: number;
  errorsByCode: Record<string, number>;
  latency: LatencySummary;
  /** Encoded HDR histogram of latencies (µs), for the report's plots. */
  histogram: string;
  /** Client CPU per successful request, ms (all threads of the process). */
  clientCpuMsPerQuery: number;
  /** Weaviate's CPU per successful request, ms (when its pid is known). */
  serverCpuMsPerQuery: number | null;
  rssMb: number;
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
  sockets: number;
  durationMs: number;
}

export interface MeasureContext {
  serverPid: number | undefined;
  /** Several Weaviate processes (a cluster): their CPU is summed; wins over serverPid. */
  serverPids?: readonly number[];
  grpcPort: number;
}

/** CPU time of the context's Weaviate process(es), ms; null if any is unknown. */
function serverCpuMs(ctx: MeasureContext): number | null {
  const pids = ctx.serverPids ?? [ctx.serverPid];
  let sum = 0;
  for (const pid of pids) {
    const ms = processCpuMs(pid);
    if (ms === null) return null;
    sum += ms;
  }
  return sum;
}

/** CPU time (user + system) a process has used so far, ms, from /proc; null if unknown. */
export function processCpuMs(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime (fields 14 and 15 of stat; 12 and 13 after the command name) in clock ticks (100/s).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/**
 * The host's CPU time so far (all CPUs, clock ticks), from /proc/stat's `cpu` line: total (user
 * nice system idle iowait irq softirq steal; guest time is already in user), steal, iowait, and
 * busy (total less idle and iowait).
 */
export function hostTicks(): { total: number; steal: number; iowait: number; busy: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, x) => a + x, 0);
  return { total, steal: f[7] ?? 0, iowait: f[4] ?? 0, busy: total - (f[3] ?? 0) - (f[4] ?? 0) };
}

function errorCode(error: unknown): string {
  const e = error as { code?: unknown; name?: string };
  return typeof e?.code === 'string' ? e.code : (e?.name ?? 'Error');
}

class Window {
  readonly histogram: Histogram = newHistogram();
  ok = 0;
  /** Successes that also completed inside the window (the open loop's throughput). */
  okInWindow = 0;
  errors = 0;
  readonly byCode: Record<string, number> = {};
  recordOk(ms: number, inWindow = true) {
    this.ok++;
    if (inWindow) this.okInWindow++;
    recordMs(this.histogram, ms);
  }
  recordError(error: unknown) {
    this.errors++;
    const code = errorCode(error);
    this.byCode[code] = (this.byCode[code] ?? 0) + 1;
  }
}

/**
 * Run `body` for its measured window, sampling everything around it. `body` gets the moment
 * measurement starts (after warm-up) and must resolve once the window has ended.
 */
async function measured(ctx: MeasureContext, warmupMs: number, durationMs: number, body: (measureFrom: number, measureTo: number) => Promise<Window>): Promise<CellMeasure> {
  const loop = new EventLoopMonitor(1);
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage.rss())), 100);
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const measureTo = measureFrom + durationMs;
  let cpu0: NodeJS.CpuUsage | undefined;
  let srv0: number | null = null;
  let sockets = 0;
  const warm = setTimeout(() => {
    cpu0 = process.cpuUsage();
    srv0 = serverCpuMs(ctx);
    loop.enable();
  }, warmupMs);
  let cpuMs = 0;
  let srvMs: number | null = null;
  let ended = false;
  // At the end of the window (by the timer, or right after the body if it finished first).
  const finish = () => {
    if (ended || cpu0 === undefined) return;
    ended = true;
    const cpu = process.cpuUsage(cpu0);
    cpuMs = (cpu.user + cpu.system) / 1000;
    const srv1 = serverCpuMs(ctx);
    srvMs = srv0 !== null && srv1 !== null ? srv1 - srv0 : null;
    loop.disable();
    sockets = countEstablished(ctx.grpcPort);
  };
  const end = setTimeout(finish, warmupMs + durationMs);
  try {
    const w = await body(measureFrom, measureTo);
    finish();
    const seconds = durationMs / 1000;
    return {
      throughput: Math.round((w.ok / seconds) * 10) / 10,
      ok: w.ok,
      errors: w.errors,
      errorsByCode: w.byCode,
      latency: summarize(w.histogram),
      histogram: encode(w.histogram),
      clientCpuMsPerQuery: w.ok ? Math.round((cpuMs / w.ok) * 1000) / 1000 : 0,
      serverCpuMsPerQuery: srvMs !== null && w.ok ? Math.round((srvMs / w.ok) * 1000) / 1000 : null,
      rssMb: Math.round(rss / 1e5) / 10,
      eventLoopP99Ms: loop.percentileUs(99) / 1000,
      eventLoopMaxMs: loop.maxUs() / 1000,
      sockets,
      durationMs,
    };
  } finally {
    clearInterval(sampler);
    clearTimeout(warm);
    clearTimeout(end);
    loop.disable();
  }
}

export type Send = (i: number) => Promise<unknown>;

/** `concurrency` callers back to back for warmupMs + durationMs; only the window after warm-up counts. */
export function closedLoop(ctx: MeasureContext, send: Send, o: { concurrency: number; warmupMs: number; durationMs: number }): Promise<CellMeasure> {
  return measured(ctx, o.warmupMs, o.durationMs, async (from, to) => {
    const w = new Window();
    let i = 0;
    const caller = async () => {
      while (performance.now() < to) {
        const t0 = performance.now();
        try {
          await send(i++);
          const t1 = performance.now();
          if (t0 >= from && t1 <= to) w.recordOk(t1 - t0);
        } catch (error) {
          if (t0 >= from && performance.now() <= to) w.recordError(error);
        }
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, caller));
    return w;
  });
}

export interface OpenStream {
  /** Requests per second, sent on a fixed schedule. */
  rate: number;
  send: Send;
  /** Separate results for this stream (lane isolation reports critical and normal apart). */
  name: string;
}

export interface OpenLoopResult {
  streams: Record<string, CellMeasure>;
}

/**
 * Fixed-rate streams for warmupMs + durationMs. Latency counts from the scheduled send time.
 * Outstanding requests are capped (`maxOutstanding`); a send the cap refuses counts as an error
 * (`GENERATOR_BACKLOG`) instead of growing memory without bound. Requests scheduled in the
 * window are awaited (up to `drainMs`) before the cell ends.
 */
export async function openLoop(
  ctx: MeasureContext,
  streams: OpenStream[],
  o: { warmupMs: number; durationMs: number; maxOutstanding?: number; drainMs?: number },
): Promise<OpenLoopResult> {
  const windows = new Map(streams.map((s) => [s.name, new Window()]));
  const maxOutstanding = o.maxOutstanding ?? 20_000;
  let outstanding = 0;
  const inflight = new Set<Promise<unknown>>();
  const shared = await measured(ctx, o.warmupMs, o.durationMs, async (from, to) => {
    const start = performance.now();
    const sent = streams.map(() => 0);
    await new Promise<void>((resolve) => {
      const pump = () => {
        const now = performance.now();
        streams.forEach((s, k) => {
          const w = windows.get(s.name)!;
          const interval = 1000 / s.rate;
          for (;;) {
            const scheduled = start + sent[k]! * interval;
            if (scheduled > now || scheduled > to) break;
            const i = sent[k]!++;
            const counts = scheduled >= from;
            if (outstanding >= maxOutstanding) {
              if (counts) w.recordError({ code: 'GENERATOR_BACKLOG' });
              continue;
            }
            outstanding++;
            const p = s.send(i).then(
              () => {
                const done = performance.now();
                if (counts) w.recordOk(done - scheduled, done <= to);
              },
              (error: unknown) => {
                if (counts) w.recordError(error);
              },
            ).finally(() => {
              outstanding--;
              inflight.delete(p);
            });
            inflight.add(p);
          }
        });
        if (now >= to) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(pump, 1);
    });
    // Wait for what was sent in the window, bounded.
    await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, o.drainMs ?? 15_000))]);
    // The shared window only carries totals; each stream's own figures are built below.
    const all = new Window();
    for (const w of windows.values()) {
      all.ok += w.ok;
      all.errors += w.errors;
    }
    return all;
  });
  const result: Record<string, CellMeasure> = {};
  for (const [name, w] of windows) {
    result[name] = {
      ...shared,
      // Answers that arrived inside the window: under overload this is what was served, not what was offered.
      throughput: Math.round((w.okInWindow / (o.durationMs / 1000)) * 10) / 10,
      ok: w.ok,
      errors: w.errors,
      errorsByCode: w.byCode,
      latency: summarize(w.histogram),
      histogram: encode(w.histogram),
      // CPU cannot be split between streams: this is the whole process per answered request.
      clientCpuMsPerQuery: shared.clientCpuMsPerQuery,
    };
  }
  return { streams: result };
}
