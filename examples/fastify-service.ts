/**
 * A fastify service that embeds the executor: its routes (search, stats, connections, metrics,
 * health) mount under the service's own prefix and behind its own API-key hook. The example
 * calls itself once, then stops (a real service keeps listening).
 */
import Fastify from 'fastify';
import { createExecutor } from 'weaviate-executor';
import { weaviateExecutorPlugin } from 'weaviate-executor/fastify';
import { embed } from 'weaviate-executor/testing';

const API_KEY = process.env['SEARCH_API_KEY'] ?? 'example-key';
const engine = await createExecutor({ maxConnections: 4, workers: 1 });

const app = Fastify({ logger: false });
app.addHook('onClose', async () => engine.close());
app.get('/', async () => ({ service: 'reports', search: '/search-api/vector-store/search' }));
await app.register(
  async (api) => {
    api.addHook('onRequest', async (request, reply) => {
      if (request.headers['x-api-key'] !== API_KEY) return reply.code(401).send({ error: 'unauthorized' });
    });
    // `embed` fills `vector` from `text` for hybrid / nearVector requests.
    await api.register(weaviateExecutorPlugin, { executor: engine, embed: (text) => embed(text) });
  },
  { prefix: '/search-api' },
);
const address = await app.listen({ host: '127.0.0.1', port: 0 });

try {
  const headers = { 'content-type': 'application/json', 'x-api-key': API_KEY };
  const search = await fetch(`${address}/search-api/vector-store/search`, {
    method: 'POST', headers,
    body: JSON.stringify({ kind: 'hybrid', collection: 'm_asset_schema', text: '삼성전자', limit: 5, lane: 'critical', returnProperties: ['company', 'title'] }),
  });
  const body = (await search.json()) as { result: { objects: { properties: Record<string, unknown> }[] } };
  const unauthorized = (await fetch(`${address}/search-api/vector-store/pool/stats`)).status;
  const metrics = await (await fetch(`${address}/search-api/metrics`, { headers })).text();
  console.log(`RESULT ${JSON.stringify({
    status: search.status,
    companies: body.result.objects.map((o) => o.properties['company']),
    unauthorized,
    histogram: /weaviate_executor_request_duration_seconds_count\{lane="critical"/.test(metrics),
  })}`);
} finally {
  await app.close(); // closes the executor too (onClose hook)
}
