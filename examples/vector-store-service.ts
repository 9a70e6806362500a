/**
 * The design note's vector-store service: the pooled executor answers the note's example query
 * (hybrid search for 삼성전자 in m_asset_schema, limit 5) on the critical lane, then shows the
 * pool statistics the note's /vector-store/pool/stats endpoint returns.
 */
import { createExecutor } from 'weaviate-executor';
import { embed } from 'weaviate-executor/testing';

await using engine = await createExecutor({ minConnections: 2, maxConnections: 4, workers: 1 });

const hits = await engine.query(
  {
    kind: 'hybrid',
    collection: 'm_asset_schema',
    query: '삼성전자',
    vector: embed('삼성전자'), // your embedding model in a real service
    limit: 5,
    returnProperties: ['company', 'title'],
    returnMetadata: ['score'],
  },
  { lane: 'critical', deadlineMs: 5_000 },
);
for (const [i, o] of hits.objects.entries()) console.log(`${i + 1}. [${String(o.properties['company'])}] ${String(o.properties['title'])}`);

const stats = await engine.stats();
console.log(`RESULT ${JSON.stringify({ companies: hits.objects.map((o) => o.properties['company']), total_connections: stats.total_connections, lanes: Object.keys(stats.lanes) })}`);
