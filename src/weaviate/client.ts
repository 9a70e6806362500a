/**
 * A weaviate-client whose gRPC traffic goes over a transport connection of its own.
 *
 * Why this exists: grpc-js shares subchannels per thread for equal target, credentials and
 * channel options, and weaviate-client 3.14 builds every channel with the same two options and
 * no hook for more. N clients in a thread therefore share ONE socket, and a pool that counts
 * clients would report connections that do not exist (../NOTES.md). It also means no
 * keepalive and no idle-timeout control.
 *
 * The extension, kept small and in this one file:
 * 1. `weaviate.client()` is called with `skipInitChecks`, which builds its `ConnectionGRPC`
 *    synchronously through the public static `ConnectionGRPC.use`. That call is wrapped for
 *    the duration of the synchronous call only, to capture the connection object (nothing else
 *    can run in between, so other clients of the process are never affected).
 * 2. The connection's `grpc` member (a plain object of search/batch/aggregate/tenants/health
 *    functions) is replaced by an equivalent built on OUR channel, created with
 *    `grpc.use_local_subchannel_pool` (a socket of its own), keepalive settings and an idle
 *    timeout that never fires (the pool owns lifetimes). The request builders are
 *    weaviate-client's own modules, loaded from its package folder, so queries behave exactly
 *    as with a stock client.
 * 3. The server version is seeded into the client's version cache, so a pooled client makes no
 *    REST call on the query path (the stock client fetches /v1/meta on first use).
 * weaviate-client is pinned to an exact version; test/integration/pool-sockets.test.ts fails if
 * a new version breaks any of this (it counts real sockets).
 */
import { revealSecret } from '../secret.ts';
import { findPackageJSON } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ChannelCredentials, Metadata, createChannel, createClientFactory, type Channel } from 'nice-grpc';
import { connectivityState } from '@grpc/grpc-js';
import weaviate, { ApiKey, ConnectionGRPC, type WeaviateClient } from 'weaviate-client';
import type { WeaviateTarget } from './target.ts';
import { recordFailures } from './failure.ts';
import { assertLeaseHeld } from '../lease-scope.ts';
import { restOrigin } from './meta.ts';
import { scopeRestFetch } from './rest-sockets.ts';
import { registerLeanPath } from '../wire/lean-path.ts';
import type { QueryPath, VectorFormat } from '../wire/options.ts';
import { grpcNameOverride } from './tls.ts';
import { closeChannel } from './channel-close.ts';
import { makeInserter, registerInserter, type InsertInternals } from './insert.ts';

/** The same cap weaviate-client uses (it must match the server's GRPC_MAX_MESSAGE_SIZE). */
const MAX_GRPC_MESSAGE_LENGTH = 104_858_000;
/** grpc-js's `grpc-node.flow_control_window` (its default is Node's 65,535 B). */
const HTTP2_WINDOW_BYTES = 16 << 20;
/** The largest timer Node accepts: the channel never goes idle on its own. */
const NEVER_MS = 2_147_483_647;

interface InternalModules {
  WeaviateDefinition: unknown;
  HealthDefinition: unknown;
  Searcher: { use: (...args: unknown[]) => unknown };
  Batcher: { use: (...args: unknown[]) => unknown };
  Aggregator: { use: (...args: unknown[]) => unknown };
  TenantsManager: { use: (...args: unknown[]) => unknown };
  getClientVersionHeader: () => Record<string, string>;
  insert: InsertInternals;
}

let internals: Promise<InternalModules> | undefined;

