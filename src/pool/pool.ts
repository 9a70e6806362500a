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
 * Each connection is in exactly one state (tarn.js's way: the state is the set it is in, and
 * every count is a set's size), and `#moveTo` is the only place a state changes (each change
 * is checked against TRANSITIONS and emitted as a 'transition' event on `pool.events`):
 *
 *   opening -> idle | closed              (opened, or the open failed / was aborted by close())
 *   idle -> leased | closing              (lent; or dead, expired, idle timeout, shrunk, pool closed)
 *   leased -> idle | validating | retiring | closing
 *   validating -> idle | leased | retiring | closing   (health check after a transport failure)
 *   retiring -> closing                   (never lent again; closes when its last lease ends)
 *   closing -> closed                     (the transport's close() settled)
 *
 * What decides the next state of an open connection is one function (`#nextState`) of its facts:
 * its leases, a check in progress, and why it must go (`retireReason`: dead, lifetime reached,
 * pool shrunk, idle timeout, pool closed). "May this be lent?" is one function of the state
 * (`#lendable`): idle, or leased below the stream limit.
 *
 * Invariants (checked by test/unit/pool.random.test.ts under random faults):
 * - a connection never carries more than maxStreamsPerConnection leases, and a retiring,
 *   validating or closing connection is never lent;
 * - total = idle + leased + validating + retiring = connections open at the OS; the ones not
 *   retiring never exceed max (a retiring one is above max only until its last lease ends);
 * - created - closed = total;
 * - close() aborts opens in flight and resolves only after they settled: nothing opens after it;
 * - waiters are served in arrival order; a waiter that gives up leaves no trace.
 */
import { EventEmitter } from 'node:events';
import { AbortError, ConnectError, ConnectionReleasedError, PoolClosedError, TimeoutError, WaitQueueFullError } from '../errors.ts';
import { raceAbort } from '../abort.ts';
import { backgroundTimer, systemClock, type Clock, type TimerHandle } from '../clock.ts';
import { silentLogger, type Logger } from '../log.ts';
import { WaitQueue } from '../wait-queue.ts';
import { Backoff } from './backoff.ts';
import type { PoolConfig } from './config.ts';
import { withConnection } from './with-connection.ts';
import type { AcquireOptions, ConnectionFactory, ConnectionInfo, ConnectionSource, ConnectionState, Lease, PoolStats, Transport } from './types.ts';

export interface PoolDeps<C> {
  factory: ConnectionFactory<C>;
  clock?: Clock;
  logger?: Logger;
  /** Opens the opt-in fallback connection (`fallback: 'single-connection'`); default: the factory. */
  fallbackFactory?: ConnectionFactory<C>;
  /** Runs once at the end of close() (e.g. lifting the REST socket bound). */
  onClose?: () => Promise<void>;
}

/** One state change of one connection (emitted as 'transition' on `pool.events`). */
export interface TransitionEvent {
  id: number;
  from: ConnectionState;
  to: ConnectionState;
  /** Why (for retiring/closing: dead, lifetime reached, pool shrunk, idle timeout, pool closed, ...). */
  reason: string;
  leases: number;
}

/** One lease handed out (emitted as 'lend' on `pool.events`, after the count went up). */
export interface LendEvent {
  id: number;
  /** The connection's state before this lease (always idle or leased). */
  from: ConnectionState;
  leases: number;
}

export interface PoolEvents {
  transition: [TransitionEvent];
  lend: [LendEvent];
}

/** The allowed state changes; anything else is a bug and throws. */
const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  opening: ['idle', 'closed'],
  idle: ['leased', 'closing'],
  leased: ['idle', 'validating', 'retiring', 'closing'],
  validating: ['idle', 'leased', 'retiring', 'closing'],
  retiring: ['closing'],
  closing: ['closed'],
  closed: [],
};

/** States whose connection is established (counted in total_connections). */
const OPEN_STATES: readonly ConnectionState[] = ['idle', 'leased', 'validating', 'retiring'];

