/**
 * Several nodes under a fault: a real 3-node cluster (the launcher's startCluster), a collection
 * replicated on all three (factor 3, written with consistency ALL), the executor given the node
 * list. Under light bounded load (4 readers, consistency ONE, 3 s deadlines), node 2 is killed
 * (SIGKILL) and restarted. Checked: no request hangs (each is watched with its own bound), every
 * failure is one of our typed errors, the node is ejected and readmitted, reads succeed on the
 * other nodes while it is out and on all three after, and its pool comes back to min.
 * Stops every process it started, also on failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import weaviate from 'weaviate-client';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { isExecutorError } from '../../src/errors.ts';
import { startCluster, type WeaviateCluster } from '../../src/launcher/node.ts';
import { createPool } from '../../src/pool/create.ts';
import type { NodeStats } from '../../src/cluster/multi-pool.ts';
import { waitFor } from '../support/weaviate.ts';
import { ensureSampleData } from '../../src/data/load.ts';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { ToxicProxy } from '../support/toxic-proxy.ts';
import { H2StreamCounter } from '../support/h2-streams.ts';
import { cleanEnv, startChild } from '../support/start-child.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { httpGet } from '../../src/weaviate/http-get.ts';
import { Registry } from 'prom-client';
import { registerExecutorMetrics } from '../../src/metrics/prometheus.ts';

const COLLECTION = 'Replicated_docs';
const CLI = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const execFileP = promisify(execFile);
const MIN_PER_NODE = 2;
let cluster: WeaviateCluster | undefined;

beforeAll(async () => {
  cluster = await startCluster({ size: 3, stopTimeoutMs: 5000, readyTimeoutMs: 120_000 });
  const n1 = cluster.nodes[0]!;
  const pool = await createPool({ weaviate: n1.target, minConnections: 1, maxConnections: 1 }, {});
  try {
    await pool.withConnection((client) =>
      client.collections.create({
        name: COLLECTION,
        properties: [{ name: 'title', dataType: 'text' }],
        vectorizers: weaviate.configure.vectors.selfProvided(),
        replication: weaviate.configure.replication({ factor: 3 }),
      }),
    );
    // Data for every test here (each also runs alone with -t): on all three replicas.
    await pool.withConnection((client) =>
      client.collections.use(COLLECTION).withConsistency('ALL').data.insertMany(
        Array.from({ length: 20 }, (_, i) => ({ properties: { title: `seed ${i}` }, vectors: [i, 0, 1, 0] })),
      ),
    );
    // The sample data, replicated on all three nodes.
    await pool.withConnection((client) => ensureSampleData(client, { count: 200, chunkSize: 100, replicationFactor: 3 }));
  } finally {
    await pool.close();
  }
}, 180_000);
afterAll(async () => {
  await cluster?.stop();
});

interface Outcome {
  at: number;
  ok: boolean;
  code?: string;
  typed: boolean;
}

/** The cluster's nodes as the executor takes them; node 3's gRPC may go through a proxy's port. */
function nodesOf(c: WeaviateCluster, node3GrpcPort?: number): { host: string; httpPort: number; grpcPort: number }[] {
  return c.nodes.map((n, i) => ({ host: n.host, httpPort: n.httpPort, grpcPort: i === 2 && node3GrpcPort !== undefined ? node3GrpcPort : n.grpcPort }));
}

/** The read every test sends: 5 objects of the replicated collection at consistency ONE. */
function readOne(engine: Executor, deadlineMs?: number) {
  return engine.query({ kind: 'fetchObjects', collection: COLLECTION, limit: 5, consistencyLevel: 'ONE' }, deadlineMs !== undefined ? { deadlineMs } : {});
}

/**
 * `count` readers, each sending its next read when the previous one settles, every read watched
 * with its own bound (`hungAfterMs`): a read still pending then counts as hung, never awaited forever.
 */
function watchedReaders(read: () => Promise<{ objects: unknown[] }>, hungAfterMs: number, count = 4) {
  const outcomes: Outcome[] = [];
  let hung = 0;
  let running = true;
  const reader = async () => {
    while (running) {
      const at = Date.now();
      const watched = await Promise.race([
        read().then((r) => ({ ok: r.objects.length === 5, typed: true }), (e: unknown) => ({ ok: false, code: (e as { code?: string }).code, typed: isExecutorError(e) })),
        sleep(hungAfterMs).then(() => 'hung' as const),
      ]);
      if (watched === 'hung') hung++;
      else outcomes.push({ at, ...watched });
      await sleep(20);
    }
  };
  const readers = Array.from({ length: count }, () => reader());
  return {
    outcomes,
    get hung() {
      return hung;
    },
    /** Stop sending; resolves when every reader has its last answer (or gave it up as hung). */
    stop(): Promise<void> {
      running = false;
      return Promise.all(readers).then(() => {});
    },
  };
}

