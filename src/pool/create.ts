/**
 * `createPool()`: the note's pool against a real Weaviate, from env variables or options.
 * Validates the configuration once, proves Weaviate is reachable (bounded), bounds REST sockets,
 * then opens `min` connections (or the one legacy connection when the pool is off).
 */
import type { WeaviateClient } from 'weaviate-client';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { fetchServerVersion } from '../weaviate/meta.ts';
import { restOrigin } from '../weaviate/target.ts';
import { boundRestSockets } from '../weaviate/rest-sockets.ts';
import { resolvePoolConfig, type PoolConfig, type PoolOptions, type WeaviateTarget } from './config.ts';
import { MultiNodePool } from '../cluster/multi-pool.ts';
import { ConnectionPool } from './pool.ts';
import { SingleConnection } from './single.ts';
import type { ConnectionSource } from './types.ts';
import { WeaviateConnectionFactory } from './weaviate-factory.ts';

export interface CreatePoolOptions extends PoolOptions {
  logger?: Logger;
  clock?: Clock;
}

export type WeaviatePool = ConnectionSource<WeaviateClient>;

export async function createPool(
  options: CreatePoolOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<WeaviatePool> {
  const { logger, clock, ...poolOptions } = options;
  const config = resolvePoolConfig(poolOptions, env);
  const nodes = config.weaviate.nodes;
  if (config.enabled && nodes && nodes.length > 1) {
    // Several nodes: one pool per node (each with the full min/max), behind one ConnectionSource.
    const openNode = (i: number) => {
      const n = nodes[i]!;
      const target: WeaviateTarget = { ...config.weaviate, host: n.host, httpPort: n.httpPort, grpcHost: n.host, grpcPort: n.grpcPort, nodes: undefined };
      return openPool({ ...config, weaviate: Object.freeze(target) }, logger, clock) as Promise<ConnectionPool<WeaviateClient>>;
    };
    return new MultiNodePool(config, { nodes, openNode, ...(clock ? { clock } : {}), ...(logger ? { logger } : {}) }).start();
  }
  return openPool(config, logger, clock);
}

/** One node: prove it reachable (bounded GET /v1/meta), bound its REST sockets, open min connections. */
async function openPool(config: Readonly<PoolConfig>, logger: Logger | undefined, clock: Clock | undefined): Promise<WeaviatePool> {
  const version = await fetchServerVersion(config.weaviate, config.connectTimeoutMs);
  const releaseRest = boundRestSockets(restOrigin(config.weaviate), config.restMaxSockets, config.weaviate.tls);
  const factory = new WeaviateConnectionFactory(
    config.weaviate,
    {
      keepaliveTimeMs: config.keepaliveTimeMs,
      keepaliveTimeoutMs: config.keepaliveTimeoutMs,
      queryTimeoutMs: config.queryTimeoutMs,
      queryPath: config.queryPath,
      vectors: config.vectors,
    },
    version,
  );
  // Closing the pool also lifts its REST bound.
  const deps = { factory, onClose: releaseRest, ...(clock ? { clock } : {}), ...(logger ? { logger } : {}) };
  try {
    return config.enabled ? await new ConnectionPool(config, deps).start() : await new SingleConnection(config, deps).start();
  } catch (error) {
    await releaseRest();
    throw error;
  }
}
