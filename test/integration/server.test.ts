/**
 * The HTTP endpoints: the note's stats JSON, search with typed errors, 503 + Retry-After when
 * shedding, bearer token, body limit, loopback by default, idle sockets timed out.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { SAMPLE_COLLECTION, embed } from '../../src/data/sample.ts';
import { silentLogger } from '../../src/log.ts';
import { resolveServerOptions, startServer } from '../../src/server/http.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
let engine: Executor;
beforeAll(async () => {
  engine = await createExecutor({ weaviate: target, workers: 1, minConnections: 1, maxConnections: 2, lanes: { batch: { maxQueue: 0 } }, logger: silentLogger }, {});
});
afterAll(() => engine?.close());

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}/vector-store/search`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('HTTP endpoints', () => {
  it('serves the note stats JSON, search results, typed 400s, and 503 with Retry-After when a lane sheds', async () => {
    const { app, url } = await startServer(engine, { port: 0, embed, logLevel: 'silent' }, {});
    try {
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const ok = await post(url, { kind: 'hybrid', collection: SAMPLE_COLLECTION, text: '삼성전자', limit: 5, lane: 'critical', returnProperties: ['company'] });
      expect(ok.status).toBe(200);
      const body = (await ok.json()) as { success: boolean; result: { objects: { properties: { company: string } }[] } };
      expect(body.result.objects.map((o) => o.properties.company)).toEqual(Array(5).fill('삼성전자'));

      const bad = await post(url, { kind: 'nearVector', collection: SAMPLE_COLLECTION, vector: [0.1, 0.2] });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ success: false, error: { code: 'WEX_VALIDATION', details: { field: 'vector' } } });

      const schemaBad = await post(url, { kind: 'hybrid', collection: SAMPLE_COLLECTION, query: 'x', unknownField: 1 });
      expect(schemaBad.status).toBe(400);
      expect(((await schemaBad.json()) as { error: { code: string } }).error.code).toBe('WEX_VALIDATION');

      const notJson = await post(url, '{"kind": "hybrid", ');
      expect(notJson.status).toBe(400);

      const shed = await post(url, { kind: 'bm25', collection: SAMPLE_COLLECTION, query: '카카오', lane: 'batch' });
      expect(shed.status).toBe(503);
      expect(shed.headers.get('retry-after')).toBe('1');
      expect(((await shed.json()) as { error: { code: string } }).error.code).toBe('WEX_QUEUE_FULL');

      const stats = (await (await fetch(`${url}/vector-store/pool/stats`)).json()) as { success: boolean; stats: Record<string, unknown> };
      expect(stats.success).toBe(true);
      expect(Object.keys(stats.stats).slice(0, 10)).toEqual([
        'enabled', 'total_connections', 'current_active', 'current_idle', 'available_connections',
        'total_connections_created', 'total_connections_closed', 'total_requests', 'avg_wait_time', 'health_check_failures',
      ]);
      expect(stats.stats).toHaveProperty('lanes.critical.end_to_end.p99_us');
      expect(stats.stats).toHaveProperty('latency.connection_wait.p50_us');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      // Histograms (aggregatable), one observation per finished request, with the documented buckets.
      expect(metrics).toMatch(/weaviate_executor_request_duration_seconds_bucket\{le="0.005",lane="critical",kind="query",outcome="ok"\} \d+/);
      expect(metrics).toMatch(/weaviate_executor_request_duration_seconds_count\{lane="critical",kind="query",outcome="ok"\} [1-9]/);
      expect(metrics).toMatch(/weaviate_executor_requests_total\{lane="critical",outcome="completed"\} [1-9]/);
      const big = await post(url, JSON.stringify({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: 'x'.repeat(2 * 1024 * 1024) }));
      expect(big.status).toBe(413);
    } finally {
      await app.close();
    }
  });

  it('binds to loopback by default and can demand a bearer token', async () => {
    expect(resolveServerOptions({}, {}).host).toBe('127.0.0.1');
    const token = 'http-token-7a8b9c0d1e';
    const { app, url } = await startServer(engine, { port: 0, token, logLevel: 'silent' }, {});
    try {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      const denied = await fetch(`${url}/vector-store/pool/stats`);
      expect(denied.status).toBe(401);
      expect(await denied.text()).not.toContain(token);
      expect((await fetch(`${url}/vector-store/pool/stats`, { headers: { authorization: 'Bearer wrong-token-xxxxx' } })).status).toBe(401);
      expect((await fetch(`${url}/vector-store/pool/stats`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('closes a connection that sends nothing', async () => {
    const { app, url } = await startServer(engine, { port: 0, idleTimeoutMs: 500, logLevel: 'silent' }, {});
    try {
      const port = Number(new URL(url).port);
      const started = Date.now();
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', reject);
        socket.on('close', () => resolve());
      });
      const took = Date.now() - started;
      expect(took).toBeGreaterThanOrEqual(400);
      expect(took).toBeLessThan(5000);
    } finally {
      await app.close();
    }
  });
});
