/**
 * The live dashboard in a real headless browser (Chromium from Debian's packages; .ci/run
 * installs it when missing): the page is loaded twice while load runs against the shared
 * Weaviate, each time long enough for it to poll its stats route several times, and its
 * numbers are read from the rendered DOM. They must render, agree with the engine's own stats,
 * and move between the two loads. One screenshot is written for a person to look at.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { silentLogger } from '../../src/log.ts';
import { startServer } from '../../src/server/http.ts';
import { mergeNodeLimit, mergeNodes } from '../../src/stats/nodes.ts';
import { ToxicProxy } from '../support/toxic-proxy.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const CHROMIUM = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
const target = sharedTarget();
let engine: Executor;
let url: string;
let closeServer: () => Promise<unknown>;
const profile = mkdtempSync(join(tmpdir(), 'wex-dashboard-'));

beforeAll(async () => {
  engine = await createExecutor(
    { weaviate: target, workers: 1, minConnections: 1, maxConnections: 2, lanes: { normal: { adaptive: { windowMs: 50, windowSamples: 5 } } }, logger: silentLogger },
    {},
  );
  const server = await startServer(engine, { port: 0, logLevel: 'silent' }, {});
  url = server.url;
  closeServer = () => server.app.close();
});
afterAll(async () => {
  await closeServer?.();
  await engine?.close();
  rmSync(profile, { recursive: true, force: true });
});

/** Run Chromium headless on the page (bounded; killed on time-out); returns stdout. */
function chromium(args: string[], boundMs = 90_000): Promise<string> {
  if (!CHROMIUM) throw new Error('Chromium is not installed: apt-get update && apt-get install -y chromium (npm test does it as root: scripts/ensure-chromium.ts)');
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', `--user-data-dir=${profile}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`chromium did not finish within ${boundMs} ms: ${err.slice(-500)}`));
    }, boundMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`chromium exited with ${code}: ${err.slice(-1000)}`));
    });
  });
}

/** Load that runs until stopped: normal floods (6 at a time), critical trickles, a few critical requests miss a 1 ms deadline. */
function startLoad() {
  let running = true;
  const loops: Promise<void>[] = [];
  const loop = async (lane: string, deadlineMs?: number) => {
    while (running) {
      await engine
        .query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 3 }, { lane, ...(deadlineMs ? { deadlineMs } : {}) })
        .catch(() => undefined);
      if (deadlineMs) await new Promise((r) => setTimeout(r, 50));
    }
  };
  for (let i = 0; i < 6; i++) loops.push(loop('normal'));
  loops.push(loop('critical'));
  // On the critical lane (its reserved slot, no adaptive cap): they start at once and run past
  // their deadline (errors by code); on the adaptive normal lane, which starts at 2 slots, they
  // would mostly be shed while queued (counted as shed, not as errors).
  loops.push(loop('critical', 1));
  return async () => {
    running = false;
    await Promise.all(loops);
  };
}

const field = (dom: string, lane: string, name: string): string | undefined =>
  new RegExp(`data-lane="${lane}" data-field="${name}"[^>]*>([^<]*)<`).exec(dom)?.[1];
const nodeField = (dom: string, node: string, name: string): string | undefined =>
  new RegExp(`data-node="${node.replaceAll('.', '\\.')}" data-field="${name}"[^>]*>([^<]*)<`).exec(dom)?.[1];

