/**
 * Real Weaviate connections for the pool: each one a weaviate-client on a gRPC channel with a
 * socket of its own (src/weaviate/client.ts). A connection counts as open once its socket is
 * established (channel READY) and a gRPC health check answered SERVING; it counts as dead the
 * moment the channel leaves READY (socket lost, GOAWAY, keepalive timeout).
 */
import type { WeaviateClient } from 'weaviate-client';
import { createOwnChannelClient, type ChannelSettings } from '../weaviate/client.ts';
import type { WeaviateTarget } from '../weaviate/target.ts';
import type { ConnectionFactory, Transport } from './types.ts';

export class WeaviateConnectionFactory implements ConnectionFactory<WeaviateClient> {
  readonly target: Readonly<WeaviateTarget>;
  readonly settings: ChannelSettings;
  /** Seeded into each client so that no client fetches /v1/meta on its first query. */
  serverVersion: string | undefined;

  constructor(target: Readonly<WeaviateTarget>, settings: ChannelSettings, serverVersion?: string) {
    this.target = target;
    this.settings = settings;
    this.serverVersion = serverVersion;
  }

  describe(): string {
    const t = this.target;
    return `${t.secure ? 'https' : 'http'}://${t.host}:${t.httpPort} (gRPC ${t.grpcHost}:${t.grpcPort})`;
  }

  async create(signal: AbortSignal): Promise<Transport<WeaviateClient>> {
    const own = await createOwnChannelClient(this.target, this.settings, this.serverVersion);
    try {
      await own.waitReady(signal);
      if (!(await own.health(signal))) throw new Error('gRPC health check answered NOT_SERVING');
    } catch (error) {
      await own.close().catch(() => {});
      throw signal.aborted && signal.reason instanceof Error ? signal.reason : error;
    }
    let onLost: ((reason: string) => void) | undefined;
    let lost: string | undefined;
    own.watch((state) => {
      if (state === 'ready' || lost !== undefined) return;
      lost = state === 'shutdown' ? 'channel shut down' : `socket lost (channel ${state.toUpperCase()})`;
      onLost?.(lost);
    });
    return {
      client: own.client,
      node: `${this.target.grpcHost}:${this.target.grpcPort}`,
      async check(checkSignal) {
        const state = own.state();
        if (state !== 'ready') throw new Error(`channel is ${state.toUpperCase()}, not READY`);
        if (!(await own.health(checkSignal))) throw new Error('gRPC health check answered NOT_SERVING');
      },
      onDisconnect(callback) {
        onLost = callback;
        if (lost !== undefined) callback(lost);
      },
      close: () => own.close(),
    };
  }
}
