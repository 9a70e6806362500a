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
import { resolvePoolConfig, type PoolOptions } from './config.ts';
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
  const version = await fetchServerVersion(config.weaviate, config.connectTimeoutMs);
  const releaseRest = boundRestSockets(restOrigin(config.weaviate), config.restMaxSockets, config.weaviate.tls);
  const factory = new WeaviateConnectionFactory(
    config.weaviate,
    {
      keepaliveTimeMs: config.keepaliveTimeMs,
      keepaliveTimeoutMs: config.keepaliveTimeoutMs,
      queryTimeoutMs: config.queryTimeoutMs,
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