describe('dashboard', () => {
  it('is one self-contained page: inline script and style, no external resource, strict CSP', async () => {
    const r = await fetch(`${url}/vector-store/dashboard`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await r.text();
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
  });

  it('serves the adaptive limit and its inputs as Prometheus metrics, equal to the stats', async () => {
    const stop = startLoad();
    try {
      await new Promise((r) => setTimeout(r, 1500));
    } finally {
      await stop();
    }
    const text = await (await fetch(`${url}/metrics`)).text();
    const stats = await engine.stats();
    const a = stats.lanes['normal']!.adaptive!;
    expect(text).toContain(`weaviate_executor_lane_adaptive_limit{lane="normal"} ${a.limit}`);
    expect(text).not.toMatch(/weaviate_executor_lane_adaptive_limit\{lane="critical"\}/);
    expect(text).toContain(`weaviate_executor_lane_adaptive_limit_changes_total{lane="normal"} ${a.changes}`);
    expect(text).toMatch(/weaviate_executor_lane_adaptive_rtt_seconds\{lane="normal",window="short"\} [\d.e-]+/);
    expect(text).toMatch(/weaviate_executor_lane_coalesced_total\{lane="normal"\} 0/);
    // The tail guard (on by default: a critical lane exists): its ceiling and counters equal the
    // stats (the load has stopped, so they no longer move); tail, base and target only once known.
    expect(a.guard_ceiling).toBeDefined();
    expect(text).toContain(`weaviate_executor_lane_adaptive_guard_ceiling{lane="normal"} ${a.guard_ceiling}`);
    expect(text).toContain(`weaviate_executor_lane_adaptive_guard_decisions_total{lane="normal"} ${a.guard_decisions}`);
    expect(text).toContain(`weaviate_executor_lane_adaptive_guard_cuts_total{lane="normal"} ${a.guard_cuts}`);
    for (const [metric, ms] of [['tail', a.guard_tail_ms], ['base', a.guard_base_ms], ['target', a.guard_target_ms]] as const) {
      if (ms === null || ms === undefined) expect(text).not.toContain(`weaviate_executor_lane_adaptive_guard_${metric}_seconds{lane="normal"}`);
      else expect(text).toMatch(new RegExp(`weaviate_executor_lane_adaptive_guard_${metric}_seconds\\{lane="normal"\\} [\\d.e-]+`));
    }
    expect(text).toContain(`weaviate_executor_lane_adaptive_estimate{lane="normal"} ${a.estimate}`);
    expect(text).toContain(`weaviate_executor_lane_adaptive_probing{lane="normal"} ${a.probing ? 1 : 0}`);
  });

  it('renders in headless Chromium, agrees with the stats, and its numbers move while load runs', async () => {
    const stop = startLoad();
    try {
      const page = `${url}/vector-store/dashboard?interval=250`;
      const first = await chromium(['--virtual-time-budget=3000', '--dump-dom', page]);
      const afterFirst = await engine.stats();
      const polls1 = Number(/data-field="polls">(\d+)</.exec(first)?.[1]);
      expect(polls1, first.slice(0, 2000)).toBeGreaterThanOrEqual(2);
      expect(/<span id="status"[^>]*>([^<]*)</.exec(first)?.[1]).toBe(''); // no 'stats unavailable'
      const c1 = Number(field(first, 'normal', 'completed'));
      const crit1 = Number(field(first, 'critical', 'completed'));
      expect(c1).toBeGreaterThan(0);
      expect(crit1).toBeGreaterThan(0);
      // What the page showed was read from the engine before our own later read.
      expect(c1).toBeLessThanOrEqual(afterFirst.lanes['normal']!.completed);
      expect(field(first, 'normal', 'limit_source')).toBe('adaptive');
      const limit = Number(field(first, 'normal', 'limit'));
      expect(limit).toBeGreaterThanOrEqual(1);
      expect(limit).toBeLessThanOrEqual(afterFirst.slots);
      expect(field(first, 'critical', 'limit_source')).toBe('none');
      expect(field(first, 'normal', 'p99_ms')).toMatch(/^\d+\.\d$/);
      // The tail guard next to the limit (normal protects critical by default): protected p99 /
      // target ('-' until the first probe and decision), and its ceiling within the lane's bounds.
      expect(field(first, 'normal', 'guard_tail_target')).toMatch(/^(\d+\.\d|-) \/ (\d+\.\d|-)$/);
      const ceiling = Number(field(first, 'normal', 'guard_ceiling'));
      expect(field(first, 'normal', 'guard_ceiling')).toMatch(/^\d+\.\d\d$/);
      expect(ceiling).toBeGreaterThanOrEqual(1);
      expect(ceiling).toBeLessThanOrEqual(afterFirst.slots);
      expect(field(first, 'critical', 'guard_tail_target')).toBe('-');
      expect(field(first, 'critical', 'guard_ceiling')).toBe('-');
      // The adaptive limits table: every input of the normal lane's limit, read before our own read.
      const a1 = afterFirst.lanes['normal']!.adaptive!;
      expect(field(first, 'normal', 'estimate')).toMatch(/^\d+\.\d\d$/);
      expect(field(first, 'normal', 'bounds')).toBe(`${a1.min_limit}..${a1.max_limit}`);
      expect(field(first, 'normal', 'state')).toMatch(/^(probing|adjusting)$/);
      expect(field(first, 'normal', 'rtt')).toMatch(/^(\d+\.\d|-) \/ (\d+\.\d|-) \/ (\d+\.\d|-)$/);
      expect(field(first, 'normal', 'gradient')).toMatch(/^\d\.\d\d$/);
      expect(Number(field(first, 'normal', 'changes'))).toBeLessThanOrEqual(a1.changes);
      expect(Number(field(first, 'normal', 'probes'))).toBeLessThanOrEqual(a1.probes);
      expect(field(first, 'normal', 'guard_base_target')).toMatch(/^(\d+\.\d|-) \/ (\d+\.\d|-)$/);
      const [decisions, cuts] = field(first, 'normal', 'guard_decisions')!.split(' / ').map(Number) as [number, number];
      expect(decisions).toBeLessThanOrEqual(a1.guard_decisions!);
      expect(cuts).toBeLessThanOrEqual(decisions);
      expect(first).not.toMatch(/<tr data-lane="critical"><td>critical<\/td><td data-lane="critical" data-field="adaptive_limit"/);
      // Connections per worker: the one worker's row, with its open connections.
      const worker = afterFirst.workers[0]!;
      expect(new RegExp(`data-worker="${worker.thread_id}" data-field="connections">(\\d+)<`).exec(first)?.[1]).toBe(String(worker.pool!.total_connections));
      // Errors by code: the requests given 1 ms.
      expect(first).toMatch(/data-code="WEX_DEADLINE_EXCEEDED" data-field="errors">\d+</);
      // The charts have lines made of several points.
      expect(Number(/data-series="normal:in_flight" data-points="(\d+)"/.exec(first)?.[1])).toBeGreaterThanOrEqual(2);
      expect(first).toMatch(/data-series="normal:mean" data-points="\d+"/);
      expect(Number(/data-series="normal:guard_ceiling" data-points="(\d+)"/.exec(first)?.[1])).toBeGreaterThanOrEqual(2);

      const second = await chromium(['--virtual-time-budget=3000', '--dump-dom', page]);
      const c2 = Number(field(second, 'normal', 'completed'));
      const crit2 = Number(field(second, 'critical', 'completed'));
      expect(c2).toBeGreaterThan(c1);
      expect(crit2).toBeGreaterThan(crit1);

      const shot = join(process.env['DASHBOARD_SCREENSHOT_DIR'] ?? profile, 'dashboard.png');
      await chromium(['--virtual-time-budget=4000', '--hide-scrollbars', '--window-size=1400,1000', `--screenshot=${shot}`, page]);
      expect(existsSync(shot)).toBe(true);
      expect(statSync(shot).size).toBeGreaterThan(20_000);
    } finally {
      await stop();
    }
  });

  it('with several nodes: one row per node with its health, in flight, limit and callers waiting for its slot (slot_waiting), equal to the merged stats', async () => {
    // Two nodes to the engine, both the one shared Weaviate, each reached through its own TCP
    // proxy (real gRPC to the real server; the proxies' ports make them two nodes). Each node's
    // limit is pinned at 1 per worker, so with the proxies stalled the requests past it wait for
    // a node slot, and the numbers hold still while the page renders them.
    const proxies = [new ToxicProxy(target.host!, target.grpcPort!), new ToxicProxy(target.host!, target.grpcPort!)];
    await Promise.all(proxies.map((p) => p.start()));
    const nodes = proxies.map((p) => ({ host: target.host!, httpPort: target.httpPort!, grpcPort: p.port }));
    const names = nodes.map((n) => `${n.host}:${n.grpcPort}`);
    let multi: Executor | undefined;
    let server: Awaited<ReturnType<typeof startServer>> | undefined;
    const pending: Promise<unknown>[] = [];
    try {
      multi = await createExecutor(
        {
          weaviate: { nodes }, workers: 2, minConnections: 2, maxConnections: 2, healthCheckIntervalMs: 600_000, healthCheckTimeoutMs: 10_000,
          nodeAdaptive: { probeSamples: 0, initialLimit: 1, maxLimit: 1 }, logger: silentLogger, workerLogLevel: 'silent',
        },
        {},
      );
      const engine2 = multi;
      server = await startServer(engine2, { port: 0, logLevel: 'silent' }, {});
      const read = () => engine2.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 3 }, { deadlineMs: 60_000 });
      // Every worker's connection to every node open (min = max: 1 per node per worker), and reads served.
      await waitFor(async () => (await engine2.stats()).total_connections === 4, { timeoutMs: 30_000, what: 'the 4 node connections' });
      for (let i = 0; i < 12; i++) await read();
      for (const p of proxies) p.stall();
      // 8 slots (2 connections x 4 streams), 1 reserved for critical: 7 of these run, 5 wait in the lane.
      for (let i = 0; i < 12; i++) pending.push(read());
      const settled = async () => {
        const s = await engine2.stats();
        const merged = mergeNodes(s.workers);
        const atNodes = merged.reduce((a, n) => a + n.outstanding + n.slot_waiting, 0);
        return s.lanes['normal']!.in_flight === 7 && atNodes === 7;
      };
      await waitFor(settled, { timeoutMs: 30_000, what: 'the stalled reads at their nodes' });
      const before = mergeNodes((await engine2.stats()).workers);
      const dom = await chromium(['--virtual-time-budget=2000', '--dump-dom', `${server.url}/vector-store/dashboard?interval=250`]);
      const after = await engine2.stats();
      // Nothing moved while the page rendered (stalled): its numbers can be compared exactly.
      expect(mergeNodes(after.workers)).toEqual(before);
      // The stats carry the same merge the page lays out.
      expect(after.nodes).toEqual(before);
      expect(/<span id="status"[^>]*>([^<]*)</.exec(dom)?.[1], dom.slice(0, 2000)).toBe('');
      expect(dom).toMatch(/<section id="nodes-section">/); // shown (no `hidden`)
      expect(before.map((n) => n.node)).toEqual(names);
      for (const n of before) {
        expect(n.workers).toBe(2);
        expect(nodeField(dom, n.node, 'health')).toBe('healthy');
        expect(Number(nodeField(dom, n.node, 'in_flight'))).toBe(n.outstanding);
        // Summed over the two workers, each holding the node at 1.
        expect(n.adaptive!.limit).toBe(2);
        expect(nodeField(dom, n.node, 'limit')).toBe(`${n.adaptive!.limit}${n.adaptive!.probing ? ' probing' : ''}`);
        expect(Number(nodeField(dom, n.node, 'slot_waiting'))).toBe(n.slot_waiting);
        // Served: the node pools' requests summed over workers (the 12 reads before the stall among them).
        const served = after.workers.reduce((a, w) => a + (w.pool?.nodes?.find((x) => x.node === n.node)?.pool?.total_requests ?? 0), 0);
        expect(Number(nodeField(dom, n.node, 'served'))).toBe(served);
        expect(served).toBeGreaterThan(0);
      }
      // The requests past the nodes' limits wait, and the page shows each one where it waits.
      const waiting = before.reduce((a, n) => a + n.slot_waiting, 0);
      const inFlight = before.reduce((a, n) => a + n.outstanding, 0);
      expect(inFlight).toBeLessThanOrEqual(4); // 2 nodes x 2 workers x limit 1
      expect(waiting).toBe(7 - inFlight);
      expect(waiting).toBeGreaterThan(0);
      expect(/id="nodes-waiting"[^>]*>([^<]*)</.exec(dom)?.[1]).toBe(`waiting for a node below its limit: ${mergeNodeLimit(after.workers)!.waiting}`);
      expect(mergeNodeLimit(after.workers)!.waiting).toBe(waiting);
      for (const p of proxies) p.resume();
      const results = await Promise.all(pending.splice(0));
      expect(results.every((r) => (r as { objects: unknown[] }).objects.length > 0)).toBe(true);
    } finally {
      for (const p of proxies) p.resume();
      await Promise.allSettled(pending);
      await server?.app.close();
      await multi?.close();
      await Promise.all(proxies.map((p) => p.close()));
    }
  });

  it('behind a bearer token: the page opens, its stats fetch sends the token from #token=, and without it the page asks for it', async () => {
    const TOKEN = 'dash-token-0123456789abcdef';
    const guarded = await startServer(engine, { port: 0, logLevel: 'silent', token: TOKEN }, {});
    const stop = startLoad();
    try {
      // The stats route is guarded; the page (no data in it) is not.
      expect((await fetch(`${guarded.url}/vector-store/pool/stats`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/vector-store/dashboard?interval=250`)).status).toBe(200);
      const page = `${guarded.url}/vector-store/dashboard?interval=250`;
      const withToken = await chromium(['--virtual-time-budget=3000', '--dump-dom', `${page}#token=${TOKEN}`]);
      expect(/<span id="status"[^>]*>([^<]*)</.exec(withToken)?.[1], withToken.slice(0, 2000)).toBe('');
      expect(Number(/data-field="polls">(\d+)</.exec(withToken)?.[1])).toBeGreaterThanOrEqual(2);
      expect(Number(field(withToken, 'normal', 'completed'))).toBeGreaterThan(0);
      expect(withToken).not.toContain(TOKEN); // not rendered anywhere, the address bar's fragment is gone
      const without = await chromium(['--virtual-time-budget=2000', '--dump-dom', page]);
      expect(/<span id="status"[^>]*>([^<]*)</.exec(without)?.[1]).toMatch(/401/);
      expect(/data-field="polls">(\d+)</.exec(without)?.[1]).toBe('0');
      expect(without).toMatch(/<form id="auth">/); // shown (no `hidden`)
    } finally {
      await stop();
      await guarded.app.close();
    }
  });
});
