/**
 * Legacy mode (`VECTOR_STORE_USE_POOL=false`): one plain connection shared by every caller, no
 * pool (no growth, lifetimes or health-check evictions; grpc-js reconnects it by itself).
 * For debugging, very small setups, or a local Weaviate, as the note says. Stats say
 * `enabled: false`.
 */
import { ConfigError, ConnectError, PoolClosedError } from '../errors.ts';
import { backgroundTimer, systemClock, type Clock } from '../clock.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { PoolConfig } from './config.ts';
import { SharedLease } from './pool.ts';
import { withConnection } from './with-connection.ts';
import type { AcquireOptions, ConnectionFactory, ConnectionSource, ConnectionInfo, Lease, PoolStats, Transport } from './types.ts';

export class SingleConnection<C> implements ConnectionSource<C> {
  readonly config: Readonly<PoolConfig>;
  readonly #factory: ConnectionFactory<C>;
  readonly #clock: Clock;
  readonly #log: Logger;
  #transport: Transport<C> | undefined;
  #openedAt = 0;
  #lastUsedAt = 0;
  #leases = 0;
  #requests = 0;
  #uses = 0;
  #alive = true;
  #healthFailures = 0;
  #closed = false;
  #drained: (() => void) | undefined;
  readonly #onClose: (() => Promise<void>) | undefined;

  constructor(
    config: Readonly<PoolConfig>,
    deps: { factory: ConnectionFactory<C>; clock?: Clock; logger?: Logger; onClose?: () => Promise<void> },
  ) {
    this.config = config;
    this.#factory = deps.factory;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.logger ?? silentLogger;
    this.#onClose = deps.onClose;
  }

  async start(): Promise<this> {
    const controller = new AbortController();
    const timer = backgroundTimer(this.#clock, () => controller.abort(new Error('connect timed out')), this.config.connectTimeoutMs);
    try {
      this.#transport = await this.#factory.create(controller.signal);
    } catch (error) {
      throw new ConnectError(
        `Could not open the single connection to Weaviate at ${this.#factory.describe()} within ${this.config.connectTimeoutMs / 1000} s: ${(error as Error)?.message ?? String(error)}`,
        { target: this.#factory.describe() },
        { cause: error },
      );
    } finally {
      this.#clock.clearTimeout(timer);
    }
    this.#openedAt = this.#lastUsedAt = this.#clock.now();
    this.#log.info({ target: this.#factory.describe() }, 'Connection pool disabled (VECTOR_STORE_USE_POOL=false): using one plain connection');
    return this;
  }

  acquire(options: AcquireOptions = {}): Promise<Lease<C>> {
    this.#requests++;
    if (this.#closed || !this.#transport) return Promise.reject(new PoolClosedError('The connection is closed', {}));
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    this.#leases++;
    this.#uses++;
    this.#lastUsedAt = this.#clock.now();
    return Promise.resolve(
      new SharedLease(this.#transport.client, 1, () => {
        this.#leases--;
        this.#lastUsedAt = this.#clock.now();
        if (this.#leases === 0) this.#drained?.();
      }),
    );
  }

  withConnection<T>(fn: (client: C, lease: Lease<C>) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return withConnection((o) => this.acquire(o), fn, options);
  }

  resize(_: { min?: number; max?: number }): void {
    throw new ConfigError('resize() needs the pool; it is off (VECTOR_STORE_USE_POOL=false)', { option: 'enabled', value: false });
  }

  async checkNow(): Promise<{ checked: number; failed: number }> {
    if (!this.#transport) return { checked: 0, failed: 0 };
    const controller = new AbortController();
    const timer = backgroundTimer(this.#clock, () => controller.abort(new Error('health check timed out')), this.config.healthCheckTimeoutMs);
    try {
      await this.#transport.check(controller.signal);
      this.#alive = true;
      return { checked: 1, failed: 0 };
    } catch {
      this.#alive = false;
      this.#healthFailures++;
      return { checked: 1, failed: 1 };
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  stats(): PoolStats {
    const total = this.#transport && !this.#closed ? 1 : 0;
    const active = total && this.#leases > 0 ? 1 : 0;
    return {
      enabled: false,
      total_connections: total,
      current_active: active,
      current_idle: total - active,
      // The one connection is shared: it is always available while open.
      available_connections: total,
      active_leases: this.#leases,
      max_streams_per_connection: 0,
      total_connections_created: this.#transport ? 1 : 0,
      total_connections_closed: this.#closed && this.#transport ? 1 : 0,
      total_requests: this.#requests,
      avg_wait_time: 0,
      health_check_failures: this.#healthFailures,
      min_connections: 1,
      max_connections: 1,
      waiting: 0,
      pending_creates: 0,
      acquire_timeouts: 0,
      connect_failures: 0,
      dead_connections_detected: 0,
      lifetime_recycled: 0,
      idle_closed: 0,
      leak_warnings: 0,
      fallback_mode: 'none',
      fallback_acquires: 0,
      fallback_connection_open: false,
    };
  }

  connections(): ConnectionInfo[] {
    if (!this.#transport || this.#closed) return [];
    const now = this.#clock.now();
    return [
      {
        id: 1,
        node: this.#transport.node,
        state: this.#leases > 0 ? 'leased' : 'idle',
        age_seconds: Math.round(now - this.#openedAt) / 1000,
        seconds_since_last_use: Math.round(now - this.#lastUsedAt) / 1000,
        in_use: this.#leases > 0,
        leases: this.#leases,
        alive: this.#alive,
        uses: this.#uses,
        expires_in_seconds: 0,
      },
    ];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Stop lending, wait up to `timeoutMs` for the leases out to end (as the pool does), then close. */
  async close({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#leases > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#clock.setTimeout(resolve, timeoutMs);
        this.#drained = () => {
          this.#clock.clearTimeout(timer);
          resolve();
        };
      });
      this.#drained = undefined;
    }
    await this.#transport?.close().catch(() => {});
    await this.#onClose?.().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