class PooledConnection<C> {
  readonly id: number;
  state: ConnectionState = 'opening';
  transport!: Transport<C>;
  /** Aborts the open (its bound, or close()). */
  readonly opening = new AbortController();
  createdAt = 0;
  expiresAt = 0;
  /** Leases it carries now. */
  leases = 0;
  /** A health check after a transport failure is in progress (the connection is 'validating'). */
  validating = false;
  /** A periodic health check is in progress (it stays lendable meanwhile). */
  checking = false;
  /** Why it must go, once decided; never cleared. */
  retireReason: string | undefined;
  dead = false;
  uses = 0;
  lastUsedAt = 0;
  expiryTimer: TimerHandle | undefined;

  constructor(id: number) {
    this.id = id;
  }
}

export class ConnectionPool<C> implements ConnectionSource<C> {
  readonly config: Readonly<PoolConfig>;
  /** 'transition' and 'lend' events, for stats and tests. */
  readonly events = new EventEmitter<PoolEvents>();
  #min: number;
  #max: number;
  readonly #factory: ConnectionFactory<C>;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #onClose: (() => Promise<void>) | undefined;

  /** Every connection not yet closed, by state: a connection's state is the set it is in. */
  readonly #byState: Record<ConnectionState, Set<PooledConnection<C>>> = {
    opening: new Set(),
    idle: new Set(),
    leased: new Set(),
    validating: new Set(),
    retiring: new Set(),
    closing: new Set(),
    closed: new Set(), // stays empty: closed connections are dropped
  };
  /** Settles when a connection's transport close() settled (for close()). */
  readonly #closings = new Set<Promise<void>>();
  /** Opens in flight (for close(), which aborts and awaits them). */
  readonly #opens = new Set<Promise<unknown>>();
  /**
   * Connections that can take another lease, least recently used first: lent from the end
   * (LIFO), idle ones evicted from the front. Exactly the lendable connections (see #lendable).
   */
  #available: PooledConnection<C>[] = [];
  readonly #streams: number;
  /** Callers waiting for a connection (FIFO, each with its time-out and signal); the data is when it came. */
  readonly #waiters: WaitQueue<Lease<C>, number>;
  #nextId = 1;
  #closed = false;
  #started = false;
  #fillTimer: TimerHandle | undefined;
  #healthTimer: TimerHandle | undefined;
  #idleTimer: TimerHandle | undefined;
  #activeLeases = new Set<LeaseImpl<C>>();
  #fallbackLeases = 0;
  #leasesReturned: (() => void) | undefined;

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
    this.#waiters = new WaitQueue(this.#clock);
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

  // ---- states --------------------------------------------------------------------------------

  /** The one place a connection changes state. */
  #moveTo(conn: PooledConnection<C>, to: ConnectionState, reason: string): void {
    const from = conn.state;
    if (from === to) return this.#place(conn); // a lease count changed: lendable or not
    if (!TRANSITIONS[from].includes(to)) {
      throw new Error(`Pool bug: connection ${conn.id} cannot go from ${from} to ${to} (${reason})`);
    }
    this.#byState[from].delete(conn);
    conn.state = to;
    if (to !== 'closed') this.#byState[to].add(conn);
    if (to === 'closing') this.#beginClose(conn, reason);
    this.#place(conn);
    this.events.emit('transition', { id: conn.id, from, to, reason, leases: conn.leases });
  }

  /** The state an open connection belongs in now, from its facts (leases, check, retire reason). */
  #nextState(conn: PooledConnection<C>): ConnectionState {
    if (conn.retireReason !== undefined || this.#closed) return conn.leases > 0 || conn.validating ? 'retiring' : 'closing';
    if (conn.validating) return 'validating';
    return conn.leases > 0 ? 'leased' : 'idle';
  }

  /**
   * After any change to an open connection: move it to the state its facts call for; if it can
   * take a lease, hand its spare capacity to waiters.
   */
  #settle(conn: PooledConnection<C>): void {
    if (!OPEN_STATES.includes(conn.state)) return;
    const next = this.#nextState(conn);
    this.#moveTo(conn, next, conn.retireReason ?? (this.#closed ? 'pool closed' : next));
    while (this.#waiters.size > 0 && this.#lendable(conn)) {
      const waiter = this.#waiters.dequeue(0)!;
      waiter.resolve(this.#lend(conn, waiter.data));
    }
  }

  /** Decide that a connection must go; it closes now if nobody holds it, else when its last lease ends. */
  #retire(conn: PooledConnection<C>, reason: string): void {
    if (!OPEN_STATES.includes(conn.state)) return;
    conn.retireReason ??= reason;
    this.#settle(conn);
  }

  /** "May this be lent?" -- one function of the state. */
  #lendable(conn: PooledConnection<C>): boolean {
    return conn.state === 'idle' || (conn.state === 'leased' && conn.leases < this.#streams);
  }

  /** Put a connection where it belongs after any change: the end of #available if lendable, else nowhere. */
  #place(conn: PooledConnection<C>): void {
    const i = this.#available.indexOf(conn);
    if (i !== -1) this.#available.splice(i, 1);
    if (this.#lendable(conn)) this.#available.push(conn);
  }

  #count(state: ConnectionState): number {
    return this.#byState[state].size;
  }

  /** Established connections (what the OS holds). */
  #total(): number {
    return this.#count('idle') + this.#count('leased') + this.#count('validating') + this.#count('retiring');
  }

  /** Established connections that are not on their way out: these are bounded by max. */
  #kept(): PooledConnection<C>[] {
    return [...this.#byState.idle, ...this.#byState.leased, ...this.#byState.validating];
  }

  /** Retire connections above max: idle ones first (coldest first), then those with fewest leases. */
  #shrinkToMax(): void {
    const kept = this.#kept();
    const excess = kept.length - this.#max;
    if (excess <= 0) return;
    kept.sort((a, b) => a.leases - b.leases || a.lastUsedAt - b.lastUsedAt);
    for (const conn of kept.slice(0, excess)) this.#retire(conn, 'pool shrunk');
  }

  // ---- acquire / release -------------------------------------------------------------------

  acquire(options: AcquireOptions = {}): Promise<Lease<C>> {
    this.#requests++;
    if (this.#closed) return Promise.reject(this.#closedError());
    if (options.signal?.aborted) return Promise.reject(abortError(options.signal));
    const enqueuedAt = this.#clock.now();
    if (this.#waiters.size === 0) {
      const conn = this.#hottest();
      if (conn) return Promise.resolve(this.#lend(conn, enqueuedAt));
    }
    if (this.#waiters.size >= this.config.maxWaiters) {
      return Promise.reject(
        new WaitQueueFullError(
          `Too many callers waiting for a connection (${this.#waiters.size}, maxWaiters ${this.config.maxWaiters})`,
          this.#counts(),
        ),
      );
    }
    const timeoutMs = options.timeoutMs ?? this.config.acquireTimeoutMs;
    const waiting = this.#waiters.wait(enqueuedAt, {
      timeoutMs,
      signal: options.signal,
      onAbort: abortError,
      onTimeout: () => (this.config.fallback === 'single-connection' ? this.#serveFromFallback(enqueuedAt, timeoutMs) : this.#timeoutError(timeoutMs)),
    });
    this.#fill();
    return waiting;
  }

  withConnection<T>(fn: (client: C, lease: Lease<C>) => Promise<T> | T, options?: AcquireOptions): Promise<T> {
    return withConnection((o) => this.acquire(o), fn, options);
  }

  /**
   * Change min and/or max at run time. In-flight leases are never interrupted: a connection
   * above the new max stops being lent at once (retiring) and closes when its last lease ends.
   */
  resize({ min, max }: { min?: number; max?: number }): void {
    if (this.#closed) throw new PoolClosedError('resize() was called on a closed connection pool', this.#counts());
    const newMin = min ?? this.#min;
    const newMax = max ?? this.#max;
    if (!Number.isInteger(newMin) || newMin < 0 || !Number.isInteger(newMax) || newMax < 1 || newMin > newMax) {
      throw new RangeError(`Expected 0 <= min <= max and max >= 1 (integers), got min ${newMin}, max ${newMax}`);
    }
    this.#min = newMin;
    this.#max = newMax;
    this.#shrinkToMax();
    this.#fill();
  }

  /** The most recently used connection that can take another lease. */
  #hottest(): PooledConnection<C> | undefined {
    return this.#available[this.#available.length - 1];
  }

  #lend(conn: PooledConnection<C>, enqueuedAt: number): Lease<C> {
    const from = conn.state;
    if (!this.#lendable(conn)) throw new Error(`Pool bug: lending connection ${conn.id} in state ${from} with ${conn.leases} leases`);
    const now = this.#clock.now();
    conn.leases++;
    conn.uses++;
    conn.lastUsedAt = now;
    this.#moveTo(conn, 'leased', 'lent');
    this.#place(conn); // most recently used: to the end
    this.#served++;
    this.#waitSumMs += now - enqueuedAt;
    const lease = new LeaseImpl(this, conn);
    this.#activeLeases.add(lease);
    this.events.emit('lend', { id: conn.id, from, leases: conn.leases });
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
    if (broken !== undefined && !conn.dead) {
      conn.dead = true;
      conn.retireReason ??= 'destroyed';
      this.#log.warn({ connection: conn.id, reason: broken }, `Connection ${conn.id} destroyed by its user: ${broken}`);
    }
    if (conn.state === 'closing' || conn.state === 'closed') {
      // Forced closed by close() after its time-out: nothing to do.
    } else if (lease.suspect && conn.retireReason === undefined && !conn.validating) {
      this.#validate(conn);
    } else {
      this.#settle(conn);
    }
    this.#notifyIfDrained();
    this.#fill();
  }

  #notifyIfDrained(): void {
    if (this.#closed && this.#activeLeases.size === 0 && this.#fallbackLeases === 0) this.#leasesReturned?.();
  }

  /** A connection that came back from a transport failure is checked before it is lent again. */
  #validate(conn: PooledConnection<C>): void {
    conn.validating = true;
    this.#settle(conn);
    const done = () => {
      conn.validating = false;
      this.#settle(conn);
      this.#fill();
    };
    this.#check(conn).then(done, done);
  }

  // ---- opening and closing connections ------------------------------------------------------

  /**
   * Open one connection (bounded by connectTimeoutMs; aborted by close()). Resolves with it
   * idle and registered, but not offered to waiters (the caller settles it).
   */
  #open(): Promise<PooledConnection<C>> {
    const conn = new PooledConnection<C>(this.#nextId++);
    this.#byState.opening.add(conn);
    const opened = this.#openInto(conn);
    this.#opens.add(opened);
    void opened.catch(() => {}).finally(() => this.#opens.delete(opened));
    return opened;
  }

  async #openInto(conn: PooledConnection<C>): Promise<PooledConnection<C>> {
    const timer = backgroundTimer(
      this.#clock,
      () => conn.opening.abort(new Error(`connect timed out after ${this.config.connectTimeoutMs} ms`)),
      this.config.connectTimeoutMs,
    );
    let transport: Transport<C>;
    try {
      transport = await this.#factory.create(conn.opening.signal);
    } catch (error) {
      this.#moveTo(conn, 'closed', 'open failed');
      if (!this.#closed) {
        this.#connectFailures++;
        this.#lastConnectError = error;
      }
      throw this.#closed ? this.#closedError() : error;
    } finally {
      this.#clock.clearTimeout(timer);
    }
    conn.transport = transport;
    if (this.#closed) {
      // The factory finished although close() aborted it: close what it opened before close() resolves.
      this.#moveTo(conn, 'closed', 'pool closed while opening');
      await transport.close().catch(() => {});
      throw this.#closedError();
    }
    const now = this.#clock.now();
    const lifetime = this.config.connectionLifetimeMs * (1 - this.config.lifetimeJitter * this.#clock.random());
    conn.createdAt = conn.lastUsedAt = now;
    conn.expiresAt = now + lifetime;
    this.#created++;
    this.#backoff.reset();
    this.#moveTo(conn, 'idle', 'opened');
    transport.onDisconnect((reason) => this.#markDead(conn, reason));
    conn.expiryTimer = backgroundTimer(this.#clock, () => this.#onExpired(conn), lifetime);
    this.#log.debug({ connection: conn.id, node: transport.node }, 'connection opened');
    return conn;
  }

  /** Entering 'closing': counted as closed at once; the transport closes in the background (close() awaits it). */
  #beginClose(conn: PooledConnection<C>, reason: string): void {
    this.#closedCount++;
    if (reason === 'lifetime reached') this.#recycled++;
    if (reason === 'idle timeout') this.#idleClosed++;
    this.#clock.clearTimeout(conn.expiryTimer);
    this.#log.debug({ connection: conn.id, reason }, 'connection closed');
    const closing = conn.transport
      .close()
      .catch((error: unknown) => {
        this.#log.debug({ connection: conn.id, error: String(error) }, 'error while closing a connection');
      })
      .finally(() => {
        this.#closings.delete(closing);
        this.#moveTo(conn, 'closed', 'transport closed');
      });
    this.#closings.add(closing);
  }

  /**
   * Open connections while below min, or while waiters outnumber the connections being opened,
   * never above max (retiring connections count: they are still open). After a failed open,
   * nothing is opened until the backoff delay has passed.
   */
  #fill(): void {
    if (this.#closed || !this.#started || this.#fillTimer !== undefined) return;
    for (;;) {
      const opening = this.#count('opening');
      const total = this.#total() + opening;
      if (total >= this.#max) return;
      const belowMin = this.#kept().length + opening < this.#min;
      // Each connection being opened will serve up to #streams of the waiters.
      const unserved = this.#waiters.size > opening * this.#streams;
      if (!belowMin && !unserved) return;
      this.#open().then(
        (conn) => {
          this.#settle(conn); // serves waiters
          this.#shrinkToMax(); // the pool may have shrunk meanwhile
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
    if (conn.dead || !OPEN_STATES.includes(conn.state)) return;
    conn.dead = true;
    this.#deadDetected++;
    this.#log.warn({ connection: conn.id, node: conn.transport.node, reason }, `Dead connection detected: connection ${conn.id} (${reason})`);
    // Idle: closed now. Held: closed when its last lease comes back. Validating: when the check ends.
    this.#retire(conn, 'dead');
    this.#fill();
  }

  #onExpired(conn: PooledConnection<C>): void {
    this.#retire(conn, 'lifetime reached'); // never under a caller: a held connection goes when it comes back
    this.#fill();
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
      if (this.#kept().length <= this.#min) break;
      if (now - conn.lastUsedAt < this.config.idleTimeoutMs) break; // the rest are warmer
      if (conn.state === 'idle') this.#retire(conn, 'idle timeout');
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

  /**
   * Health-check every open connection now, idle or leased (each bounded by healthCheckTimeoutMs).
   * Leased ones too: a server that froze (sockets open, no answers) under steady load never
   * leaves a connection idle, and the callers' own deadlines say nothing about the connection
   * (src/weaviate/failure.ts: 'cancelled'), so without this a black hole would go unnoticed
   * while the load lasts. The check is one more multiplexed stream; a leased connection that
   * fails it is retired (never lent again) and closes when its last lease ends.
   */
  async checkNow(): Promise<{ checked: number; failed: number }> {
    const targets = [...this.#byState.idle, ...this.#byState.leased].filter((c) => !c.checking && !c.dead);
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
    if (this.#closed) throw this.#closedError();
    this.#fallbackAcquires++;
    this.#served++;
    this.#waitSumMs += this.#clock.now() - enqueuedAt;
    // Tracked like a pooled lease: close() waits for it before closing the fallback.
    this.#fallbackLeases++;
    return new SharedLease(transport.client, 0, () => {
      this.#fallbackLeases--;
      this.#notifyIfDrained();
    });
  }

  // ---- reporting ----------------------------------------------------------------------------

  /** Counts, each derived from the connections' states. */
  #counts() {
    const idle = this.#count('idle');
    const active = this.#count('leased') + this.#count('validating') + this.#count('retiring');
    return { total: this.#total(), active, idle, waiting: this.#waiters.size, max: this.#max };
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
      pending_creates: this.#count('opening'),
      acquire_timeouts: this.#waiters.timeouts,
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

  /** The established connections (idle, leased, validating, retiring), oldest first. */
  connections(): ConnectionInfo[] {
    const now = this.#clock.now();
    const round = (ms: number) => Math.round(ms / 10) / 100;
    const open = OPEN_STATES.flatMap((state) => [...this.#byState[state]]).sort((a, b) => a.id - b.id);
    return open.map((c) => ({
      id: c.id,
      node: c.transport.node,
      state: c.state,
      age_seconds: round(now - c.createdAt),
      seconds_since_last_use: round(now - c.lastUsedAt),
      in_use: c.leases > 0 || c.state === 'validating',
      leases: c.leases,
      alive: !c.dead,
      uses: c.uses,
      expires_in_seconds: Math.max(0, round(c.expiresAt - now)),
    }));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Stop lending, reject waiters (PoolClosedError), abort the opens in flight, close idle
   * connections, wait up to `timeoutMs` for leases (the fallback's too) to come back, then close
   * everything and wait for the transports to close. Always settles; nothing is opened after it.
   */
  async close({ timeoutMs = 10_000 }: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#fillTimer);
    this.#clock.clearTimeout(this.#healthTimer);
    this.#clock.clearTimeout(this.#idleTimer);
    this.#fillTimer = undefined;
    this.#waiters.rejectAll(this.#closedError());
    for (const conn of this.#byState.opening) conn.opening.abort(this.#closedError());
    for (const conn of this.#kept()) this.#retire(conn, 'pool closed');
    const drained = this.#activeLeases.size === 0 && this.#fallbackLeases === 0;
    await Promise.all([
      // Opens settle once aborted (a factory honours its signal). Bounded all the same: an open
      // that still finishes later closes what it opened at once (#openInto checks #closed).
      this.#opens.size === 0 ? undefined : this.#bounded(Promise.allSettled([...this.#opens]), this.config.connectTimeoutMs),
      drained
        ? undefined
        : new Promise<void>((resolve) => {
            const timer = this.#clock.setTimeout(resolve, timeoutMs);
            this.#leasesReturned = () => {
              this.#clock.clearTimeout(timer);
              resolve();
            };
          }),
    ]);
    this.#leasesReturned = undefined;
    // Leases not returned in time: their connections are closed under them.
    for (const conn of [...this.#byState.retiring, ...this.#byState.validating, ...this.#byState.leased, ...this.#byState.idle]) {
      this.#moveTo(conn, 'closing', 'pool closed (leases not returned in time)');
    }
    for (const lease of this.#activeLeases) this.#clock.clearTimeout(lease.leakTimer);
    const closing: Promise<unknown>[] = [...this.#closings];
    if (this.#fallback) closing.push(this.#fallback.then((t) => t.close()).catch(() => {}));
    this.#fallbackOpen = false;
    await Promise.all(closing);
    await this.#onClose?.().catch(() => {});
  }

  /** Wait for `promise`, at most `ms` (close() must always settle). */
  #bounded(promise: Promise<unknown>, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, ms);
      void promise.finally(() => {
        this.#clock.clearTimeout(timer);
        resolve();
      });
    });
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
