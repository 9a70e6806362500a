/**
 * The fastify plugin inside a host's own app: the routes mount under the host's prefix, the
 * host's auth hook guards them, the executor's metrics land in the host's prom-client registry
 * next to the host's own, and closing the app unregisters them.
 */
import Fastify from 'fastify';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_COLLECTION, embed } from '../../src/data/sample.ts';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { weaviateExecutorPlugin } from '../../src/server/plugin.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
let engine: Executor;
beforeAll(async () => {
  engine = await createExecutor({ weaviate: target, workers: 1, minConnections: 1, maxConnections: 2 }, {});
});
afterAll(() => engine?.close());

describe('fastify plugin in a host app', () => {
  it('mounts under the prefix, behind the host auth hook, with metrics in the host registry', async () => {
    const registry = new Registry();
    const hostCounter = new Counter({ name: 'host_requests_total', help: 'the host app its own metric', registers: [registry] });
    const app = Fastify({ logger: false });
    app.get('/', async () => 'host root');
    await app.register(
      async (scope) => {
        scope.addHook('onRequest', async (request, reply) => {
          hostCounter.inc();
          if (request.headers['x-api-key'] !== 'k1') return reply.code(401).send({ error: 'host auth' });
        });
        await scope.register(weaviateExecutorPlugin, { executor: engine, registry, embed: (t) => embed(t) });
      },
      { prefix: '/search-api' },
    );
    try {
      const auth = { 'x-api-key': 'k1' };
      expect((await app.inject({ url: '/' })).body).toBe('host root');
      expect((await app.inject({ url: '/vector-store/pool/stats', headers: auth })).statusCode).toBe(404); // only under the prefix
      expect((await app.inject({ url: '/search-api/vector-store/pool/stats' })).statusCode).toBe(401); // the host's hook runs
      const stats = await app.inject({ url: '/search-api/vector-store/pool/stats', headers: auth });
      expect(stats.json()).toMatchObject({ success: true, stats: { worker_count: 1 } });
      expect((await app.inject({ url: '/search-api/healthz', headers: auth })).json()).toEqual({ ok: true });
      expect((await app.inject({ url: '/search-api/readyz', headers: auth })).statusCode).toBe(200);
      const conns = await app.inject({ url: '/search-api/vector-store/pool/connections', headers: auth });
      expect(conns.json<{ connections: unknown[] }>().connections.length).toBeGreaterThanOrEqual(1);
      const search = await app.inject({
        method: 'POST', url: '/search-api/vector-store/search', headers: auth,
        payload: { kind: 'hybrid', collection: SAMPLE_COLLECTION, text: '삼성전자', limit: 5, lane: 'critical' },
      });
      expect(search.statusCode).toBe(200);
      expect(search.json<{ result: { objects: { properties: { company: string } }[] } }>().result.objects.map((o) => o.properties.company)).toContain('삼성전자');
      const bad = await app.inject({ method: 'POST', url: '/search-api/vector-store/search', headers: auth, payload: { kind: 'nearVector', collection: SAMPLE_COLLECTION, vector: [1] } });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: { code: 'WEX_VALIDATION' } });

      const metrics = (await app.inject({ url: '/search-api/metrics', headers: auth })).body;
      expect(metrics).toContain('host_requests_total'); // the host's registry, served whole
      expect(metrics).toMatch(/weaviate_executor_request_duration_seconds_count\{lane="critical",kind="query",outcome="ok"\} 1\b/);
      expect(metrics).toMatch(/weaviate_executor_connections\{state="idle"\} \d/);
      expect(await registry.getSingleMetricAsString('weaviate_executor_workers')).toMatch(/weaviate_executor_workers 1/);
    } finally {
      await app.close();
    }
    expect(registry.getSingleMetric('weaviate_executor_request_duration_seconds')).toBeUndefined();
    expect(registry.getSingleMetric('host_requests_total')).toBeDefined();
  });
});
