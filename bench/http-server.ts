/**
 * A search server for the HTTP scenario, run as its own process so that the load generator
 * (autocannon, in the bench process) does not share its event loop:
 *   node bench/http-server.ts engine   the engine behind src/server/http.ts
 *   node bench/http-server.ts single   the same routes, answered by one shared weaviate-client
 * Weaviate from WEAVIATE_HOST / WEAVIATE_PORT / WEAVIATE_GRPC_PORT. Prints `listening <url>`.
 */
import weaviate from 'weaviate-client';
import { createExecutor } from '../src/engine/executor.ts';
import type { EngineStats } from '../src/engine/stats.ts';
import { silentLogger } from '../src/log.ts';
import { resolveTarget } from '../src/pool/config.ts';
import { executeSpec } from '../src/query/execute.ts';
import { validateSpec } from '../src/query/spec.ts';
import { startServer, type SearchBackend } from '../src/server/http.ts';

const kind = process.argv[2];
const workers = Number(process.argv[3] ?? 2);
const connections = Number(process.argv[4] ?? 8);
let backend: SearchBackend;
let close: () => Promise<void>;
if (kind === 'engine') {
  const executor = await createExecutor({ workers, minConnections: connections, maxConnections: connections, leakDetectionThresholdMs: 0, logger: silentLogger });
  backend = executor;
  close = () => executor.close();
} else {
  const t = resolveTarget();
  const client = await weaviate.connectToCustom({ httpHost: t.host, httpPort: t.httpPort, grpcHost: t.grpcHost, grpcPort: t.grpcPort });
  backend = {
    query: (spec, options) => executeSpec(client, validateSpec(spec), options?.signal),
    stats: async () => ({}) as EngineStats,
    connectionList: async () => [],
  };
  close = () => client.close();
}
const { app, url } = await startServer(backend, { port: 0, logLevel: 'silent' });
console.log(`listening ${url}`);
const stop = async () => {
  await app.close();
  await close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