describe('3-node cluster under node faults', () => {
  it('a node killed (SIGKILL) and restarted: reads keep succeeding, 0 hung, 0 untyped; the node is ejected, readmitted, and its pool is back to min', async () => {
    const c = cluster!;
    const nodes = nodesOf(c);
    await using engine = await createExecutor(
      {
        weaviate: { nodes },
        workers: 1,
        minConnections: MIN_PER_NODE,
        maxConnections: 4,
        healthCheckIntervalMs: 1000,
        healthCheckTimeoutMs: 1000,
        connectTimeoutMs: 3000,
        outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 2000, maxEjectionMs: 10_000 },
      },
      {},
    );
    const written = await engine.query({
      kind: 'insertMany', collection: COLLECTION, consistencyLevel: 'ALL',
      objects: Array.from({ length: 30 }, (_, i) => ({ properties: { title: `doc ${i}` }, vector: [i, 1, 0, 0] })),
    });
    expect(written).toMatchObject({ inserted: 30, errors: [] });

    const nodeStats = async (): Promise<NodeStats[]> => {
      const s = await engine.stats();
      return (s.workers[0]?.pool as { nodes?: NodeStats[] } | null)?.nodes ?? [];
    };
    expect((await nodeStats()).map((n) => n.health)).toEqual(['healthy', 'healthy', 'healthy']);

    // Light bounded load: 4 readers, each read watched with its own bound (deadline + 5 s).
    const load = watchedReaders(() => readOne(engine, 3000), 8000);
    try {
      await sleep(1500);
      const killedAt = Date.now();
      await c.nodes[1]!.kill('SIGKILL');
      const ejectedAfterMs = await waitFor(async () => ((await nodeStats())[1]?.total_ejections ?? 0) >= 1, { timeoutMs: 20_000, intervalMs: 100, what: 'node 2 ejected' });
      const ejectedAt = Date.now();
      await sleep(1500); // reads while it is out
      const restartAt = Date.now();
      await c.nodes[1]!.start();
      const restartMs = Date.now() - restartAt;
      const readmittedAfterMs = await waitFor(
        async () => {
          const n = (await nodeStats())[1];
          return n?.health === 'healthy' && (n.pool?.total_connections ?? 0) >= MIN_PER_NODE;
        },
        { timeoutMs: 60_000, intervalMs: 200, what: 'node 2 readmitted with its pool back to min' },
      );
      const readmittedAt = Date.now();
      const requestsBefore = (await nodeStats())[1]!.pool!.total_requests;
      // Readmitted means used again. A node just restarted can answer its first reads slowly; its
      // latency EWMA then keeps P2C away until the EWMA goes stale (5 s): wait past that, bounded.
      const usedAgainAfterMs = await waitFor(async () => ((await nodeStats())[1]?.pool?.total_requests ?? 0) > requestsBefore, {
        timeoutMs: 15_000, intervalMs: 100, what: 'node 2 serving reads again',
      });
      await sleep(1000);
      await load.stop();
      const after = await nodeStats();

      const failures = load.outcomes.filter((o) => !o.ok);
      const codes = Object.groupBy(failures, (f) => f.code ?? 'none');
      const phase = (from: number, to: number) => load.outcomes.filter((o) => o.at >= from && o.at < to);
      const whileOut = phase(ejectedAt, restartAt);
      const afterBack = phase(readmittedAt, Infinity);
      console.log(
        `cluster fault: ${load.outcomes.length} reads, ${failures.length} failed (${Object.entries(codes).map(([k, v]) => `${k} x${v!.length}`).join(', ') || 'none'}), ` +
          `${load.hung} hung; ejected ${ejectedAfterMs} ms after the kill, restart (to ready) ${restartMs} ms, readmitted ${readmittedAfterMs} ms after it was ready, ` +
          `${after[1]!.total_ejections} ejection(s) (a probe during the restart fails and ejects again, longer), serving again ${usedAgainAfterMs} ms after readmission, ${Date.now() - killedAt} ms kill to end; ` +
          `while out ${whileOut.filter((o) => o.ok).length}/${whileOut.length} ok, after readmission ${afterBack.filter((o) => o.ok).length}/${afterBack.length} ok`,
      );

      expect(load.hung).toBe(0);
      expect(failures.filter((f) => !f.typed)).toEqual([]);
      expect(whileOut.length).toBeGreaterThan(0);
      expect(whileOut.every((o) => o.ok)).toBe(true);
      expect(afterBack.length).toBeGreaterThan(0);
      expect(afterBack.every((o) => o.ok)).toBe(true);
      expect(after[1]!.health).toBe('healthy');
      expect(after[1]!.total_ejections).toBeGreaterThanOrEqual(1);
      // The other two were never ejected (at most one of three may be out).
      expect(after[0]!.total_ejections + after[2]!.total_ejections).toBe(0);
      expect(after[1]!.pool!.total_connections).toBeGreaterThanOrEqual(MIN_PER_NODE);
      expect(after[1]!.pool!.total_requests).toBeGreaterThan(requestsBefore);
      expect(after.map((n) => n.health)).toEqual(['healthy', 'healthy', 'healthy']);
      // Reads were spread: every node's pool served some.
      for (const n of after) expect(n.pool!.total_requests).toBeGreaterThan(0);
    } finally {
      await Promise.race([load.stop(), sleep(15_000)]);
    }
  }, 240_000);

  it('a node frozen (SIGSTOP) and resumed: 0 hung, 0 untyped, only its in-flight reads end at their deadline; it is ejected and readmitted', async () => {
    const c = cluster!;
    const nodes = nodesOf(c);
    await using engine = await createExecutor(
      {
        weaviate: { nodes },
        workers: 1,
        minConnections: MIN_PER_NODE,
        maxConnections: 4,
        healthCheckIntervalMs: 500,
        healthCheckTimeoutMs: 500,
        connectTimeoutMs: 2000,
        outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 2000, maxEjectionMs: 10_000 },
      },
      {},
    );
    const nodeStats = async (): Promise<NodeStats[]> => ((await engine.stats()).workers[0]?.pool as { nodes?: NodeStats[] } | null)?.nodes ?? [];
    const load = watchedReaders(() => readOne(engine, 2000), 7000);
    try {
      await sleep(1000);
      c.nodes[2]!.pause();
      const frozenAt = Date.now();
      const ejectedAfterMs = await waitFor(async () => ((await nodeStats())[2]?.total_ejections ?? 0) >= 1, { timeoutMs: 20_000, intervalMs: 100, what: 'node 3 ejected' });
      const ejectedAt = Date.now();
      // Longer than the deadline: readers caught on the frozen node are free again and read meanwhile.
      await sleep(3000);
      c.nodes[2]!.resume();
      const resumedAt = Date.now();
      const readmittedAfterMs = await waitFor(
        async () => {
          const n = (await nodeStats())[2];
          return n?.health === 'healthy' && (n.pool?.total_connections ?? 0) >= MIN_PER_NODE;
        },
        { timeoutMs: 40_000, intervalMs: 200, what: 'node 3 readmitted' },
      );
      const readmittedAt = Date.now();
      const requestsBefore = (await nodeStats())[2]!.pool!.total_requests;
      await sleep(3000);
      await load.stop();
      const after = await nodeStats();
      const failures = load.outcomes.filter((o) => !o.ok);
      const phase = (from: number, to: number) => load.outcomes.filter((o) => o.at >= from && o.at < to);
      const whileOut = phase(ejectedAt, resumedAt);
      const afterBack = phase(readmittedAt, Infinity);
      console.log(
        `cluster freeze: ${load.outcomes.length} reads, ${failures.length} failed (${[...new Set(failures.map((f) => f.code))].join(', ') || 'none'}; all started before the ejection: ${failures.every((f) => f.at < ejectedAt)}), ` +
          `${load.hung} hung; ejected ${ejectedAfterMs} ms after the freeze, readmitted ${readmittedAfterMs} ms after resume, ${after[2]!.total_ejections} ejection(s); ` +
          `while out ${whileOut.filter((o) => o.ok).length}/${whileOut.length} ok, after readmission ${afterBack.filter((o) => o.ok).length}/${afterBack.length} ok`,
      );
      expect(load.hung).toBe(0);
      expect(failures.filter((f) => !f.typed)).toEqual([]);
      // Only reads caught in flight on the frozen node fail, at their deadline; none after it was ejected.
      for (const f of failures) expect(f.code).toBe('WEX_DEADLINE_EXCEEDED');
      expect(failures.filter((f) => f.at >= ejectedAt)).toEqual([]);
      expect(failures.every((f) => f.at >= frozenAt - 2000)).toBe(true);
      expect(whileOut.length).toBeGreaterThan(0);
      expect(afterBack.length).toBeGreaterThan(0);
      expect(afterBack.every((o) => o.ok)).toBe(true);
      expect(after[2]!.health).toBe('healthy');
      expect(after[2]!.pool!.total_requests).toBeGreaterThan(requestsBefore);
      // Prometheus carries the node: its ejection counted under its own label, the others at 0.
      const registry = new Registry();
      registerExecutorMetrics(engine, { registry });
      const text = await registry.metrics();
      expect(text).toContain(`weaviate_executor_node_ejections_total{node="${nodes[2]!.host}:${nodes[2]!.grpcPort}"} ${after[2]!.total_ejections}`);
      expect(text).toContain(`weaviate_executor_node_ejections_total{node="${nodes[0]!.host}:${nodes[0]!.grpcPort}"} 0`);
      expect(text).toMatch(new RegExp(`weaviate_executor_node_connections\\{node="${nodes[2]!.host}:${nodes[2]!.grpcPort}"\\} [1-9]`));
    } finally {
      c.nodes[2]!.resume();
      await Promise.race([load.stop(), sleep(15_000)]);
    }
  }, 240_000);

  it('starts with the first node down: reads go to the others, the node joins when it is back', async () => {
    const c = cluster!;
    const nodes = nodesOf(c);
    await c.nodes[0]!.kill('SIGKILL');
    try {
      // If node 1 led the cluster's Raft, schema reads wait for a new leader: let the cluster settle first.
      await waitFor(async () => (await httpGet(`${c.nodes[1]!.url}/v1/schema`, 2000).catch(() => ({ status: 0 }))).status === 200, {
        timeoutMs: 30_000, intervalMs: 250, what: 'the two remaining nodes serving the schema',
      });
      await using engine = await createExecutor(
        { weaviate: { nodes }, workers: 1, minConnections: 1, maxConnections: 2, connectTimeoutMs: 2000, outlierDetection: { baseEjectionMs: 1000, maxEjectionMs: 2000 } },
        {},
      );
      const nodeStats = async (): Promise<NodeStats[]> => ((await engine.stats()).workers[0]?.pool as { nodes?: NodeStats[] } | null)?.nodes ?? [];
      expect((await nodeStats()).map((n) => n.health)).toEqual(['ejected', 'healthy', 'healthy']);
      const reads = await Promise.all(Array.from({ length: 20 }, () => readOne(engine, 3000)));
      expect(reads.every((r) => r.objects.length === 5)).toBe(true);
      // With one replica of three down, QUORUM reads and ONE writes succeed.
      const quorum = await engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 3, consistencyLevel: 'QUORUM' }, { deadlineMs: 5000 });
      expect(quorum.objects.length).toBeGreaterThan(0);
      const one = await engine.query({ kind: 'insertMany', collection: COLLECTION, consistencyLevel: 'ONE', objects: [{ properties: { title: 'one' }, vector: [9, 9, 9, 9] }] }, { deadlineMs: 5000 });
      expect(one).toMatchObject({ inserted: 1, errors: [] });
      const all = await engine
        .query({ kind: 'insertMany', collection: COLLECTION, consistencyLevel: 'ALL', objects: [{ properties: { title: 'all' }, vector: [8, 8, 8, 8] }] }, { deadlineMs: 5000 })
        .then((r) => r, (e: unknown) => e);
      // Reported, not asserted: Weaviate refused it ('cannot reach enough replicas: required 3, got 2')
      // in one run and accepted it in another (after earlier tests had restarted nodes); its call.
      console.log(`consistency with a replica down: QUORUM read ${quorum.objects.length} hits, ONE write ok, ALL write ${JSON.stringify(isExecutorError(all) ? { code: all.code } : all).slice(0, 200)}`);
      await c.nodes[0]!.start();
      await waitFor(async () => {
        const n = (await nodeStats())[0];
        return n?.health === 'healthy' && (n.pool?.total_connections ?? 0) >= 1;
      }, { timeoutMs: 40_000, intervalMs: 200, what: 'node 1 joined' });
      const more = await Promise.all(Array.from({ length: 30 }, () => readOne(engine)));
      expect(more.every((r) => r.objects.length === 5)).toBe(true);
      expect((await nodeStats())[0]!.pool!.total_requests).toBeGreaterThan(0);
    } finally {
      if (!c.nodes[0]!.running) await c.nodes[0]!.start().catch(() => {});
    }
  }, 180_000);

  it('hedged reads: a node that stops answering (its network stalled) costs a hedged lane no read; the other copy is cancelled', async () => {
    const c = cluster!;
    // Node 3's gRPC behind the tests' proxy, which can hold every byte (sockets stay open: a black hole).
    const proxy = new ToxicProxy(c.nodes[2]!.host, c.nodes[2]!.grpcPort);
    await proxy.start();
    const nodes = nodesOf(c, proxy.port);
    const options = (hedge: boolean) => ({
      // Round robin: node 3 gets every third read during the stall, so reads are caught on it in
      // every run. With P2C (the default) whether any is depends on node 3's latency estimate at
      // that moment: one CI run (2026-11-26 19:20Z) sent it none in 2.5 s, and no hedge could win.
      weaviate: { nodes }, workers: 1, minConnections: 1, maxConnections: 4, balancing: 'round-robin' as const,
      // Budget 50 %: a third of the reads are caught while node 3 stalls, and hedging after the
      // p95 spends ~5 % on ordinary reads; a budget below that refuses hedges (documented: a read
      // whose hedge is refused may end at its deadline, which the assertions below allow).
      ...(hedge ? { hedge: { lanes: ['normal'], maxExtraPercent: 50 } } : {}),
    });
    try {
      await using plain = await createExecutor(options(false), {});
      await using hedged = await createExecutor(options(true), {});
      const read = (engine: typeof plain) => readOne(engine, 2000);
      const poolOf = async (engine: typeof plain) => (await engine.stats()).workers[0]!.pool!;
      // Warm-up: each engine learns its lane's p95 (>= 20 reads) and every node's latency.
      for (let i = 0; i < 60; i++) await Promise.all([read(plain), read(hedged)]);
      const outcomes = { plain: [] as Outcome[], hedged: [] as Outcome[] };
      let running = true;
      const reader = async (engine: typeof plain, into: Outcome[]) => {
        while (running) {
          const at = Date.now();
          into.push(await read(engine).then((r) => ({ at, ok: r.objects.length === 5, typed: true }), (e: unknown) => ({ at, ok: false, code: (e as { code?: string }).code, typed: isExecutorError(e) })));
        }
      };
      const plainReaders = [0, 1, 2].map(() => reader(plain, outcomes.plain));
      const hedgedReaders = [0, 1, 2].map(() => reader(hedged, outcomes.hedged));
      await sleep(300);
      proxy.stall();
      await sleep(2500);
      running = false;
      // Once its readers have their answers, and while node 3 is still a black hole, the hedged
      // engine holds nothing on it: every loser was cancelled. (A snapshot taken mid-load could
      // catch a read that P2C just sent there and that has not reached its hedge delay yet.)
      await Promise.all(hedgedReaders);
      const stalledOutstanding = { plain: (await poolOf(plain)).nodes![2]!.outstanding, hedged: (await poolOf(hedged)).nodes![2]!.outstanding };
      proxy.resume();
      await Promise.all(plainReaders);
      const h = (await poolOf(hedged)).hedging!;
      const failed = (o: Outcome[]) => o.filter((x) => !x.ok);
      console.log(
        `hedging, node 3 stalled 2.5 s: plain ${outcomes.plain.length} reads, ${failed(outcomes.plain).length} failed (${[...new Set(failed(outcomes.plain).map((f) => f.code))].join(', ')}), ` +
          `outstanding on node 3 during the stall ${stalledOutstanding.plain}; hedged ${outcomes.hedged.length} reads, ${failed(outcomes.hedged).length} failed, ` +
          `outstanding on node 3 ${stalledOutstanding.hedged}; hedges ${h.hedges_started} started, ${h.hedges_won} won, ${h.hedges_refused} refused, of ${h.hedged_reads} reads`,
      );
      // A read caught on the stalled node is answered by its hedge; only a read whose hedge the
      // budget refused may end at its deadline, typed (docs/guarantees.md). On a quiet machine
      // none is refused and none fails; a loaded CI machine spends more of the budget.
      for (const f of failed(outcomes.hedged)) expect(f.code).toBe('WEX_DEADLINE_EXCEEDED');
      expect(failed(outcomes.hedged).length).toBeLessThanOrEqual(h.hedges_refused);
      expect(failed(outcomes.plain).every((f) => f.typed)).toBe(true);
      expect(h.hedges_won).toBeGreaterThanOrEqual(1);
      expect(h.hedges_started).toBeLessThanOrEqual(Math.floor(h.hedged_reads * 0.5));
      expect(stalledOutstanding.hedged).toBe(0);
    } finally {
      await proxy.close();
    }
  }, 180_000);

  it('balancing by measured load: a node made slow (50 ms each way) gets a small share of the reads, the fast two the rest', async () => {
    const c = cluster!;
    const proxy = new ToxicProxy(c.nodes[2]!.host, c.nodes[2]!.grpcPort);
    await proxy.start();
    const nodes = nodesOf(c, proxy.port);
    try {
      await using engine = await createExecutor({ weaviate: { nodes }, workers: 1, minConnections: 1, maxConnections: 4 }, {});
      const requests = async () => ((await engine.stats()).workers[0]!.pool!.nodes ?? []).map((n) => n.pool?.total_requests ?? 0);
      const read = () => readOne(engine, 3000);
      for (let i = 0; i < 30; i++) await read();
      proxy.latencyMs = 50;
      const before = await requests();
      let running = true;
      let failed = 0;
      const reader = async () => {
        while (running) await read().catch(() => failed++);
      };
      const readers = Array.from({ length: 4 }, () => reader());
      await sleep(3000);
      running = false;
      await Promise.all(readers);
      const after = await requests();
      const served = after.map((n, i) => n - before[i]!);
      const total = served.reduce((a, b) => a + b, 0);
      console.log(`balancing: node 3 slowed by 50 ms each way; reads served per node ${served.join(' / ')} (${((served[2]! / total) * 100).toFixed(1)} % on the slow one), ${failed} failed`);
      expect(failed).toBe(0);
      // Round robin would give it a third; P2C over latency x outstanding gives it only the reads that re-measure it.
      expect(served[2]! / total).toBeLessThan(0.1);
      expect(Math.min(served[0]!, served[1]!)).toBeGreaterThan(served[2]! * 3);
    } finally {
      await proxy.close();
    }
  }, 120_000);

  it('per-node adaptive limits: a node of small capacity gets a lower limit and a smaller share than with limits off; in flight on every node (counted at the wire) never above its limit', async () => {
    const c = cluster!;
    // Every node behind a proxy that counts its gRPC calls in flight at the wire (HTTP/2 streams);
    // node 3's proxy lets one chunk towards the server through at a time, 60 ms each: a node of
    // small capacity, whose latency grows with what it is given (pure latency would not queue).
    // 60 ms, not less: the limit moves on the RATIO of loaded to no-load round trips, and on this
    // shared machine a fast node's own round trip is 10-20 ms and grows with load too (at 20 ms
    // per chunk both settled at 2).
    const proxies = c.nodes.map((n) => new ToxicProxy(n.host, n.grpcPort));
    const counters = proxies.map(() => new H2StreamCounter());
    proxies.forEach((p, i) => (p.tap = counters[i]));
    await Promise.all(proxies.map((p) => p.start()));
    const nodes = c.nodes.map((n, i) => ({ host: n.host, httpPort: n.httpPort, grpcPort: proxies[i]!.port }));
    // Round robin is blind to load: whatever moves reads off the slow node here is the limit.
    // min = max: every connection is open before the load (an open's health check is a stream too).
    const base = { weaviate: { nodes }, workers: 1, minConnections: 2, maxConnections: 2, maxStreamsPerConnection: 4, balancing: 'round-robin' as const, healthCheckIntervalMs: 600_000, healthCheckTimeoutMs: 10_000 };
    type Run = { served: number[]; failed: number; peaks: number[]; limits: number[][]; overLimit: string[]; samples: number };
    const run = async (nodeAdaptive: boolean): Promise<Run> => {
      // A shorter no-load probe than the default 50 requests: at 60 ms each on node 3 the default
      // would take half the run.
      await using engine = await createExecutor({ ...base, nodeAdaptive: nodeAdaptive ? { probeSamples: 20 } : false }, {});
      const nodeStats = async () => ((await engine.stats()).workers[0]!.pool!.nodes ?? []);
      for (let i = 0; i < 30; i++) await readOne(engine, 3000);
      proxies[2]!.serviceMs = 60;
      const before = (await nodeStats()).map((n) => n.pool?.total_requests ?? 0);
      for (const k of counters) k.takePeak();
      let running = true;
      let failed = 0;
      // A moderate closed loop (8 readers, 10 ms between reads): the fast nodes have room, the slow one has not.
      const reader = async () => {
        while (running) {
          await readOne(engine, 3000).catch(() => failed++);
          await sleep(10);
        }
      };
      const readers = Array.from({ length: 8 }, () => reader());
      // Sampled while it runs: each node's limit (engine) and its wire peak since the last sample.
      // A limit can fall while requests run above it, so a peak is held to the highest limit seen
      // within the reads' deadline (3 s) before it.
      const history: { at: number; limits: number[] }[] = [];
      const peaks = [0, 0, 0];
      const overLimit: string[] = [];
      const started = Date.now();
      while (Date.now() - started < 8000) {
        await sleep(25);
        const stats = await nodeStats();
        const wire = counters.map((k) => k.takePeak());
        wire.forEach((w, i) => (peaks[i] = Math.max(peaks[i]!, w)));
        if (!nodeAdaptive) continue;
        const now = Date.now();
        history.push({ at: now, limits: stats.map((n) => n.adaptive!.limit) });
        const recent = history.filter((h) => h.at >= now - 3500);
        wire.forEach((w, i) => {
          const envelope = Math.max(...recent.map((h) => h.limits[i]!));
          if (w > envelope) overLimit.push(`node ${i + 1}: ${w} in flight at the wire, limit at most ${envelope} within 3.5 s`);
        });
      }
      running = false;
      await Promise.all(readers);
      proxies[2]!.serviceMs = 0;
      const final = await nodeStats();
      const after = final.map((n) => n.pool?.total_requests ?? 0);
      if (nodeAdaptive) console.log(`node limits at the end: ${JSON.stringify(final.map((n) => ({ node: n.node, ...n.adaptive, recent_changes: n.adaptive?.recent_changes.slice(-4) })))}`);
      const half = history.slice(Math.floor(history.length / 2));
      return { served: after.map((x, i) => x - before[i]!), failed, peaks, limits: [0, 1, 2].map((i) => half.map((h) => h.limits[i]!)), overLimit, samples: history.length };
    };
    try {
      const off = await run(false);
      const on = await run(true);
      const share = (r: Run) => r.served[2]! / r.served.reduce((a, b) => a + b, 0);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
      console.log(
        `node limits: node 3 at 60 ms per chunk; off: served ${off.served.join(' / ')} (${(share(off) * 100).toFixed(1)} % on node 3), wire peaks ${off.peaks.join(' / ')}, ${off.failed} failed; ` +
          `on: served ${on.served.join(' / ')} (${(share(on) * 100).toFixed(1)} %), wire peaks ${on.peaks.join(' / ')}, mean limits (second half) ${on.limits.map((l) => mean(l).toFixed(2)).join(' / ')}, ${on.failed} failed, ${on.overLimit.length} over-limit samples of ${on.samples}`,
      );
      expect(on.overLimit).toEqual([]);
      expect(on.limits[2]!.length).toBeGreaterThan(10);
      // Node 3's limit: below the higher of the fast nodes'. Not below each, nor below their mean:
      // a fast node's limit moves on its own round trips, which grow with the shared machine's load,
      // and one often sits at 1 for a whole run. Node 3's mean limit (second half) in the CI runs of
      // 2026-11-27 against the fast nodes': 1.00 against 3.49 / 1.00, 1.00 against 3.00 / 1.95, 1.00
      // against 3.54 / 1.47, 1.20 against 1.80 / 2.03, and 1.49 against 1.72 / 1.06, which failed a
      // check against the fast nodes' mean (1.39) while node 3 got 8.3 % of the reads, not 33.2 %.
      // What moves reads off node 3 is its limit (round robin is blind to load), so the share below
      // is the check that node 3's limit is low for what it is given.
      const slow = mean(on.limits[2]!);
      expect(slow).toBeLessThan(Math.max(mean(on.limits[0]!), mean(on.limits[1]!)));
      // Less than half its share without limits (CI runs of 2026-11-27: 5.1-8.3 % against 33.2 %).
      expect(share(on)).toBeLessThan(share(off) / 2);
      // The counter sees real piles: without limits, round robin stacks more on the slow node than its limit ever allowed.
      expect(off.peaks[2]!).toBeGreaterThan(Math.max(...on.limits[2]!));
      expect(on.failed).toBe(0);
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
    }
  }, 180_000);

  it("the cluster's /v1/nodes status is a second input: a node frozen without traffic is ejected by it (no transport failure seen), readmitted once it is HEALTHY again", async () => {
    const c = cluster!;
    // Named nodes: /v1/nodes names nodes, not addresses.
    const nodes = c.nodes.map((n) => ({ host: n.host, httpPort: n.httpPort, grpcPort: n.grpcPort, name: n.name }));
    await using engine = await createExecutor(
      {
        weaviate: { nodes }, workers: 1, minConnections: 1, maxConnections: 2,
        // No health checks and no reads: nothing but the status can eject it.
        healthCheckIntervalMs: 600_000, healthCheckTimeoutMs: 10_000,
        outlierDetection: { consecutiveFailures: 1000, intervalMs: 500, baseEjectionMs: 1000, maxEjectionMs: 2000 },
      },
      {},
    );
    const nodeStats = async (): Promise<NodeStats[]> => ((await engine.stats()).workers[0]?.pool as { nodes?: NodeStats[] } | null)?.nodes ?? [];
    await sleep(1500);
    expect((await nodeStats()).map((n) => n.health)).toEqual(['healthy', 'healthy', 'healthy']);
    c.nodes[2]!.pause();
    const frozenAt = Date.now();
    try {
      const ejectedAfterMs = await waitFor(async () => ((await nodeStats())[2]?.total_ejections ?? 0) >= 1, { timeoutMs: 60_000, intervalMs: 250, what: 'node 3 ejected by its /v1/nodes status' });
      const ejected = (await nodeStats())[2]!;
      expect(ejected.last_reason).toMatch(/^ejected: \/v1\/nodes: (no longer lists n3|status (?!HEALTHY))/);
      expect(ejected.consecutive_failures).toBeLessThan(1000);
      c.nodes[2]!.resume();
      const readmittedAfterMs = await waitFor(async () => (await nodeStats())[2]?.health === 'healthy', { timeoutMs: 60_000, intervalMs: 250, what: 'node 3 readmitted' });
      console.log(`cluster status input: node 3 frozen, ejected by /v1/nodes ${ejectedAfterMs} ms later (${ejected.last_reason}); readmitted ${readmittedAfterMs} ms after resume`);
      const reads = await Promise.all(Array.from({ length: 12 }, () => readOne(engine, 5000)));
      expect(reads.every((r) => r.objects.length === 5)).toBe(true);
    } finally {
      c.nodes[2]!.resume();
      console.log(`(frozen for ${Date.now() - frozenAt} ms at most)`);
    }
  }, 180_000);

  it('npm start with WEAVIATE_NODES (the README setup): runs the example over the cluster, one pool per node; `weaviate-executor stats` shows the nodes', async () => {
    const c = cluster!;
    const list = c.nodes.map((n) => `${n.name}=${n.host}:${n.httpPort}:${n.grpcPort}`).join(',');
    const child = await startChild(cleanEnv({
      WEAVIATE_NODES: list, VECTOR_STORE_HTTP_PORT: '0', VECTOR_STORE_WORKERS: '2', VECTOR_STORE_MIN_CONNECTIONS: '2', VECTOR_STORE_MAX_CONNECTIONS: '4', VECTOR_STORE_NODE_ADAPTIVE: 'true',
    }));
    try {
      expect(child.ready, child.output()).toBe(true);
      expect(child.output()).toContain('Weaviate cluster of 3 nodes');
      expect(child.output()).toMatch(/Using the Weaviate cluster http:\/\/.*, http:\/\/.*, http:\/\/.* \(WEAVIATE_NODES\)/);
      expect(child.output()).toMatch(/^ {2}1\. \[/m); // the example query answered
      expect(child.output()).not.toContain('started by this process');
      // The CLI's stats page of that instance: a row per node, merged over its two workers.
      const url = /curl (http:\/\/\S+)\/vector-store\/pool\/stats/.exec(child.output())![1]!;
      const stats = async (...args: string[]) =>
        (await execFileP(process.execPath, [CLI, 'stats', '--url', url, ...args], { env: cleanEnv({}), timeout: 30_000 })).stdout;
      const json = JSON.parse(await stats('--json')) as { workers: { pool: { nodes?: NodeStats[] } | null }[] };
      const text = await stats();
      console.log(`weaviate-executor stats, nodes section:\n${text.slice(text.indexOf('Nodes ('), text.indexOf('\nErrors by code'))}`);
      expect(text).toMatch(/^Nodes \(3; over 2 worker\(s\): counts and limits summed, latencies their mean, ms\)$/m);
      expect(text).toMatch(/^ {2}node +state +connections +outstanding +latency EWMA +ejections +limit +slot waiting +RTT short +RTT long +limit changes$/m);
      for (const n of c.nodes) {
        // Connections summed over both workers, as the JSON has them; each worker opens its share on every node.
        const connections = json.workers.reduce((a, w) => a + (w.pool?.nodes?.find((x) => x.node === `${n.host}:${n.grpcPort}`)?.pool?.total_connections ?? 0), 0);
        expect(connections).toBeGreaterThanOrEqual(1);
        expect(text).toMatch(new RegExp(`^ {2}${n.host.replaceAll('.', '\\.')}:${n.grpcPort} +healthy +${connections} +\\d+ +(-|[\\d.]+) +0 +\\d+( probing)? +0 +`, 'm')); // nobody queued for a node's limit now
      }
      expect(text).toMatch(/^ {2}Node limits \(nodeAdaptive\): 0 waiting for a node below its limit now, \d+ waited since start, 0 timed out$/m);
      expect(await child.stop()).toBe(0);
    } finally {
      child.kill();
    }
  }, 120_000);
});
