/**
 * The contenders, each answering the same query specs on the same data:
 *   connect-per-request  a new weaviate-client for every query (the note's "bad example")
 *   single-client        one shared weaviate-client on the main thread (what most services do)
 *   pool-main            the pool on the caller's thread, no workers
 *   engine-<w>w-<c>c     the engine with w worker threads and c connections, lanes on
 * Every contender runs a spec through the same code (executeSpec), so the work per query is
 * identical; what differs is where it runs and how it is scheduled.
 */
import { revealSecret } from '../src/secret.ts';
import weaviate, { type WeaviateClient } from 'weaviate-client';
import { createExecutor, type Executor } from '../src/engine/executor.ts';
import { silentLogger } from '../src/log.ts';
import type { LaneOptions } from '../src/engine/lanes.ts';
import type { EngineStats } from '../src/engine/stats.ts';
import type { LaneStats } from '../src/engine/scheduler.ts';
import type { PoolOptions, WeaviateTarget } from '../src/pool/config.ts';
import type { ExecutorOptions } from '../src/engine/config.ts';
import { createPool, type WeaviatePool } from '../src/pool/create.ts';
import { executeSpec } from '../src/query/execute.ts';
import type { QuerySpec } from '../src/query/spec.ts';
import { createOwnChannelClient } from '../src/weaviate/client.ts';

export type Lane = 'critical' | 'normal';

export interface Contender {
  id: string;
  label: string;
  start(): Promise<void>;
  query(spec: QuerySpec, lane: Lane): Promise<unknown>;
  stop(): Promise<void>;
  /** The engine's stats snapshot (engine contenders only), e.g. to report where an adaptive limit settled. */
  stats?(): Promise<EngineStats>;
  /** The lanes alone (main thread, no worker round trip): cheap enough to sample every 100 ms. */
  laneStats?(): Record<string, LaneStats>;
}

/** The time-out a service would put on a query: the same for every contender. */
export const REQUEST_TIMEOUT_MS = 10_000;

function connect(target: Readonly<WeaviateTarget>): Promise<WeaviateClient> {
  return weaviate.connectToCustom({
    httpHost: target.host,
    httpPort: target.httpPort,
    grpcHost: target.grpcHost,
    grpcPort: target.grpcPort,
    ...(target.apiKey ? { authCredentials: new weaviate.ApiKey(revealSecret(target.apiKey)!) } : {}),
  });
}

export function connectPerRequest(target: Readonly<WeaviateTarget>): Contender {
  return {
    id: 'connect-per-request',
    label: 'new client per query',
    async start() {},
    async query(spec) {
      const client = await connect(target);
      try {
        return await executeSpec(client, spec, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
      } finally {
        await client.close();
      }
    },
    async stop() {},
  };
}

/**
 * A new client AND a new socket per query: grpc-js shares sockets between clients of a thread,
 * so the stock "new client per query" above reuses one socket; this one pays the TCP and HTTP/2
 * handshakes as a client in another runtime would (and fetches /v1/meta on first use).
 */
export function connectPerRequestSocket(
  target: Readonly<WeaviateTarget>,
  o: { id?: string; label?: string; version?: string } = {},
): Contender {
  return {
    id: o.id ?? 'connect-per-request-socket',
    label: o.label ?? 'new client and socket per query',
    async start() {},
    async query(spec) {
      const own = await createOwnChannelClient(target, { keepaliveTimeMs: 300_000, keepaliveTimeoutMs: 20_000, queryTimeoutMs: REQUEST_TIMEOUT_MS }, o.version);
      try {
        await own.waitReady(AbortSignal.timeout(REQUEST_TIMEOUT_MS));
        return await executeSpec(own.client, spec, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
      } finally {
        await own.close();
      }
    },
    async stop() {},
  };
}

export function singleClient(target: Readonly<WeaviateTarget>): Contender {
  let client: WeaviateClient | undefined;
  return {
    id: 'single-client',
    label: 'one shared weaviate-client',
    async start() {
      client = await connect(target);
    },
    query(spec) {
      return executeSpec(client!, spec, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    },
    async stop() {
      await client?.close();
    },
  };
}

export function poolMain(target: Readonly<WeaviateTarget>, connections: number, options: Partial<PoolOptions> = {}): Contender {
  let pool: WeaviatePool | undefined;
  return {
    id: `pool-main-${connections}c`,
    label: `pool on the caller's thread, ${connections} connections`,
    async start() {
      pool = await createPool(
        { weaviate: { ...target }, minConnections: connections, maxConnections: connections, leakDetectionThresholdMs: 0, logger: silentLogger, ...options },
        {},
      );
    },
    query(spec) {
      return pool!.withConnection((client) => executeSpec(client, spec, AbortSignal.timeout(REQUEST_TIMEOUT_MS)), { timeoutMs: REQUEST_TIMEOUT_MS });
    },
    async stop() {
      await pool?.close();
    },
  };
}

export interface EngineSetting {
  workers: number;
  connections: number;
  /** Suffix of the contender id for non-default lanes ('protective'). */
  tag?: string;
  /** More executor options (query path, vectors, reply hand-off: bench/lean-contenders.ts). */
  options?: Partial<ExecutorOptions>;
  lanes?: Record<string, { weight?: number; reserved?: number; maxQueue?: number; maxConcurrency?: number; adaptive?: LaneOptions['adaptive'] }>;
}

export function engine(target: Readonly<WeaviateTarget>, s: EngineSetting): Contender {
  let executor: Executor | undefined;
  return {
    id: `engine-${s.workers}w-${s.connections}c${s.tag ? `-${s.tag}` : ''}`,
    label: `engine, ${s.workers} worker(s), ${s.connections} connections${s.lanes ? `, lanes ${JSON.stringify(s.lanes)}` : ''}`,
    async start() {
      executor = await createExecutor(
        {
          weaviate: { ...target },
          workers: s.workers,
          minConnections: s.connections,
          maxConnections: s.connections,
          defaultDeadlineMs: REQUEST_TIMEOUT_MS,
          leakDetectionThresholdMs: 0,
          ...(s.lanes ? { lanes: s.lanes } : {}),
          ...s.options,
          logger: silentLogger,
        },
        {},
      );
    },
    query(spec, lane) {
      return executor!.query(spec, { lane });
    },
    stats() {
      return executor!.stats();
    },
    laneStats() {
      return executor!.laneStats();
    },
    async stop() {
      await executor?.close();
    },
  };
}