/** weaviate-client's request builders, from its own package folder (its exports map hides them). */
function loadInternals(): Promise<InternalModules> {
  internals ??= (async () => {
    // The package's own ESM folder (found through its package.json; its exports map hides these files).
    const packageJson = findPackageJSON('weaviate-client', import.meta.url);
    if (!packageJson) throw new Error('weaviate-client is not installed');
    const base = pathToFileURL(join(dirname(packageJson), 'dist/node/esm/index.js'));
    const load = (path: string) => import(new URL(path, base).href) as Promise<Record<string, unknown>>;
    const [weaviateProto, healthProto, searcher, batcher, aggregator, tenants, http, serialize, deserialize] = await Promise.all([
      load('./proto/v1/weaviate.js'),
      load('./proto/google/health/v1/health.js'),
      load('./grpc/searcher.js'),
      load('./grpc/batcher.js'),
      load('./grpc/aggregator.js'),
      load('./grpc/tenantsManager.js'),
      load('./connection/http.js'),
      load('./collections/serialize/index.js'),
      load('./collections/deserialize/index.js'),
    ]);
    return {
      WeaviateDefinition: weaviateProto['WeaviateDefinition'],
      HealthDefinition: healthProto['HealthDefinition'],
      Searcher: searcher['default'] as InternalModules['Searcher'],
      Batcher: batcher['default'] as InternalModules['Batcher'],
      Aggregator: aggregator['default'] as InternalModules['Aggregator'],
      TenantsManager: tenants['default'] as InternalModules['TenantsManager'],
      getClientVersionHeader: http['getClientVersionHeader'] as () => Record<string, string>,
      insert: { Serialize: serialize['Serialize'], Deserialize: deserialize['Deserialize'] } as InsertInternals,
    };
  })();
  return internals;
}

export interface ChannelSettings {
  keepaliveTimeMs: number;
  keepaliveTimeoutMs: number;
  /** weaviate-client's per-call time-outs, in ms. */
  queryTimeoutMs: number;
  insertTimeoutMs?: number;
  /** Path of the engine's read specs (src/wire/lean-path.ts). @default env VECTOR_STORE_QUERY_PATH, else 'lean' */
  queryPath?: QueryPath;
  /** Vectors of lean-path results. @default env VECTOR_STORE_VECTORS, else 'array' */
  vectors?: VectorFormat;
}

export type ChannelState = 'idle' | 'connecting' | 'ready' | 'transient_failure' | 'shutdown';

const STATE_NAMES: Record<number, ChannelState> = {
  [connectivityState.IDLE]: 'idle',
  [connectivityState.CONNECTING]: 'connecting',
  [connectivityState.READY]: 'ready',
  [connectivityState.TRANSIENT_FAILURE]: 'transient_failure',
  [connectivityState.SHUTDOWN]: 'shutdown',
};

/** A weaviate-client bound to one gRPC channel that owns one socket. */
export interface OwnChannelClient {
  client: WeaviateClient;
  channel: Channel;
  state(tryToConnect?: boolean): ChannelState;
  /** Resolve when the channel reaches READY, reject on failure or when the signal fires. */
  waitReady(signal: AbortSignal): Promise<void>;
  /** Call `onChange(newState)` on every state change until the channel shuts down. */
  watch(onChange: (state: ChannelState) => void): void;
  /** gRPC Health/Check on this channel (the path queries take), bounded by the signal. */
  health(signal: AbortSignal): Promise<boolean>;
  close(): Promise<void>;
}

