import type { PoolConfig } from './config.ts';

/**
 * The pool's view of a connection, and the shapes it reports. The pool knows nothing of gRPC:
 * a factory opens transports (src/pool/weaviate-factory.ts opens real Weaviate ones; unit
 * tests use a scripted one), and the pool decides when to open, lend, check and close them.
 */

export interface Transport<C> {
  /** What a lease hands out (a weaviate-client for real connections). */
  readonly client: C;
  /** Which server node this transport talks to ("127.0.0.1:50051"). */
  readonly node: string;
  /** Prove the connection works (a real round trip). Rejects when it does not, or when the signal fires. */
  check(signal: AbortSignal): Promise<void>;
  /** Called once when the underlying socket is lost (the server went away, a reset, a GOAWAY). */
  onDisconnect(callback: (reason: string) => void): void;
  close(): Promise<void>;
}

export interface ConnectionFactory<C> {
  /** Open one connection; resolve once it is established and answered a round trip. */
  create(signal: AbortSignal): Promise<Transport<C>>;
  /** Where connections go, for messages ("http://127.0.0.1:8080, gRPC 127.0.0.1:50051"). */
  describe(): string;
}

export interface AcquireOptions {
  /** Bound of the wait; default the pool's `acquireTimeoutMs`. */
  timeoutMs?: number;
  /** Give up waiting when this fires (AbortError). */
  signal?: AbortSignal;
}

/** The note's stats JSON (same keys, same meaning; `avg_wait_time` in seconds), plus extras. */
export interface PoolStats {
  enabled: boolean;
  /** Open connections (active + idle); each is one established socket to Weaviate. */
  total_connections: number;
  /** Connections lent out now. */
  current_active: number;
  /** Open connections not lent out. */
  current_idle: number;
  /** Connections that can take another lease without waiting (= idle when maxStreamsPerConnection is 1). */
  available_connections: number;
  /** Leases out now (requests using a connection); at most total_connections x max_streams_per_connection. */
  active_leases: number;
  max_streams_per_connection: number;
  total_connections_created: number;
  total_connections_closed: number;
  /** acquire() calls, whatever their outcome. */
  total_requests: number;
  /** Mean wait of successful acquires, in seconds. */
  avg_wait_time: number;
  health_check_failures: number;
  min_connections: number;
  max_connections: number;
  /** Callers waiting for a connection now. */
  waiting: number;
  /** Connections being opened now. */
  pending_creates: number;
  acquire_timeouts: number;
  connect_failures: number;
  dead_connections_detected: number;
  /** Connections closed because they reached their lifetime. */
  lifetime_recycled: number;
  /** Connections closed because they sat idle above min for idleTimeoutMs. */
  idle_closed: number;
  leak_warnings: number;
  /** `'none'` or `'single-connection'`; `fallback_acquires` counts callers it served. */
  fallback_mode: string;
  fallback_acquires: number;
  /** The fallback's own socket, when open (not counted in total_connections). */
  fallback_connection_open: boolean;
  /** Several nodes (`weaviate.nodes`): each node's health, load and own pool figures (src/cluster/multi-pool.ts). */
  nodes?: import('../cluster/multi-pool.ts').NodeStats[];
  /** Several nodes: this thread's hedged reads (src/cluster/hedge.ts). */
  hedging?: import('../cluster/hedge.ts').HedgeStats;
  /** Several nodes with `nodeAdaptive`: callers that found every node at its limit (this worker). */
  node_limit?: import('../cluster/multi-pool.ts').NodeLimitStats;
}

/**
 * Where a connection is in its life (src/pool/pool.ts has the transitions). Only `idle`, and
 * `leased` below the stream limit, are lent; `retiring` ones are still open (counted) and close
 * when their last lease ends.
 */
export type ConnectionState = 'opening' | 'idle' | 'leased' | 'validating' | 'retiring' | 'closing' | 'closed';

export interface ConnectionInfo {
  id: number;
  node: string;
  state: ConnectionState;
  age_seconds: number;
  seconds_since_last_use: number;
  in_use: boolean;
  /** Leases it carries now (up to maxStreamsPerConnection). */
  leases: number;
  alive: boolean;
  /** How many leases it served. */
  uses: number;
  /** Seconds until its lifetime ends (it is then recycled; never under a caller). */
  expires_in_seconds: number;
}

/** What both the pool and the legacy single connection offer. */
export interface ConnectionSource<C> extends AsyncDisposable {
  readonly config: Readonly<PoolConfig>;
  acquire(options?: AcquireOptions): Promise<Lease<C>>;
  withConnection<T>(fn: (client: C, lease: Lease<C>) => Promise<T> | T, options?: AcquireOptions): Promise<T>;
  stats(): PoolStats;
  connections(): ConnectionInfo[];
  /** Change min/max at run time (the pool only; legacy mode throws ConfigError). */
  resize(sizes: { min?: number; max?: number }): void;
  /** Health-check open connections (idle or leased) now. */
  checkNow(): Promise<{ checked: number; failed: number }>;
  readonly closed: boolean;
  /** Stop lending and close every connection; waits up to `timeoutMs` for leases to come back. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

export interface Lease<C> extends AsyncDisposable, Disposable {
  /** The leased client. Throws ConnectionReleasedError after release. */
  readonly client: C;
  readonly connectionId: number;
  /** Give the connection back. Idempotent. */
  release(): void;
  /** Give it back as broken (it is closed and replaced, never lent again). Idempotent. */
  destroy(reason?: string): void;
}
