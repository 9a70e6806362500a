/**
 * HTTP level: autocannon against the engine's search endpoint and against the same endpoint
 * answered by one shared client, each server in its own process.
 *
 * How latency is measured here: autocannon runs closed-loop (N connections, each sends its next
 * request when the previous answer arrives), latency = send -> response, as autocannon records
 * it. Its built-in coordinated-omission correction only applies to fixed-rate runs and uses a
 * wrong interval (../NOTES.md), so no rate is set and no correction is applied: these latencies
 * are closed-loop figures. The open-loop scenario (fixed-rate) gives corrected latencies.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { SAMPLE_COLLECTION } from '../src/data/sample.ts';
import type { WeaviateTarget } from '../src/pool/config.ts';
import { processCpuMs } from './load.ts';
import { defaultEngine, type CellResult, type Profile, type RunContext } from './scenarios.ts';

async function startChild(kind: 'engine' | 'single', target: Readonly<WeaviateTarget>, setting: { workers: number; connections: number }) {
  const script = new URL('./http-server.ts', import.meta.url);
  const child = spawn(process.execPath, [script.pathname, kind, String(setting.workers), String(setting.connections)], {
    env: { ...process.env, WEAVIATE_HOST: target.host, WEAVIATE_PORT: String(target.httpPort), WEAVIATE_GRPC_PORT: String(target.grpcPort), LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 30 s`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^listening (\S+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with code ${code}`)));
  });
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export async function httpLevel(ctx: RunContext, p: Profile): Promise<CellResult[]> {
  const out: CellResult[] = [];
  const setting = defaultEngine(p);
  const body = JSON.stringify({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 5 });
  for (let rep = 0; rep < p.reps; rep++) {
    for (const kind of (rep % 2 ? ['engine', 'single'] : ['single', 'engine']) as ('engine' | 'single')[]) {
      const server = await startChild(kind, ctx.target, setting);
      try {
        // Warm-up, then the measured run.
        await autocannon({ url: `${server.url}/vector-store/search`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: p.http.connections, duration: 1 });
        const cpu0 = processCpuMs(server.pid);
        const srv0 = processCpuMs(ctx.serverPid);
        const r = await autocannon({
          url: `${server.url}/vector-store/search`,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          connections: p.http.connections,
          duration: p.http.durationS,
        });
        const cpu1 = processCpuMs(server.pid);
        const srv1 = processCpuMs(ctx.serverPid);
        const ok = r.requests.total - r.non2xx;
        const id = kind === 'engine' ? `http-engine-${setting.workers}w-${setting.connections}c` : 'http-single-client';
        const lat = r.latency as unknown as Record<string, number>;
        const measure = {
          throughput: Math.round((ok / p.http.durationS) * 10) / 10,
          ok,
          errors: r.errors + r.timeouts + r.non2xx,
          errorsByCode: { errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx },
          latency: {
            count: r.requests.total,
            mean_us: Math.round(r.latency.average * 1000),
            p50_us: Math.round((lat['p50'] ?? 0) * 1000),
            p90_us: Math.round((lat['p90'] ?? 0) * 1000),
            p99_us: Math.round((lat['p99'] ?? 0) * 1000),
            p999_us: Math.round((lat['p99_9'] ?? 0) * 1000),
            max_us: Math.round(r.latency.max * 1000),
          },
          histogram: '',
          clientCpuMsPerQuery: cpu0 !== null && cpu1 !== null && ok ? Math.round(((cpu1 - cpu0) / ok) * 1000) / 1000 : 0,
          serverCpuMsPerQuery: srv0 !== null && srv1 !== null && ok ? Math.round(((srv1 - srv0) / ok) * 1000) / 1000 : null,
          rssMb: 0,
          eventLoopP99Ms: 0,
          eventLoopMaxMs: 0,
          sockets: 0,
          durationMs: p.http.durationS * 1000,
        };
        ctx.progress(`  [http] ${id}: ${measure.throughput.toFixed(0)} req/s, p50 ${(measure.latency.p50_us / 1000).toFixed(2)} ms, p99 ${(measure.latency.p99_us / 1000).toFixed(2)} ms`);
        out.push({ scenario: 'http', cell: `connections=${p.http.connections}`, contender: id, label: `${kind} behind the HTTP search endpoint`, rep, params: { connections: p.http.connections }, measure });
      } finally {
        await server.stop();
      }
    }
  }
  return out;
}