export async function createOwnChannelClient(
  target: WeaviateTarget,
  settings: ChannelSettings,
  serverVersion?: string,
): Promise<OwnChannelClient> {
  const mods = await loadInternals();
  const originalUse = ConnectionGRPC.use;
  let captured: { connection: Record<string, unknown>; dbVersionProvider?: { cache(v: string): unknown } } | undefined;
  const timeout = {
    query: settings.queryTimeoutMs / 1000,
    insert: (settings.insertTimeoutMs ?? 90_000) / 1000,
    init: 10,
  };
  let clientPromise: Promise<WeaviateClient>;
  ConnectionGRPC.use = ((params: unknown) => {
    const result = (originalUse as (p: unknown) => unknown)(params);
    captured = result as typeof captured;
    return result;
  }) as typeof ConnectionGRPC.use;
  try {
    clientPromise = weaviate.client({
      connectionParams: {
        http: { host: target.host, port: target.httpPort, secure: target.secure, path: '' },
        grpc: { host: target.grpcHost, port: target.grpcPort, secure: target.secure },
      },
      ...(target.apiKey ? { auth: new ApiKey(revealSecret(target.apiKey)!) } : {}),
      headers: { ...target.headers },
      timeout,
      skipInitChecks: true,
    });
  } finally {
    ConnectionGRPC.use = originalUse;
  }
  const client = await clientPromise;
  if (!captured || typeof captured.connection !== 'object' || !('grpc' in captured.connection)) {
    await client.close();
    throw new Error(
      'weaviate-client did not build its connection through ConnectionGRPC.use synchronously; ' +
        'this version of weaviate-client is not supported by the pool (see src/weaviate/client.ts)',
    );
  }
  const connection = captured.connection;
  (connection['grpc'] as { close(): void }).close(); // the stock channel never connected
  // REST through this thread's bounded socket pool, not the host's global fetch (rest-sockets.ts).
  scopeRestFetch(connection, restOrigin(target));

  const channel = createChannel(
    `${target.grpcHost}:${target.grpcPort}`,
    // A CA from config replaces grpc-js's default roots (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH or the
    // bundled ones) for this channel only; cert + key present a client certificate (mutual TLS).
    target.secure
      ? ChannelCredentials.createSsl(
          target.tls?.ca !== undefined ? Buffer.from(target.tls.ca) : null,
          target.tls?.key !== undefined ? Buffer.from(revealSecret(target.tls.key)!) : null,
          target.tls?.cert !== undefined ? Buffer.from(target.tls.cert) : null,
        )
      : ChannelCredentials.createInsecure(),
    {
      ...grpcNameOverride(target.tls),
      'grpc.max_send_message_length': MAX_GRPC_MESSAGE_LENGTH,
      'grpc.max_receive_message_length': MAX_GRPC_MESSAGE_LENGTH,
      // The point of it all: a subchannel (and so a socket) that belongs to this channel only.
      'grpc.use_local_subchannel_pool': 1,
      'grpc.keepalive_time_ms': settings.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': settings.keepaliveTimeoutMs,
      // Pings only while calls are in flight: Weaviate's grpc-go server (default enforcement
      // policy: MinTime 5 min, PermitWithoutStream false) answers idle pings with GOAWAY.
      // Idle connections are proven by the pool's health checks instead.
      'grpc.keepalive_permit_without_calls': 0,
      'grpc.client_idle_timeout_ms': NEVER_MS,
      // HTTP/2 stream and connection windows of 16 MiB instead of 64 KiB: a large reply (limit
      // 100 with vectors, ~94 KB) otherwise waits for WINDOW_UPDATE round trips (bench/RESULTS.md).
      'grpc-node.flow_control_window': HTTP2_WINDOW_BYTES,
    },
  );
  // No retry middleware: weaviate-client's own (5 attempts on UNAVAILABLE, each a console.warn)
  // would hide a dead socket from the pool and outlive the caller's deadline.
  // `recordFailures` sees each call's status code before weaviate-client rewraps the error
  // without it (src/weaviate/failure.ts): the pool and the task runner classify by it.
  const factory = createClientFactory().use(recordFailures);
  const rpc = factory.create(mods.WeaviateDefinition as never, channel);
  const healthRpc = factory.create(mods.HealthDefinition as never, channel) as unknown as {
    check(req: { service: string }, opts: { signal: AbortSignal }): Promise<{ status: number }>;
  };
  const versionHeader = mods.getClientVersionHeader();
  const metadata = (bearer?: string) =>
    new Metadata({ ...(bearer ? { ...target.headers, authorization: bearer } : target.headers), ...versionHeader });
  const query = timeout.query;
  connection['grpc'] = {
    aggregate: (collection: string, cl: unknown, tenant: unknown, bearer?: string) =>
      (assertLeaseHeld(), mods.Aggregator.use(rpc, collection, metadata(bearer), query, cl, tenant)),
    batch: (collection: string, cl: unknown, tenant: unknown, bearer?: string) =>
      (assertLeaseHeld(), mods.Batcher.use(rpc, collection, metadata(bearer), timeout.insert, cl, tenant)),
    search: (collection: string, cl: unknown, tenant: unknown, bearer?: string, abortSignal?: AbortSignal) =>
      (assertLeaseHeld(), mods.Searcher.use(rpc, collection, metadata(bearer), query, cl, tenant, abortSignal)),
    tenants: (collection: string, bearer?: string) =>
      (assertLeaseHeld(), mods.TenantsManager.use(rpc, collection, new Metadata(bearer ? { ...target.headers, authorization: bearer } : target.headers), query)),
    health: () => health(AbortSignal.timeout(settings.queryTimeoutMs)),
    close: () => closeChannel(channel),
  };
  // `reconnect()` would rebuild the stock channel behind our back; the pool replaces whole connections instead.
  connection['reconnect'] = () => Promise.reject(new Error('pooled connections are replaced by the pool, not reconnected'));
  if (serverVersion) captured.dbVersionProvider?.cache(serverVersion);
  // insertMany without weaviate-client's 500 ms serialization poll (src/weaviate/insert.ts).
  const versions = captured.dbVersionProvider as { getVersion?: () => Promise<unknown> } | undefined;
  if (typeof versions?.getVersion === 'function') {
    registerInserter(client, makeInserter(mods.insert, connection as never, () => versions.getVersion!() as never));
  }

  const bearer = target.apiKey ? `Bearer ${revealSecret(target.apiKey)}` : undefined;
  // The lean query path (src/wire/lean-path.ts) sends the engine's own read specs on this same channel.
  const leanHeaders = { ...(bearer ? { ...target.headers, authorization: bearer } : target.headers), ...versionHeader };
  await registerLeanPath(
    client,
    { channel, headers: leanHeaders, queryTimeoutMs: settings.queryTimeoutMs, ...(settings.vectors ? { vectorFormat: settings.vectors } : {}) },
    serverVersion,
    settings.queryPath,
  );
  async function health(signal: AbortSignal): Promise<boolean> {
    const res = await healthRpc.check({ service: '/grpc.health.v1.Health/Check' }, { signal, metadata: metadata(bearer) } as never);
    return res.status === 1; // SERVING
  }

  const state = (tryToConnect = false) => STATE_NAMES[channel.getConnectivityState(tryToConnect)] ?? 'shutdown';

  return {
    client,
    channel,
    state,
    health,
    waitReady(signal) {
      return new Promise<void>((resolve, reject) => {
        // Rejects at once when the signal fires (the pool's close() aborts opens and awaits them).
        const onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        const step = () => {
          if (signal.aborted) return reject(signal.reason);
          const current = channel.getConnectivityState(true);
          if (current === connectivityState.READY) {
            signal.removeEventListener('abort', onAbort);
            return resolve();
          }
          if (current === connectivityState.SHUTDOWN) return reject(new Error('channel shut down'));
          // A bounded watch (1 s) re-checks the abort signal even if the state never changes.
          try {
            channel.watchConnectivityState(current, Date.now() + 1000, () => step());
          } catch (error) {
            reject(error as Error);
          }
        };
        step();
      });
    },
    watch(onChange) {
      let current = channel.getConnectivityState(false);
      const loop = () => {
        if (current === connectivityState.SHUTDOWN) return;
        try {
          channel.watchConnectivityState(current, Infinity, (error) => {
            if (error) return;
            current = channel.getConnectivityState(false);
            onChange(STATE_NAMES[current] ?? 'shutdown');
            loop();
          });
        } catch {
          onChange('shutdown'); // closed between the state read and the watch
        }
      };
      loop();
    },
    async close() {
      // client.close() closes our channel (connection.grpc.close) and the client's REST agent.
      await client.close();
    },
  };
}
