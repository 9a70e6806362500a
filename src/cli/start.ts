/**
 * `weaviate-executor start` (and `npm start`): the whole thing on one machine.
 * 0. The whole configuration (env) is validated first (src/cli/config-check.ts): a wrong value
 *    fails at once with its ConfigError, before anything is built or started.
 * 1. A Weaviate: the one WEAVIATE_HOST/WEAVIATE_PORT point at, or the cluster WEAVIATE_NODES
 *    lists, over TLS with WEAVIATE_SECURE / WEAVIATE_TLS_* and WEAVIATE_API_KEY when set; else a
 *    local node the project builds (first run only) and starts itself.
 * 2. The sample data (m_asset_schema, Korean financial documents), loaded if missing; on a
 *    cluster replicated on up to 3 nodes (replication factor min(3, nodes)).
 * 3. The executor (workers, lanes, pools) configured from the environment.
 * 4. The HTTP endpoints on 127.0.0.1:8010, then the note's example query, then where to look.
 * Ctrl-C stops everything (HTTP, executor, the local Weaviate) and exits.
 */
import { ensureSampleData } from '../data/load.ts';
import { SAMPLE_COLLECTION, embed } from '../data/sample.ts';
import { createExecutor } from '../engine/executor.ts';
import { ensureWeaviate } from '../launcher/local.ts';
import { createLogger } from '../log.ts';
import { createPool } from '../pool/create.ts';
import type { QueryResult } from '../query/spec.ts';
import { startServer } from '../server/http.ts';
import { checkStartConfig } from './config-check.ts';

const say = (line: string) => console.log(line);

export async function runStart(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const checked = checkStartConfig(env);
    for (const warning of checked.warnings) console.error(`Warning: ${warning}`);
    say(`Configuration valid: ${checked.summary}`);
  } catch (error) {
    const e = error as Error & { code?: string };
    console.error(`Configuration invalid${e.code ? ` (${e.code})` : ''}: ${e.message ?? String(error)}`);
    console.error('Nothing was started. Fix the variable named above and run again.');
    process.exitCode = 2;
    return;
  }
  await startAll();
}

const stops: (() => Promise<unknown>)[] = [];
let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('\nStopping...');
  for (const stop of stops.reverse()) await stop().catch((e: unknown) => console.error(String(e)));
  say('Stopped.');
  process.exit(code);
}

async function startAll(): Promise<void> {
  process.once('SIGINT', () => void shutdown(0));
  process.once('SIGTERM', () => void shutdown(0));
  const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn' });

  try {
    const weaviate = await ensureWeaviate({ onProgress: say, binaryOptions: { onProgress: say } });
    stops.push(() => weaviate.stop());
    if (stopping) await new Promise(() => {});
    const { host, httpPort, grpcPort } = weaviate.target;
    // The executor and its workers read the target from the environment like any other setting
    // (an external one is there already, nodes and TLS included; a local one is added).
    if (!weaviate.external) {
      process.env['WEAVIATE_HOST'] = host;
      process.env['WEAVIATE_PORT'] = String(httpPort);
      process.env['WEAVIATE_GRPC_PORT'] = String(grpcPort);
    }
    const nodes = weaviate.target.nodes;

    const loader = await createPool({ minConnections: 1, maxConnections: 1, logger });
    const loaded = await loader
      .withConnection((client) => ensureSampleData(client, { onProgress: say, ...(nodes ? { replicationFactor: Math.min(3, nodes.length) } : {}) }))
      .finally(() => loader.close());
    say(`Sample data: ${loaded.objects} documents in ${loaded.collection}${loaded.created ? ` (loaded in ${(loaded.ms / 1000).toFixed(1)} s)` : ''}`);

    const executor = await createExecutor({ logger });
    stops.push(() => executor.close());
    const { app, url } = await startServer(executor, { embed, logLevel: process.env['LOG_LEVEL'] ?? 'warn' });
    stops.push(() => app.close());

    const result = (await executor.query(
      { kind: 'hybrid', collection: SAMPLE_COLLECTION, query: '삼성전자', vector: embed('삼성전자'), limit: 5, returnProperties: ['company', 'title', 'published_at'] },
      { lane: 'critical', deadlineMs: 5000 },
    )) as QueryResult;
    say(`\nThe note's example: hybrid search for 삼성전자 in ${SAMPLE_COLLECTION}, limit 5 (critical lane):`);
    result.objects.forEach((o, i) => say(`  ${i + 1}. [${String(o.properties['company'])}] ${String(o.properties['title'])}`));

    const stats = await executor.stats();
    say(`\nEngine: ${stats.mode}, ${stats.worker_count} worker(s), ${stats.total_connections} connection(s) open (min ${stats.min_connections}, max ${stats.max_connections}), lanes: ${Object.keys(stats.lanes).join(', ')}`);
    say('\nWhere to look:');
    say(`  open ${url}/vector-store/dashboard   (live lanes, latency, connections, errors)`);
    say(`  curl ${url}/vector-store/pool/stats`);
    say(`  curl ${url}/vector-store/pool/connections`);
    say(`  curl ${url}/metrics`);
    say(`  curl -s ${url}/vector-store/search -H 'content-type: application/json' \\`);
    say(`       -d '{"kind":"hybrid","collection":"${SAMPLE_COLLECTION}","text":"삼성전자","limit":5,"lane":"critical"}'`);
    const scheme = weaviate.target.secure ? 'https' : 'http';
    const where = (nodes ?? [{ host, httpPort, grpcPort }]).map((n) => `${scheme}://${n.host}:${n.httpPort} (gRPC ${n.grpcPort})`).join(', ');
    say(`\nWeaviate: ${where}${weaviate.target.secure ? ', TLS' : ''}${weaviate.target.apiKey ? ', API key' : ''}${weaviate.external ? ' (yours)' : ' (started by this process)'}. Ctrl-C stops everything.`);
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    console.error(`\nStart failed${typeof code === 'string' ? ` (${code})` : ''}: ${(error as Error)?.message ?? String(error)}`);
    await shutdown(1);
  }
}
