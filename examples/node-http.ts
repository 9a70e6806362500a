/**
 * The executor behind a plain node:http server, with Prometheus metrics from
 * weaviate-executor/prometheus (a prom-client registry; pass your own with `{ registry }`).
 * The example calls itself once, then stops.
 */
import { createServer } from 'node:http';
import { once } from 'node:events';
import { createExecutor, isExecutorError } from 'weaviate-executor';
import { registerExecutorMetrics } from 'weaviate-executor/prometheus';

const engine = await createExecutor({ maxConnections: 2, workers: 1 });
const { registry } = registerExecutorMetrics(engine);

const server = createServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://localhost');
  const answer = async () => {
    if (url.pathname === '/search') {
      const result = await engine.query(
        { kind: 'bm25', collection: 'm_asset_schema', query: url.searchParams.get('q') ?? '', limit: Number(url.searchParams.get('limit') ?? 5), returnProperties: ['company', 'title'] },
        { lane: 'critical', deadlineMs: 2_000 },
      );
      return response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
    }
    if (url.pathname === '/metrics') return response.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
    return response.writeHead(404).end();
  };
  answer().catch((error: unknown) => {
    // Typed errors carry a stable code: a bad request is the caller's fault, the rest is ours or Weaviate's.
    const code = isExecutorError(error) ? error.code : 'INTERNAL';
    response.writeHead(code === 'WEX_VALIDATION' ? 400 : code === 'WEX_QUEUE_FULL' ? 503 : 500, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: code }));
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as { port: number };

try {
  const found = (await (await fetch(`http://127.0.0.1:${port}/search?q=${encodeURIComponent('삼성전자')}`)).json()) as { objects: { properties: Record<string, unknown> }[] };
  const invalid = await fetch(`http://127.0.0.1:${port}/search?q=x&limit=-1`);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  console.log(`RESULT ${JSON.stringify({
    companies: found.objects.map((o) => o.properties['company']),
    invalid: invalid.status,
    histogram: /weaviate_executor_request_duration_seconds_count\{lane="critical",kind="query",outcome="ok"\} 1/.test(metrics),
  })}`);
} finally {
  server.close();
  await engine.close();
}
