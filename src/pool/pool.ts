/**
 * The note's connection pool: `min` connections opened at start, an idle one lent per request
 * and taken back after use, growth on demand up to `max` (never above), lifetime recycling with
 * jitter (never under a caller), periodic health checks, dead connections evicted and re-created
 * with capped jittered backoff, leak warnings, FIFO waiters with a time-out, runtime resize, and
 * idle connections above min closed after `idleTimeoutMs`.
 *
 * A connection carries up to `maxStreamsPerConnection` leases at once (gRPC multiplexes calls
 * over one HTTP/2 socket); with 1 it is the note's exclusive lending. Connections with spare
 * capacity are lent most-recently-used first (LIFO, as HikariCP's bag prefers): streams pack
 * onto the hot connections, the rest go idle long enough to be closed, so a pool that grew for a
 * burst shrinks back to min. (Round-robin lending would keep every socket "in use".)
 *
 * Invariants (checked by test/unit/pool.random.test.ts under random faults):
 * - a connection never carries more than maxStreamsPerConnection leases;
 * - active + idle = total <= max (after a shrink, excess connections are retired as they come back);
 * - created - closed = total;
 * - waiters are served in arrival order; a waiter that gives up leaves no trace.
 */
import { AbortError, ConnectError, ConnectionReleasedError, PoolClosedError, TimeoutError, WaitQueueFullError } from '../errors.ts';
import { raceAbort } from '../abort.ts';
import { backgroundTimer, systemClock, type Clock, type TimerHandle } from '../clock.ts';
import { silentLogger, type Logger } from '../log.ts';
import { Backoff } from './backoff.ts';
import type { PoolConfig } from './config.ts';
import { withConnection } from './with-connection.ts';
import type { AcquireOptions, ConnectionFactory, ConnectionInfo, ConnectionSource, Lease, PoolStats, Transport } from './types.ts';

export interface PoolDeps<C> {
  factory: ConnectionFactory<C>;
  clock?: Clock;
  logger?: Logger;
  /** Opens the opt-in fallback connection (`fallback: 'single-connection'`); default: the factory. */
  fallbackFactory?: ConnectionFactory<C>;
  /** Runs once at the end of close() (e.g. lifting the REST socket bound). */
  onClose?: () => Promise<void>;
}

class PooledConnection<C> {
  readonly id: number;
  readonly transport: Transport<C>;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Leases it carries now. */
  leases = 0;
  /** Being health-checked after a transport-looking failure: lent to nobody meanwhile. */
  validating = false;
  alive = true;
  expired = false;
  uses = 0;
  lastUsedAt: number;
  checking = false;
  expiryTimer: TimerHandle | undefined;

  constructor(id: number, transport: Transport<C>, now: number, lifetimeMs: number) {
    this.id = id;
    this.transport = transport;
    this.createdAt = now;
    this.lastUsedAt = now;
    this.expiresAt = now + lifetimeMs;
  }
}

interface Waiter<C> {
  resolve(lease: Lease<C>): void;
  reject(error: Error): void;
  enqueuedAt: number;
  timer: TimerHandle | undefined;
  cleanup(): void;
}

export class ConnectionPool<C> implements ConnectionSource<C> {
  readonly config: Readonly<PoolConfig>;
  #min: number;
  #max: number;
  readonly #factory: ConnectionFactory<C>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #onClose: (() => Promise<void>) | undefined;

  readonly #connections = new Map<number, PooledConnection<C>>();
  /**
   * Connections that can take another lease, least recently used first: lent from the end
   * (LIFO), idle ones evicted from the front. Exactly the lendable connections (see #lendable).
   */
  #available: PooledConnection<C>[] = [];
  readonly #streams: number;
  #waiters: Waiter<C>[] = [];
  #pending = 0;
  #nextId = 1;
  #closed = false;
  #started = false;
  #fillTimer: TimerHandle | undefined;
  #healthTimer: TimerHandle | undefined;
  #idleTimer: TimerHandle | undefined;
  #activeLeases = new Set<LeaseImpl<C>>();
  #releasedWhileClosing: (() => void) | undefined;

