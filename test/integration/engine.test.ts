/**
 * The engine against the real Weaviate: lanes with real queries, the stats endpoint, task
 * modules, validation before queueing, sockets per worker counted by the OS.
 */
import { getHeapStatistics } from 'node:v8';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { SAMPLE_COLLECTION, embed } from '../../src/data/sample.ts';
import { silentLogger } from '../../src/log.ts';
import type { FilterSpec, QueryResult, QuerySpec } from '../../src/query/spec.ts';
import { startServer } from '../../src/server/http.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { rejectionOf } from '../support/rejection.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);
let engine: Executor;

beforeAll(async () => {
  engine = await createExecutor({ weaviate: target, workers: 2, minConnections: 2, maxConnections: 4, taskModule: tasks, logger: silentLogger }, {});
});
afterAll(() => engine?.close());

const samsung: QuerySpec = {
  kind: 'hybrid',
  collection: SAMPLE_COLLECTION,
  query: '삼성전자',
  vector: embed('삼성전자'),
  limit: 5,
  returnProperties: ['company', 'title'],
};
const normalQuery = (i: number): QuerySpec => ({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: ['현대차', '카카오', 'NAVER', 'LG화학'][i % 4]!, limit: 5 });

describe('executor (real Weaviate)', () => {
  it("runs the note's hybrid 삼성전자 query on the critical lane during a normal-lane flood; each lane's p99 shows at the stats endpoint", async () => {
    const { app, url } = await startServer(engine, { port: 0, logLevel: 'silent' }, {});
    try {
      const order: string[] = [];
      const flood = Array.from({ length: 400 }, (_, i) => engine.query(normalQuery(i), { lane: 'normal' }).then(() => order.push('n')));
      await new Promise((r) => setTimeout(r, 50)); // the flood is queued and running
      // The note's query, 20 times at 10 ms intervals while the flood is served.
      const critical: Promise<QueryResult>[] = [];
      for (let k = 0; k < 20; k++) {
        critical.push(engine.query(samsung, { lane: 'critical', deadlineMs: 5000 }).then((r) => (order.push('c'), r as QueryResult)));
        await new Promise((r) => setTimeout(r, 10));
      }
      const answers = await Promise.all(critical);
      await Promise.all(flood);
      for (const a of answers) expect(a.objects.map((o) => o.properties['company'])).toEqual(Array(5).fill('삼성전자'));
      // Every critical query finished long before the flood did.
      expect(order.lastIndexOf('c')).toBeLessThan(300);

      const body = (await (await fetch(`${url}/vector-store/pool/stats`)).json()) as { success: boolean; stats: Record<string, unknown> & { lanes: Record<string, { end_to_end: { p99_us: number; count: number } }> } };
      expect(body.success).toBe(true);
      for (const key of ['enabled', 'total_connections', 'current_active', 'current_idle', 'available_connections', 'total_connections_created', 'total_connections_closed', 'total_requests', 'avg_wait_time', 'health_check_failures']) {
        expect(body.stats).toHaveProperty(key);
      }
      const critP99 = body.stats.lanes['critical']!.end_to_end.p99_us;
      const normP99 = body.stats.lanes['normal']!.end_to_end.p99_us;
      console.log(`lane p99 during the flood: critical ${(critP99 / 1000).toFixed(2)} ms (n=${body.stats.lanes['critical']!.end_to_end.count}), normal ${(normP99 / 1000).toFixed(2)} ms (n=${body.stats.lanes['normal']!.end_to_end.count})`);
      expect(critP99).toBeGreaterThan(0);
      expect(critP99).toBeLessThan(normP99);
    } finally {
      await app.close();
    }
  });

  it('holds exactly total_connections real sockets across its workers', async () => {
    const stats = await engine.stats();
    expect(stats.worker_count).toBe(2);
    // Each worker owns its share: max 4 over 2 workers is 2 each, min 2 is 1 each.
    for (const w of stats.workers) {
      expect(w.pool).toMatchObject({ max_connections: 2, min_connections: 1 });
      expect(w.pool!.total_connections).toBeGreaterThanOrEqual(1);
    }
    await waitFor(() => countEstablished(target.grpcPort!) === stats.total_connections, { what: 'sockets = total' });
    await Promise.all(Array.from({ length: 100 }, (_, i) => engine.query(normalQuery(i))));
    const after = await engine.stats();
    expect(after.total_connections).toBeLessThanOrEqual(4);
    expect(countEstablished(target.grpcPort!)).toBe(after.total_connections);
    const s = after;
    expect(s.current_active + s.current_idle).toBe(s.total_connections);
    expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);
  });

  it('rejects bad specs with a typed error naming the field, before anything is queued', async () => {
    const before = (await engine.stats()).counters;
    const cases: [unknown, string][] = [
      [{ ...samsung, vector: [1, 2, 3] }, 'vector'],
      [{ ...samsung, limit: 0 }, 'limit'],
      [{ ...samsung, alpha: Number.NaN }, 'alpha'],
      [{ ...samsung, collection: 'No_such_thing' }, 'collection'],
      [{ ...samsung, filters: { property: 'company', operator: 'equal', value: 5 } }, 'filters.value'],
      [{ ...samsung, filters: { and: [{ property: 'nope', operator: 'equal', value: 'x' }] } }, 'filters.and[0].property'],
      [{ ...samsung, returnProperties: ['title', 'missing'] }, 'returnProperties[1]'],
      [{ kind: 'nearVector', collection: SAMPLE_COLLECTION, vector: [...embed('x').slice(0, 63), Number.POSITIVE_INFINITY] }, 'vector[63]'],
      [{ kind: 'drop', collection: SAMPLE_COLLECTION }, 'kind'],
    ];
    for (const [spec, field] of cases) {
      const error = await rejectionOf(engine.query(spec as QuerySpec));
      expect(error.code, JSON.stringify(spec).slice(0, 80)).toBe('WEX_VALIDATION');
      expect(error.details?.['field']).toBe(field);
    }
    expect((await rejectionOf(engine.query(samsung, { lane: 'vip' }))).details?.['field']).toBe('lane');
    expect((await rejectionOf(engine.query(samsung, { deadlineMs: -5 }))).details?.['field']).toBe('deadlineMs');
    const after = (await engine.stats()).counters;
    expect(after.validation_errors - before.validation_errors).toBe(cases.length + 2);
    expect(after.completed + after.failed).toBe(before.completed + before.failed); // nothing ran
  });

  it('a query Weaviate rejects fails typed, and the connection is not poisoned', async () => {
    // offset + limit above Weaviate's QUERY_MAXIMUM_RESULTS (10,000): valid shape, refused by the server.
    const error = await rejectionOf(engine.query({ kind: 'fetchObjects', collection: SAMPLE_COLLECTION, offset: 9000, limit: 5000 }));
    expect(error.code).toBe('WEX_QUERY_FAILED');
    expect(error.message).toMatch(/Weaviate rejected the request/);
    const ok = (await engine.query(samsung)) as QueryResult;
    expect(ok.objects).toHaveLength(5);
  });

  it('filters, metadata and vectors come back as plain data', async () => {
    const r = (await engine.query({
      kind: 'nearVector',
      collection: SAMPLE_COLLECTION,
      vector: embed('현대차 전기차'),
      limit: 3,
      filters: { and: [{ property: 'sector', operator: 'equal', value: '자동차' }, { property: 'target_price', operator: 'greaterThan', value: 1000 }] },
      returnMetadata: ['distance'],
      includeVector: true,
    })) as QueryResult;
    expect(r.objects).toHaveLength(3);
    for (const o of r.objects) {
      expect(o.properties['sector']).toBe('자동차');
      expect(typeof o.metadata?.['distance']).toBe('number');
      expect(Array.isArray(o.vector) && (o.vector as number[]).length).toBe(64);
    }
  });

  it('every filter operator reaches Weaviate as the right filter', async () => {
    const cases: { filter: FilterSpec; check: (p: Record<string, unknown>) => boolean }[] = [
      { filter: { property: 'company', operator: 'equal', value: '카카오' }, check: (p) => p['company'] === '카카오' },
      { filter: { property: 'company', operator: 'notEqual', value: '카카오' }, check: (p) => p['company'] !== '카카오' },
      { filter: { property: 'company', operator: 'like', value: '삼성*' }, check: (p) => String(p['company']).startsWith('삼성') },
      { filter: { property: 'target_price', operator: 'lessThan', value: 30000 }, check: (p) => Number(p['target_price']) < 30000 },
      { filter: { property: 'target_price', operator: 'lessThanEqual', value: 30000 }, check: (p) => Number(p['target_price']) <= 30000 },
      { filter: { property: 'target_price', operator: 'greaterThan', value: 490000 }, check: (p) => Number(p['target_price']) > 490000 },
      { filter: { property: 'target_price', operator: 'greaterThanEqual', value: 490000 }, check: (p) => Number(p['target_price']) >= 490000 },
      { filter: { property: 'published_at', operator: 'greaterThan', value: '2025-12-01T00:00:00Z' }, check: (p) => new Date(String(p['published_at'])) > new Date('2025-12-01T00:00:00Z') },
      { filter: { property: 'sector', operator: 'containsAny', value: ['해운', '방산'] }, check: (p) => ['해운', '방산'].includes(String(p['sector'])) },
      { filter: { property: 'rating', operator: 'isNull', value: false }, check: (p) => typeof p['rating'] === 'string' },
      { filter: { not: { property: 'sector', operator: 'equal', value: '반도체' } }, check: (p) => p['sector'] !== '반도체' },
    ];
    for (const { filter, check } of cases) {
      const r = (await engine.query({ kind: 'fetchObjects', collection: SAMPLE_COLLECTION, limit: 5, filters: filter })) as QueryResult;
      expect(r.objects.length, JSON.stringify(filter)).toBeGreaterThan(0);
      expect(r.objects.every((o) => check(o.properties)), JSON.stringify(filter)).toBe(true);
    }
  });

  it('runs task-module functions with a leased client in the workers', async () => {
    expect(await engine.run('countObjects', { collection: SAMPLE_COLLECTION })).toBe(5000);
    expect(await engine.run('echo', { a: [1, 2] }, { lane: 'critical' })).toMatchObject({ args: { a: [1, 2] }, lane: 'critical' });
    expect((await rejectionOf(engine.run('nope'))).code).toBe('WEX_UNKNOWN_TASK');
    const failed = await rejectionOf(engine.run('fail'));
    expect(failed).toMatchObject({ code: 'WEX_TASK_FAILED', message: 'task failed on purpose' });
    expect((await rejectionOf(engine.run('echo', { fn: () => 1 }))).code).toBe('WEX_VALIDATION');
  });

  it('a deadline ends a running task on time, and the worker keeps serving', async () => {
    const started = Date.now();
    const error = await rejectionOf(engine.run('sleep', { ms: 10_000 }, { deadlineMs: 300 }));
    expect(error.code).toBe('WEX_DEADLINE_EXCEEDED');
    // Answered without waiting for the 10 s task (a bound set by the task, not by machine speed).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await engine.run('echo', 1)).toMatchObject({ args: 1 });
  });

  it('a lane with a dedicated worker runs only there, and other lanes never do', async () => {
    await using isolated = await createExecutor(
      { weaviate: target, workers: 2, minConnections: 2, maxConnections: 4, taskModule: tasks, lanes: { critical: { dedicatedWorkers: 1 } }, logger: silentLogger },
      {},
    );
    const critical = await Promise.all(Array.from({ length: 20 }, () => isolated.run<{ threadId: number }>('echo', 0, { lane: 'critical' })));
    const normal = await Promise.all(Array.from({ length: 20 }, () => isolated.run<{ threadId: number }>('echo', 0, { lane: 'normal' })));
    const criticalThreads = new Set(critical.map((r) => r.threadId));
    const normalThreads = new Set(normal.map((r) => r.threadId));
    expect(criticalThreads.size).toBe(1);
    expect([...normalThreads].some((t) => criticalThreads.has(t))).toBe(false);
  });

  it('workerResourceLimits reach every worker thread (the default young generation too): V8 reports the smaller heap there, and the main thread keeps its own', async () => {
    await using limited = await createExecutor(
      { weaviate: target, workers: 2, minConnections: 2, maxConnections: 4, taskModule: tasks, workerResourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 }, logger: silentLogger },
      {},
    );
    type Limits = { heapSizeLimitMb: number; resourceLimits: { maxYoungGenerationSizeMb?: number; maxOldGenerationSizeMb?: number }; threadId: number };
    const seen = new Map<number, Limits>();
    // Both workers (the least busy one takes each task: concurrent calls reach both).
    for (let round = 0; round < 10 && seen.size < 2; round++) {
      for (const r of await Promise.all(Array.from({ length: 8 }, () => limited.run<Limits>('heapLimits', null)))) seen.set(r.threadId, r);
    }
    expect(seen.size).toBe(2);
    // Without the option: the default young generation (12 MB), V8's old generation.
    const plain = await engine.run<Limits>('heapLimits', null);
    expect(plain.resourceLimits.maxYoungGenerationSizeMb).toBe(12);
    for (const r of seen.values()) {
      expect(r.resourceLimits).toMatchObject({ maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 });
      // V8's own limit: the old generation plus the young one (140 MB here), against several GB without limits.
      expect(r.heapSizeLimitMb).toBeLessThanOrEqual(128 + 8 + 16);
      expect(plain.heapSizeLimitMb).toBeGreaterThan(2 * r.heapSizeLimitMb);
    }
    expect(getHeapStatistics().heap_size_limit / 2 ** 20).toBeGreaterThan(2 * (128 + 8));
  });

  it("autoscale (the note's dynamic sizing) grows max under load and shrinks it when idle", async () => {
    await using scaled = await createExecutor(
      { weaviate: target, workers: 1, minConnections: 1, maxConnections: 2, maxStreamsPerConnection: 1, autoscale: { floor: 2, ceiling: 6, intervalMs: 400 }, logger: silentLogger },
      {},
    );
    let stop = false;
    onTestFinished(() => {
      stop = true; // also when the test fails first: the load must not outlive it
    });
    const load = Promise.all(Array.from({ length: 12 }, async (_, k) => {
      while (!stop) await scaled.query(normalQuery(k));
    }));
    await waitFor(async () => (await scaled.stats()).max_connections >= 4, { timeoutMs: 10_000, what: 'max grows' });
    stop = true;
    await load;
    const grown = (await scaled.stats()).max_connections;
    await waitFor(async () => (await scaled.stats()).max_connections < grown, { timeoutMs: 10_000, what: 'max shrinks' });
    const s = await scaled.stats();
    expect(s.autoscale).toMatchObject({ floor: 2, ceiling: 6 });
    expect(String(s.autoscale!['last_change'])).toMatch(/-> \d+ at utilisation/);
  });

  it('resizes at run time: new shares per worker, lanes get the new slot count', async () => {
    await engine.resize({ min: 4, max: 6 });
    await waitFor(async () => (await engine.stats()).total_connections === 4, { what: 'min 4' });
    const s = await engine.stats();
    expect(s.max_connections).toBe(6);
    expect(s.workers.map((w) => w.pool?.max_connections).sort()).toEqual([3, 3]);
    await engine.resize({ min: 2, max: 4 });
    expect((await rejectionOf(engine.resize({ min: 5, max: 4 }))).code).toBe('WEX_CONFIG_INVALID');
  });
});