  // Fallback (opt-in): one plain connection outside the pool for callers that timed out.
  readonly #fallbackFactory: ConnectionFactory<C>;
  #fallback: Promise<Transport<C>> | undefined;
  #fallbackOpen = false;

  // Counters for stats().
  #created = 0;
  #closedCount = 0;
  #requests = 0;
  #waitSumMs = 0;
  #served = 0;
  #healthFailures = 0;
  #timeouts = 0;
  #connectFailures = 0;
  #deadDetected = 0;
  #recycled = 0;
  #idleClosed = 0;
  #leakWarnings = 0;
  #fallbackAcquires = 0;
  #lastConnectError: unknown;

  constructor(config: Readonly<PoolConfig>, deps: PoolDeps<C>) {
    this.config = config;
    this.#min = config.minConnections;
    this.#max = config.maxConnections;
    this.#streams = config.maxStreamsPerConnection;
    this.#factory = deps.factory;
    this.#fallbackFactory = deps.fallbackFactory ?? deps.factory;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.logger ?? silentLogger;
    this.#backoff = new Backoff(config.reconnectBaseMs, config.reconnectMaxMs, () => this.#clock.random());
    this.#onClose = deps.onClose;
  }

  /**
   * Warm-up: open `min` connections, failing fast (ConnectError-like, from the factory) when
   * Weaviate cannot be reached within `connectTimeoutMs`. Starts the health checks.
   */
  async start(): Promise<this> {
    if (this.#started) return this;
    this.#started = true;
    const opened = await Promise.allSettled(Array.from({ length: this.#min }, () => this.#open()));
    const failure = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      for (const r of opened) if (r.status === 'fulfilled') this.#available.push(r.value);
      await this.close();
      const cause = failure.reason as Error;
      throw new ConnectError(
        `Could not open ${this.#min} connection(s) to Weaviate at ${this.#factory.describe()} within ${this.config.connectTimeoutMs / 1000} s: ${cause?.message ?? String(cause)}`,
        { target: this.#factory.describe(), connectTimeoutMs: this.config.connectTimeoutMs },
        { cause },
      );
    }
    for (const r of opened) if (r.status === 'fulfilled') this.#settle(r.value);
    this.#scheduleHealthCheck();
    this.#scheduleIdleSweep();
    return this;
  }

  // ---- acquire / release -------------------------------------------------------------------

  acquire(options: AcquireOptions = {}): Promise<Lease<C>> {
    this.#requests++;
    if (this.#closed) return Promise.reject(this.#closedError());
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    const enqueuedAt = this.#clock.now();
    if (this.#waiters.length === 0) {
      const conn = this.#hottest();
      if (conn) return Promise.resolve(this.#lend(conn, enqueuedAt));
    }
    if (this.#waiters.length >= this.config.maxWaiters) {
      return Promise.reject(
        new WaitQueueFullError(
          `Too many callers waiting for a connection (${this.#waiters.length}, maxWaiters ${this.config.maxWaiters})`,
          this.#counts(),
        ),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.config.acquireTimeoutMs;
    return new Promise<Lease<C>>((resolve, reject) => {
      const signal = options.signal;
      const onAbort = () => {
        if (this.#removeWaiter(waiter)) reject(abortError(signal!));
      };
      const waiter: Waiter<C> = {
        resolve,
        reject,
        enqueuedAt,
        timer: undefined,
        cleanup: () => {
          this.#clock.clearTimeout(waiter.timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      // Not a background timer: a caller waits for it.
      waiter.timer = this.#clock.setTimeout(() => {
        if (!this.#removeWaiter(waiter)) return;
        this.#timeouts++;
        if (this.config.fallback === 'single-connection') {
          this.#serveFromFallback(waiter.enqueuedAt, timeoutMs).then(resolve, reject);
          return;
        }
        reject(this.#timeoutError(timeoutMs));
      }, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
      this.#fill();
    });
  }

  withConnection<T>(fn: (client: C, lease: Lease<C>) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return withConnection((o) => this.acquire(o), fn, options);
  }

  /** Change min and/or max at run time. In-flight leases are never interrupted. */
  resize({ min, max }: { min?: number; max?: number }): void {
    const newMin = min ?? this.#min;
    const newMax = max ?? this.#max;
    if (!Number.isInteger(newMin) || newMin < 0 || !Number.isInteger(newMax) || newMax < 1 || newMin > newMax) {
      throw new RangeError(`Expected 0 <= min <= max and max >= 1 (integers), got min ${newMin}, max ${newMax}`);
    }
    this.#min = newMin;
    this.#max = newMax;
    // Shrinking: idle connections above max go now (coldest first); busy ones as they come back.
    for (const conn of [...this.#available]) {
      if (this.#connections.size <= this.#max) break;
      if (conn.leases === 0) this.#retire(conn, 'pool shrunk');
    }
    this.#fill();
  }

  #lendable(conn: PooledConnection<C>): boolean {
    return conn.alive && !conn.expired && !conn.validating && conn.leases < this.#streams && this.#connections.get(conn.id) === conn;
  }

  /** Put a connection where it belongs after any change: the end of #available if lendable, else nowhere. */
  #place(conn: PooledConnection<C>): void {
    const i = this.#available.indexOf(conn);
    if (i !== -1) this.#available.splice(i, 1);
    if (this.#lendable(conn)) this.#available.push(conn);
  }

  /** The most recently used connection that can take another lease. */
  #hottest(): PooledConnection<C> | undefined {
    return this.#available[this.#available.length - 1];
  }

  #lend(conn: PooledConnection<C>, enqueuedAt: number): Lease<C> {
    const now = this.#clock.now();
    conn.leases++;
    this.#place(conn);
    conn.uses++;
    conn.lastUsedAt = now;
    this.#served++;
    this.#waitSumMs += now - enqueuedAt;
    const lease = new LeaseImpl(this, conn);
    this.#activeLeases.add(lease);
    if (this.config.leakDetectionThresholdMs > 0) {
      // V8 captures frames cheaply here and formats them only if `.stack` is read (when it fires).
      const acquiredAt = new Error('acquired here');
      lease.leakTimer = backgroundTimer(
        this.#clock,
        () => {
          this.#leakWarnings++;
          const where = acquiredAt.stack?.split('\n').slice(2, 8).join('\n') ?? '';
          this.#log.warn(
            { connection: conn.id, heldMs: Math.round(this.#clock.now() - now), acquiredAt: where },
            `Connection ${conn.id} held for more than ${this.config.leakDetectionThresholdMs / 1000} s (possible leak); acquired at:\n${where}`,
          );
        },
        this.config.leakDetectionThresholdMs,
      );
    }
    return lease;
  }

  /** @internal Called by a lease, once. */
  giveBack(lease: LeaseImpl<C>, broken: string | undefined): void {
    this.#activeLeases.delete(lease);
    this.#clock.clearTimeout(lease.leakTimer);
    const conn = lease.conn;
    conn.leases--;
    conn.lastUsedAt = this.#clock.now();
    if (broken !== undefined && conn.alive) {
      conn.alive = false;
      this.#log.warn({ connection: conn.id, reason: broken }, `Connection ${conn.id} destroyed by its user: ${broken}`);
    }
    if (this.#connections.get(conn.id) !== conn) {
      // Already retired (pool closed while it was out): nothing to do.
    } else if (lease.suspect && conn.alive && !conn.expired && !conn.validating) {
      this.#validate(conn);
    } else {
      this.#settle(conn);
    }
    if (this.#closed && this.#activeLeases.size === 0) this.#releasedWhileClosing?.();
    this.#fill();
  }

  /**
   * After a connection changed: retire it if it is finished (dead, expired, pool closed, above
   * max) and nobody holds it; otherwise hand its spare capacity to waiters, or make it available.
   */
  #settle(conn: PooledConnection<C>): void {
    if (this.#connections.get(conn.id) !== conn) return;
    if (conn.leases === 0 && !conn.validating) {
      if (this.#closed) return this.#retire(conn, 'pool closed');
      if (!conn.alive) return this.#retire(conn, 'dead');
      if (conn.expired) return this.#retire(conn, 'lifetime reached');
      if (this.#connections.size > this.#max) return this.#retire(conn, 'pool shrunk');
    }
    while (this.#waiters.length > 0 && this.#lendable(conn)) {
      const waiter = this.#waiters.shift()!;
      waiter.cleanup();
      waiter.resolve(this.#lend(conn, waiter.enqueuedAt));
    }
    this.#place(conn);
  }

  /** A connection that came back from a transport-looking failure is checked before reuse. */
  #validate(conn: PooledConnection<C>): void {
    conn.validating = true;
    this.#place(conn);
    const done = () => {
      conn.validating = false;
      this.#settle(conn);
      this.#fill();
    };
    this.#check(conn).then(done, done);
  }

  #removeWaiter(waiter: Waiter<C>): boolean {
    const i = this.#waiters.indexOf(waiter);
    if (i === -1) return false;
    this.#waiters.splice(i, 1);
    waiter.cleanup();
    return true;
  }

  // ---- opening and closing connections ------------------------------------------------------

  /** Open one connection (bounded by connectTimeoutMs). Resolves with it registered but not offered. */
  async #open(): Promise<PooledConnection<C>> {
    this.#pending++;
    const controller = new AbortController();
    const timer = backgroundTimer(
      this.#clock,
      () => controller.abort(new Error(`connect timed out after ${this.config.connectTimeoutMs} ms`)),
      this.config.connectTimeoutMs,
    );
    let transport: Transport<C>;
    try {
      transport = await this.#factory.create(controller.signal);
    } catch (error) {
      this.#connectFailures++;
      this.#lastConnectError = error;
      throw error;
    } finally {
      this.#clock.clearTimeout(timer);
      this.#pending--;
    }
    if (this.#closed) {
      await transport.close().catch(() => {});
      throw this.#closedError();
    }
    const now = this.#clock.now();
    const lifetime = this.config.connectionLifetimeMs * (1 - this.config.lifetimeJitter * this.#clock.random());
    const conn = new PooledConnection(this.#nextId++, transport, now, lifetime);
    this.#connections.set(conn.id, conn);
    this.#created++;
    this.#backoff.reset();
    transport.onDisconnect((reason) => this.#markDead(conn, reason));
    conn.expiryTimer = backgroundTimer(this.#clock, () => this.#onExpired(conn), lifetime);
    this.#log.debug({ connection: conn.id, node: transport.node }, 'connection opened');
    return conn;
  }

  /**
   * Open connections while below min, or while waiters outnumber the connections being opened,
   * never above max. After a failed open, nothing is opened until the backoff delay has passed.
   */
  #fill(): void {
    if (this.#closed || !this.#started || this.#fillTimer !== undefined) return;
    for (;;) {
      const total = this.#connections.size + this.#pending;
      if (total >= this.#max) return;
      const belowMin = total < this.#min;
      // Each connection being opened will serve up to #streams of the waiters.
      const unserved = this.#waiters.length > this.#pending * this.#streams;
      if (!belowMin && !unserved) return;
      this.#open().then(
        (conn) => {
          this.#settle(conn); // serves waiters; retires it if the pool shrank meanwhile
          this.#fill();
        },
        (error: unknown) => {
          if (this.#closed) return;
          const delay = this.#backoff.next();
          this.#log.warn(
            { error: String((error as Error)?.message ?? error), retryInMs: delay, failures: this.#backoff.failures },
            `Failed to open a connection to ${this.#factory.describe()}; retrying in ${delay} ms`,
          );
          if (this.#fillTimer === undefined) {
            this.#fillTimer = backgroundTimer(
              this.#clock,
              () => {
                this.#fillTimer = undefined;
                this.#fill();
              },
              delay,
            );
          }
        },
      );
    }
  }

  #markDead(conn: PooledConnection<C>, reason: string): void {
    if (!conn.alive || this.#connections.get(conn.id) !== conn) return;
    conn.alive = false;
    this.#deadDetected++;
    this.#log.warn({ connection: conn.id, node: conn.transport.node, reason }, `Dead connection detected: connection ${conn.id} (${reason})`);
    // Idle: closed now. Held: closed when its last lease comes back. Validating: when the check ends.
    this.#settle(conn);
    this.#fill();
  }

  #onExpired(conn: PooledConnection<C>): void {
    if (this.#connections.get(conn.id) !== conn) return;
    conn.expired = true;
    this.#settle(conn); // never under a caller: a held connection goes when it comes back
    this.#fill();
  }

  /** Close a connection that nobody holds. Counts are updated at once; the socket closes in the background. */
  #retire(conn: PooledConnection<C>, reason: string): void {
    if (this.#connections.get(conn.id) !== conn) return;
    this.#connections.delete(conn.id);
    const i = this.#available.indexOf(conn);
    if (i !== -1) this.#available.splice(i, 1);
    this.#closedCount++;
    if (reason === 'lifetime reached') this.#recycled++;
    if (reason === 'idle timeout') this.#idleClosed++;
    this.#clock.clearTimeout(conn.expiryTimer);
    this.#log.debug({ connection: conn.id, reason }, 'connection closed');
    conn.transport.close().catch((error: unknown) => {
      this.#log.debug({ connection: conn.id, error: String(error) }, 'error while closing a connection');
    });
  }

  // ---- idle eviction ------------------------------------------------------------------------

  #scheduleIdleSweep(): void {
    if (this.#closed) return;
    const every = Math.min(30_000, Math.max(100, this.config.idleTimeoutMs / 2));
    this.#idleTimer = backgroundTimer(
      this.#clock,
      () => {
        this.#evictIdle();
        this.#scheduleIdleSweep();
      },
      every,
    );
  }

  /** Close connections unused for idleTimeoutMs, coldest first, while above min. */
  #evictIdle(): void {
    const now = this.#clock.now();
    for (const conn of [...this.#available]) {
      if (this.#connections.size <= this.#min) break;
      if (now - conn.lastUsedAt < this.config.idleTimeoutMs) break; // the rest are warmer
      if (conn.leases === 0) this.#retire(conn, 'idle timeout');
    }
  }

  // ---- health checks ------------------------------------------------------------------------

  #scheduleHealthCheck(): void {
    if (this.#closed) return;
    this.#healthTimer = backgroundTimer(
      this.#clock,
      () => {
        void this.checkNow().finally(() => this.#scheduleHealthCheck());
      },
      this.config.healthCheckIntervalMs,
    );
  }

  /** Health-check every idle connection now (each bounded by healthCheckTimeoutMs). */
  async checkNow(): Promise<{ checked: number; failed: number }> {
    const targets = [...this.#connections.values()].filter((c) => c.leases === 0 && c.alive && !c.checking && !c.validating);
    const results = await Promise.allSettled(targets.map((c) => this.#check(c)));
    this.#fill();
    return { checked: targets.length, failed: results.filter((r) => r.status === 'rejected').length };
  }

  async #check(conn: PooledConnection<C>): Promise<void> {
    conn.checking = true;
    const controller = new AbortController();
    const timer = backgroundTimer(
      this.#clock,
      () => controller.abort(new Error(`health check timed out after ${this.config.healthCheckTimeoutMs} ms`)),
      this.config.healthCheckTimeoutMs,
    );
    try {
      await raceAbort(conn.transport.check(controller.signal), controller.signal);
    } catch (error) {
      this.#healthFailures++;
      const message = String((error as Error)?.message ?? error);
      this.#markDead(conn, `health check failed: ${message}`);
      throw error;
    } finally {
      conn.checking = false;
      this.#clock.clearTimeout(timer);
    }
  }

  // ---- fallback (opt-in) --------------------------------------------------------------------

  async #serveFromFallback(enqueuedAt: number, timeoutMs: number): Promise<Lease<C>> {
    if (this.#closed) throw this.#closedError();
    this.#fallback ??= (async () => {
      const controller = new AbortController();
      const timer = backgroundTimer(this.#clock, () => controller.abort(new Error('connect timed out')), this.config.connectTimeoutMs);
      try {
        const transport = await this.#fallbackFactory.create(controller.signal);
        this.#fallbackOpen = true;
        this.#log.warn({}, 'Pool exhausted: serving callers from the single fallback connection (fallback: single-connection)');
        return transport;
      } finally {
        this.#clock.clearTimeout(timer);
      }
    })();
    let transport: Transport<C>;
    try {
      transport = await this.#fallback;
    } catch (error) {
      this.#fallback = undefined;
      const timeout = this.#timeoutError(timeoutMs);
      timeout.details['fallbackError'] = String((error as Error)?.message ?? error);
      throw timeout;
    }
    this.#fallbackAcquires++;
    this.#served++;
    this.#waitSumMs += this.#clock.now() - enqueuedAt;
    return new SharedLease(transport.client, 0);
  }

  // ---- reporting ----------------------------------------------------------------------------

  #counts() {
    const total = this.#connections.size;
    let active = 0;
    for (const c of this.#connections.values()) if (c.leases > 0 || c.validating) active++;
    return { total, active, idle: total - active, waiting: this.#waiters.length, max: this.#max };
  }

  #timeoutError(timeoutMs: number): TimeoutError {
    const c = this.#counts();
    const seconds = String(Number((timeoutMs / 1000).toFixed(3))); // 30, 0.5, 0.001
    const last = this.#lastConnectError ? `; last connect error: ${String((this.#lastConnectError as Error).message ?? this.#lastConnectError)}` : '';
    return new TimeoutError(
      `Failed to get connection within ${seconds} seconds (total ${c.total}, active ${c.active}, idle ${c.idle}, waiting ${c.waiting}, max ${c.max})${last}`,
      { timeoutMs, ...c },
    );
  }

  #closedError(): PoolClosedError {
    return new PoolClosedError('The connection pool is closed', this.#counts());
  }

  stats(): PoolStats {
    const c = this.#counts();
    return {
      enabled: true,
      total_connections: c.total,
      current_active: c.active,
      current_idle: c.idle,
      available_connections: this.#available.length,
      active_leases: this.#activeLeases.size,
      max_streams_per_connection: this.#streams,
      total_connections_created: this.#created,
      total_connections_closed: this.#closedCount,
      total_requests: this.#requests,
      avg_wait_time: this.#served === 0 ? 0 : Math.round((this.#waitSumMs / this.#served / 1000) * 1e6) / 1e6,
      health_check_failures: this.#healthFailures,
      min_connections: this.#min,
      max_connections: this.#max,
      waiting: c.waiting,
      pending_creates: this.#pending,
      acquire_timeouts: this.#timeouts,
      connect_failures: this.#connectFailures,
      dead_connections_detected: this.#deadDetected,
      lifetime_recycled: this.#recycled,
      idle_closed: this.#idleClosed,
      leak_warnings: this.#leakWarnings,
      fallback_mode: this.config.fallback,
      fallback_acquires: this.#fallbackAcquires,
      fallback_connection_open: this.#fallbackOpen,
    };
  }

  connections(): ConnectionInfo[] {
    const now = this.#clock.now();
    const round = (ms: number) => Math.round(ms / 10) / 100;
    return [...this.#connections.values()].map((c) => ({
      id: c.id,
      node: c.transport.node,
      age_seconds: round(now - c.createdAt),
      seconds_since_last_use: round(now - c.lastUsedAt),
      in_use: c.leases > 0 || c.validating,
      leases: c.leases,
      alive: c.alive,
      uses: c.uses,
      expires_in_seconds: Math.max(0, round(c.expiresAt - now)),
    }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stop lending, reject waiters (PoolClosedError), close idle connections, wait up to
   * `timeoutMs` for leases to come back, then close everything. Always settles.
   */
  async close({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#fillTimer);
    this.#clock.clearTimeout(this.#healthTimer);
    this.#clock.clearTimeout(this.#idleTimer);
    this.#fillTimer = undefined;
    for (const waiter of this.#waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(this.#closedError());
    }
    for (const conn of [...this.#connections.values()]) if (conn.leases === 0 && !conn.validating) this.#retire(conn, 'pool closed');
    if (this.#activeLeases.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.#clock.setTimeout(resolve, timeoutMs);
        this.#releasedWhileClosing = () => {
          this.#clock.clearTimeout(timer);
          resolve();
        };
      });
    }
    const closing = [...this.#connections.values()].map((c) => c.transport.close().catch(() => {}));
    for (const conn of this.#connections.values()) this.#clock.clearTimeout(conn.expiryTimer);
    this.#closedCount += this.#connections.size;
    this.#connections.clear();
    for (const lease of this.#activeLeases) this.#clock.clearTimeout(lease.leakTimer);
    if (this.#fallback) closing.push(this.#fallback.then((t) => t.close()).catch(() => {}));
    this.#fallbackOpen = false;
    await Promise.all(closing);
    await this.#onClose?.().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

class LeaseImpl<C> implements Lease<C> {
  readonly #pool: ConnectionPool<C>;
  readonly conn: PooledConnection<C>;
  #released = false;
  suspect = false;
  leakTimer: TimerHandle | undefined;

  constructor(pool: ConnectionPool<C>, conn: PooledConnection<C>) {
    this.#pool = pool;
    this.conn = conn;
  }
  get client(): C {
    if (this.#released) {
      throw new ConnectionReleasedError(`Connection ${this.conn.id} was used after it went back to the pool`, {
        connection: this.conn.id,
      });
    }
    return this.conn.transport.client;
  }
  get connectionId(): number {
    return this.conn.id;
  }
  /** A transport failure happened under this lease: check the connection before it is lent again. */
  markSuspect(): void {
    this.suspect = true;
  }
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#pool.giveBack(this, undefined);
  }
  destroy(reason = 'destroyed'): void {
    if (this.#released) return;
    this.#released = true;
    this.#pool.giveBack(this, reason);
  }
  [Symbol.dispose](): void {
    this.release();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}

/** A lease on a shared connection (legacy mode, fallback): release only ends the lease. */
export class SharedLease<C> implements Lease<C> {
  readonly #client: C;
  readonly connectionId: number;
  #released = false;
  readonly #onRelease: (() => void) | undefined;
  constructor(client: C, connectionId: number, onRelease?: () => void) {
    this.#client = client;
    this.connectionId = connectionId;
    this.#onRelease = onRelease;
  }
  get client(): C {
    if (this.#released) {
      throw new ConnectionReleasedError('A connection was used after its lease ended', { connection: this.connectionId });
    }
    return this.#client;
  }
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#onRelease?.();
  }
  destroy(): void {
    this.release();
  }
  [Symbol.dispose](): void {
    this.release();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}

function abortError(signal: AbortSignal): AbortError {
  const reason = signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted');
  return new AbortError(`Gave up waiting for a connection: ${reason}`, { reason });
}
