import { describe, expect, it } from 'vitest';
import { ClientError, Status } from 'nice-grpc';
import { AbortError, DeadlineExceededError, ConnectError, ConnectionReleasedError, PoolClosedError, TimeoutError, WaitQueueFullError } from '../../src/errors.ts';
import { MemoryLogger } from '../../src/log.ts';
import { resolvePoolConfig, type PoolOptions } from '../../src/pool/config.ts';
import { ConnectionPool } from '../../src/pool/pool.ts';
import { SingleConnection } from '../../src/pool/single.ts';
import { recordFailures } from '../../src/weaviate/failure.ts';
import { prng } from '../../src/data/sample.ts';
import type { Lease } from '../../src/pool/types.ts';
import { FakeClock, flush } from '../support/fake-clock.ts';
import { ScriptedFactory, type FakeClient } from '../support/scripted-factory.ts';

const SEARCH = '/weaviate.v1.Weaviate/Search';

/**
 * A gRPC call as weaviate-client makes it on a pooled client: through the failure-recording
 * middleware (src/weaviate/client.ts installs it), then rewrapped without the status code.
 */
async function weaviateClientCall(failure: ClientError, signal?: AbortController['signal']): Promise<never> {
  const call = { request: {}, next: async function* (): AsyncGenerator<never, never> { throw failure; } };
  const aborted = new AbortController();
  if (signal) aborted.abort();
  try {
    for await (const _ of recordFailures(call as never, { signal: signal ? aborted.signal : new AbortController().signal })) break;
  } catch (error) {
    throw new Error(`Query call with protocol gRPC failed with message: ${(error as Error).message}`);
  }
  throw new Error('unreachable');
}

async function makePool(options: PoolOptions = {}, { start = true } = {}) {
  const clock = new FakeClock();
  const factory = new ScriptedFactory(clock);
  const logger = new MemoryLogger();
  // Exclusive leases unless a test asks for more (the note's model; multiplexing is tested apart).
  const config = resolvePoolConfig({ minConnections: 2, maxConnections: 4, maxStreamsPerConnection: 1, ...options }, {});
  const pool = new ConnectionPool<FakeClient>(config, { factory, clock, logger });
  if (start) await pool.start();
  return { pool, clock, factory, logger };
}

function consistent(pool: ConnectionPool<FakeClient>, factory?: ScriptedFactory) {
  const s = pool.stats();
  const conns = pool.connections();
  const inState = (...states: string[]) => conns.filter((c) => states.includes(c.state)).length;
  // Counts are derived from states: check them against the list of connections.
  expect(s.current_idle).toBe(inState('idle'));
  expect(s.current_active).toBe(inState('leased', 'validating', 'retiring'));
  expect(s.current_active + s.current_idle).toBe(s.total_connections);
  expect(conns.length).toBe(s.total_connections);
  expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);
  // Only connections on their way out (retiring, still open under a lease) may exceed max.
  expect(s.total_connections - inState('retiring')).toBeLessThanOrEqual(s.max_connections);
  if (factory) expect(factory.open.length).toBe(s.total_connections);
  return s;
}

describe('ConnectionPool lifecycle', () => {
  it('opens min connections at start and reports the note stats keys', async () => {
    const { pool, factory } = await makePool();
    const s = consistent(pool, factory);
    expect(s).toMatchObject({ enabled: true, total_connections: 2, current_active: 0, current_idle: 2, available_connections: 2 });
    for (const key of ['total_connections_created', 'total_connections_closed', 'total_requests', 'avg_wait_time', 'health_check_failures']) {
      expect(s).toHaveProperty(key);
    }
    await pool.close();
  });

  it('fails fast with ConnectError when warm-up cannot connect within the bound', async () => {
    const { pool, clock, factory } = await makePool({ connectTimeoutMs: 1000 }, { start: false });
    factory.connectDelayMs = 60_000; // a black-holed host
    const started = pool.start();
    const outcome = expect(started).rejects.toSatisfy(
      (e: unknown) => e instanceof ConnectError && /within 1 s/.test(e.message) && /scripted:\/\/fake/.test(e.message),
    );
    await clock.advance(1000);
    await outcome;
    expect(pool.closed).toBe(true);
  });

  it('grows on demand up to max and never above; the next caller waits', async () => {
    const { pool, factory, clock } = await makePool({ maxConnections: 3, acquireTimeoutMs: 5000 });
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(consistent(pool, factory)).toMatchObject({ total_connections: 3, current_active: 3 });
    let fourth: Lease<FakeClient> | undefined;
    void pool.acquire().then((l) => (fourth = l));
    await clock.advance(100);
    expect(fourth).toBeUndefined();
    expect(pool.stats()).toMatchObject({ waiting: 1, total_connections: 3 });
    expect(factory.attempts).toBe(3);
    leases[0]!.release();
    await flush();
    expect(fourth?.connectionId).toBe(leases[0]!.connectionId);
    fourth!.release();
    for (const l of leases.slice(1)) l.release();
    consistent(pool, factory);
    await pool.close();
  });

  it('serves waiters first-in first-out', async () => {
    const { pool, clock } = await makePool({ minConnections: 1, maxConnections: 1 });
    const held = await pool.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => pool.acquire().then((l) => { order.push(n); l.release(); }));
    await clock.advance(10);
    held.release();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
    await pool.close();
  });

  it('times out with the note message, the counts and a stable code; the waiter leaves no trace', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    const late = pool.acquire({ timeoutMs: 2000 });
    const check = expect(late).rejects.toSatisfy((e: unknown) => {
      expect(e).toBeInstanceOf(TimeoutError);
      const err = e as TimeoutError;
      expect(err.code).toBe('WEX_POOL_TIMEOUT');
      expect(err.name).toBe('TimeoutError');
      expect(err.message).toMatch(/^Failed to get connection within 2 seconds \(total 2, active 2, idle 0, waiting 0, max 2\)/);
      expect(err.details).toMatchObject({ total: 2, active: 2, idle: 0 });
      return true;
    });
    await clock.advance(1999);
    expect(pool.stats().waiting).toBe(1);
    await clock.advance(1);
    await check;
    expect(pool.stats()).toMatchObject({ waiting: 0, acquire_timeouts: 1 });
    a.release();
    expect(pool.stats()).toMatchObject({ current_idle: 1, current_active: 1 }); // not handed to the gone waiter
    b.release();
    consistent(pool, factory);
    await pool.close();
  });

  it('an aborted waiter gets AbortError and leaves no trace', async () => {
    const { pool } = await makePool({ minConnections: 1, maxConnections: 1 });
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire({ signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toBeInstanceOf(AbortError);
    expect(pool.stats().waiting).toBe(0);
    held.release();
    expect(pool.stats().current_idle).toBe(1);
    await pool.close();
  });

  it('rejects beyond maxWaiters at once', async () => {
    const { pool } = await makePool({ minConnections: 1, maxConnections: 1, maxWaiters: 1 });
    const held = await pool.acquire();
    const first = pool.acquire();
    await expect(pool.acquire()).rejects.toBeInstanceOf(WaitQueueFullError);
    held.release();
    (await first).release();
    await pool.close();
  });
});

describe('scoped use', () => {
  it('withConnection gives the connection back, also on error', async () => {
    const { pool, factory } = await makePool();
    await expect(pool.withConnection(() => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(pool.stats().current_active).toBe(0);
    const value = await pool.withConnection((client) => client.id);
    expect(typeof value).toBe('number');
    consistent(pool, factory);
    await pool.close();
  });

  it('await using releases at the end of the block', async () => {
    const { pool } = await makePool();
    {
      await using lease = await pool.acquire();
      expect(pool.stats().current_active).toBe(1);
      expect(lease.client.id).toBeGreaterThan(0);
    }
    expect(pool.stats().current_active).toBe(0);
    await pool.close();
  });

  it('a lease cannot be used after release, and double release is harmless', async () => {
    const { pool } = await makePool();
    const lease = await pool.acquire();
    lease.release();
    lease.release();
    expect(() => lease.client).toThrow(ConnectionReleasedError);
    expect(pool.stats()).toMatchObject({ current_active: 0, current_idle: 2 });
    await pool.close();
  });

  it('a transport failure gets the connection checked before reuse; a server error does not', async () => {
    const { pool, factory } = await makePool({ minConnections: 1, maxConnections: 1 });
    const transport = factory.opened[0]!;
    await expect(pool.withConnection(() => { throw new ClientError(SEARCH, Status.INVALID_ARGUMENT, 'no such property'); })).rejects.toThrow();
    expect(transport.checks).toBe(0);
    await expect(pool.withConnection(() => { throw new ClientError(SEARCH, Status.UNAVAILABLE, 'Connection dropped'); })).rejects.toThrow();
    await flush();
    expect(transport.checks).toBe(1);
    expect(pool.stats().current_idle).toBe(1);
    // weaviate-client's path: the status is seen by the middleware, then rewrapped without its code.
    await expect(pool.withConnection(() => weaviateClientCall(new ClientError(SEARCH, Status.INTERNAL, 'Received RST_STREAM with code 2')))).rejects.toThrow();
    await flush();
    expect(transport.checks).toBe(2);
    await pool.close();
  });

  it("the caller's own deadline or abort never makes a connection suspect (whatever the message says)", async () => {
    const { pool, factory } = await makePool({ minConnections: 1, maxConnections: 1 });
    const transport = factory.opened[0]!;
    const deadline = new AbortController();
    deadline.abort(new DeadlineExceededError('Deadline passed while running on a worker (lane `normal`)', {}));
    // The deadline fired while the work ran: the function rejects with the signal's reason.
    const lease = await pool.acquire();
    lease.release();
    await expect(pool.withConnection(() => { throw deadline.signal.reason; })).rejects.toThrow(/Deadline passed/);
    // An AbortSignal.timeout of the caller: a DOMException TimeoutError ("signal timed out").
    await expect(pool.withConnection(() => { throw new DOMException('The operation was aborted due to timeout', 'TimeoutError'); })).rejects.toThrow(/timeout/);
    // A gRPC call cancelled by the caller's signal, as weaviate-client reports it.
    const caller = new AbortController();
    const cancelled = pool.withConnection(() => weaviateClientCall(new ClientError(SEARCH, Status.CANCELLED, 'Cancelled on client'), caller.signal), { signal: caller.signal });
    await expect(cancelled).rejects.toThrow();
    await flush();
    expect(transport.checks).toBe(0);
    await pool.close();
  });
});

describe('lifetime, health checks, reconnects', () => {
  it('recycles an idle connection at its (jittered) lifetime and keeps min', async () => {
    // random() = 0.5 and jitter 0.1: each lifetime is 0.95 x 10 s = 9.5 s.
    const { pool, clock, factory } = await makePool({ connectionLifetimeMs: 10_000, lifetimeJitter: 0.1, healthCheckIntervalMs: 60_000 });
    await clock.advance(9_499);
    expect(pool.stats().lifetime_recycled).toBe(0);
    await clock.advance(1);
    expect(pool.stats()).toMatchObject({ lifetime_recycled: 2, total_connections: 2, total_connections_created: 4 });
    consistent(pool, factory);
    await pool.close();
  });

  it('never closes a connection under a caller: it is retired when it comes back', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 1, connectionLifetimeMs: 1000, lifetimeJitter: 0 });
    const lease = await pool.acquire();
    await clock.advance(5000);
    expect(lease.client.closed).toBe(false);
    expect(pool.stats().total_connections).toBe(1);
    lease.release();
    await flush();
    expect(factory.opened[0]!.client.closed).toBe(true);
    expect(pool.stats()).toMatchObject({ lifetime_recycled: 1, total_connections: 1 });
    await pool.close();
  });

  it('health checks find a dead connection, log it as the note does, and replace it', async () => {
    const { pool, clock, factory, logger } = await makePool({ healthCheckIntervalMs: 60_000 });
    factory.opened[0]!.healthy = false;
    await clock.advance(60_000);
    expect(pool.stats()).toMatchObject({ health_check_failures: 1, dead_connections_detected: 1, total_connections: 2 });
    expect(logger.messages('warn').some((m) => m.startsWith('Dead connection detected'))).toBe(true);
    expect(factory.opened[0]!.client.closed).toBe(true);
    consistent(pool, factory);
    await pool.close();
  });

  it('a health check that never answers is ended by its own bound', async () => {
    const { pool, clock, factory } = await makePool({ healthCheckIntervalMs: 10_000, healthCheckTimeoutMs: 2000 });
    factory.opened[1]!.hangs = true;
    await clock.advance(10_000);
    expect(pool.stats().health_check_failures).toBe(0);
    await clock.advance(2000);
    expect(pool.stats()).toMatchObject({ health_check_failures: 1, total_connections: 2 });
    await pool.close();
  });

  it('a lost socket evicts an idle connection at once; an active one when it comes back', async () => {
    const { pool, factory } = await makePool();
    const lease = await pool.acquire();
    const held = factory.opened.find((t) => t.client.id === lease.client.id)!;
    const idle = factory.opened.find((t) => t !== held)!;
    idle.lose();
    await flush();
    expect(idle.client.closed).toBe(true);
    held.lose();
    await flush();
    expect(held.client.closed).toBe(false); // still under its caller
    lease.release();
    await flush();
    expect(held.client.closed).toBe(true);
    expect(pool.stats()).toMatchObject({ dead_connections_detected: 2, total_connections: 2 });
    consistent(pool, factory);
    await pool.close();
  });

  it('re-creates with capped, jittered exponential backoff while the server is down', async () => {
    // random() = 0.5: delays are half of min(1000, 50 x 2^n): 25, 50, 100, 200, 400, 500, 500, ...
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 2, reconnectBaseMs: 50, reconnectMaxMs: 1000 });
    factory.down = true;
    factory.opened[0]!.lose();
    await flush();
    const attemptsAt = (n: number) => factory.attempts - 1 - n; // minus the warm-up open
    expect(attemptsAt(0)).toBe(1);
    const expected = [25, 50, 100, 200, 400, 500, 500];
    for (const delay of expected) {
      const before = factory.attempts;
      await clock.advance(delay - 1);
      expect(factory.attempts).toBe(before);
      await clock.advance(1);
      expect(factory.attempts).toBe(before + 1);
    }
    factory.down = false;
    await clock.advance(500);
    expect(pool.stats()).toMatchObject({ total_connections: 1, connect_failures: expected.length + 1 });
    await pool.close();
  });

  it('warns about a lease held past the leak threshold, with where it was acquired', async () => {
    const { pool, clock, logger } = await makePool({ leakDetectionThresholdMs: 30_000 });
    const lease = await pool.acquire();
    await clock.advance(30_000);
    const warning = logger.lines.find((l) => l.level === 'warn' && /possible leak/.test(l.msg));
    expect(warning?.msg).toMatch(/pool\.test\.ts/);
    expect(pool.stats().leak_warnings).toBe(1);
    lease.release();
    await pool.close();
  });
});

describe('multiplexed leases (maxStreamsPerConnection > 1)', () => {
  it('packs leases onto the hottest connection up to the stream limit, then grows, never above max', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 2, maxStreamsPerConnection: 3 });
    const first = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(new Set(first.map((l) => l.connectionId)).size).toBe(1);
    expect(pool.stats()).toMatchObject({ total_connections: 1, active_leases: 3, current_active: 1, available_connections: 0 });
    const more = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    expect(pool.stats()).toMatchObject({ total_connections: 2, active_leases: 6 });
    let seventh: Lease<FakeClient> | undefined;
    void pool.acquire().then((l) => (seventh = l));
    await clock.advance(10);
    expect(seventh).toBeUndefined();
    first[0]!.release();
    await flush();
    expect(seventh?.connectionId).toBe(first[0]!.connectionId);
    for (const l of [...first.slice(1), ...more, seventh!]) l.release();
    expect(pool.stats()).toMatchObject({ active_leases: 0, current_active: 0, current_idle: 2, available_connections: 2 });
    expect(pool.connections().every((c) => c.leases === 0)).toBe(true);
    consistent(pool, factory);
    await pool.close();
  });

  it('a connection that dies under several leases is closed when the last one comes back', async () => {
    const { pool, factory } = await makePool({ minConnections: 1, maxConnections: 1, maxStreamsPerConnection: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    factory.opened[0]!.lose();
    await flush();
    expect(factory.opened[0]!.client.closed).toBe(false);
    a!.release();
    expect(factory.opened[0]!.client.closed).toBe(false);
    b!.release();
    await flush();
    expect(factory.opened[0]!.client.closed).toBe(true);
    expect(pool.stats()).toMatchObject({ total_connections: 1, dead_connections_detected: 1 });
    await pool.close();
  });
});

describe('idle eviction', () => {
  it('lends the most recently used connection, and closes connections idle above min', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 4, idleTimeoutMs: 10_000, healthCheckIntervalMs: 60_000 });
    const burst = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const l of burst) l.release();
    expect(pool.stats().total_connections).toBe(4);
    // Light load afterwards: one caller at a time keeps reusing the same (hottest) connection.
    const used = new Set<number>();
    for (let i = 0; i < 20; i++) {
      await clock.advance(1000);
      const l = await pool.acquire();
      used.add(l.connectionId);
      l.release();
    }
    expect(used.size).toBe(1);
    expect(pool.stats()).toMatchObject({ total_connections: 1, idle_closed: 3 });
    consistent(pool, factory);
    await pool.close();
  });
});

describe('resize and close', () => {
  it('shrinks without dropping in-flight work and grows min at run time', async () => {
    const { pool, factory } = await makePool({ minConnections: 2, maxConnections: 4 });
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    pool.resize({ min: 1, max: 2 });
    expect(leases.every((l) => !l.client.closed)).toBe(true);
    for (const l of leases) l.release();
    await flush();
    expect(consistent(pool, factory)).toMatchObject({ total_connections: 2, max_connections: 2, min_connections: 1 });
    pool.resize({ min: 3, max: 5 });
    await flush();
    expect(consistent(pool, factory).total_connections).toBe(3);
    expect(() => pool.resize({ min: 6, max: 5 })).toThrow(RangeError);
    await pool.close();
  });

  it('close rejects waiters, waits for leases, closes everything and clears its timers', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 1 });
    const lease = await pool.acquire();
    const waiter = pool.acquire();
    const closing = pool.close();
    await expect(waiter).rejects.toBeInstanceOf(PoolClosedError);
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    lease.release();
    await closing;
    expect(factory.open.length).toBe(0);
    expect(clock.pending).toBe(0);
    expect(pool.stats()).toMatchObject({ total_connections: 0, total_connections_created: 1, total_connections_closed: 1 });
  });

  it('resize() after close() throws PoolClosedError instead of succeeding silently (issue 9, item 10)', async () => {
    const { pool } = await makePool();
    await pool.close();
    expect(() => pool.resize({ max: 3 })).toThrow(PoolClosedError);
  });

  it('close settles even when a lease is never returned', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 1 });
    await pool.acquire();
    const closing = pool.close({ timeoutMs: 1000 });
    await clock.advance(1000);
    await closing;
    expect(factory.open.length).toBe(0);
  });
});

describe('shrinking with several streams per connection (issue 9, item 5)', () => {
  it('a connection over the new max stops being lent and closes when its last lease ends; LIFO never refills it', async () => {
    const { pool, factory } = await makePool({ minConnections: 1, maxConnections: 4, maxStreamsPerConnection: 4 });
    const held = await Promise.all(Array.from({ length: 16 }, () => pool.acquire()));
    expect(pool.stats()).toMatchObject({ total_connections: 4, active_leases: 16 });
    pool.resize({ max: 2 });
    // Release down to 8 held (random ones), then cycle: release a random lease, acquire a new one.
    const rand = prng(9);
    const releaseOne = () => held.splice(Math.floor(rand() * held.length), 1)[0]!.release();
    for (let i = 0; i < 8; i++) releaseOne();
    for (let i = 0; i < 400; i++) {
      releaseOne();
      held.push(await pool.acquire({ timeoutMs: 1000 }));
    }
    await flush();
    const s = consistent(pool, factory);
    expect(s.total_connections).toBe(2);
    expect(factory.open.length).toBe(2);
    expect(new Set(held.map((l) => l.connectionId)).size).toBe(2);
    for (const l of held) l.release();
    await pool.close();
  });

  it('a retiring connection is still counted (it is open) until its last lease ends', async () => {
    const { pool, factory } = await makePool({ minConnections: 1, maxConnections: 2, maxStreamsPerConnection: 2 });
    const held = await Promise.all(Array.from({ length: 4 }, () => pool.acquire()));
    pool.resize({ max: 1 });
    expect(consistent(pool, factory)).toMatchObject({ total_connections: 2, current_active: 2, available_connections: 0 });
    const states = pool.connections().map((c) => c.state).sort();
    expect(states).toEqual(['leased', 'retiring']);
    for (const l of held) l.release();
    await flush();
    expect(consistent(pool, factory)).toMatchObject({ total_connections: 1, current_idle: 1 });
    await pool.close();
  });
});

describe('close while connections are being opened (issue 9, item 9)', () => {
  it('close() aborts the opens in flight and waits for them: nothing is opened after it resolves', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 4, maxStreamsPerConnection: 1 });
    factory.connectDelayMs = 50;
    await pool.acquire();
    const waiting = [pool.acquire(), pool.acquire()].map((p) => p.catch((e: unknown) => e));
    await clock.advance(10); // two opens are in flight
    expect(pool.stats().pending_creates).toBe(2);
    const openedBefore = factory.opened.length;
    const closing = pool.close({ timeoutMs: 5 });
    await clock.advance(5);
    await closing;
    expect(pool.stats().pending_creates).toBe(0);
    await clock.advance(100);
    expect(factory.opened.length).toBe(openedBefore);
    expect(factory.open.length).toBe(0);
    for (const e of await Promise.all(waiting)) expect(e).toBeInstanceOf(PoolClosedError);
  });
});

describe('close() is bounded even when the factory ignores its abort signal', () => {
  it('settles after connectTimeoutMs, and the late open is closed at once', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 2, maxStreamsPerConnection: 1, connectTimeoutMs: 1000 });
    const deaf = factory.create.bind(factory);
    factory.create = () => deaf(new AbortController().signal); // never sees an abort
    factory.connectDelayMs = 5000;
    await pool.acquire();
    const late = pool.acquire().catch((e: unknown) => e);
    await clock.advance(10);
    let closed = false;
    const closing = pool.close({ timeoutMs: 0 }).then(() => (closed = true));
    await clock.advance(1000);
    await closing;
    expect(closed).toBe(true);
    await clock.advance(5000); // the deaf open finishes now: what it opened is closed at once
    await flush();
    expect(factory.open.length).toBe(0);
    expect(await late).toBeInstanceOf(PoolClosedError);
  });
});

describe('legacy single connection', () => {
  it('close() waits for the leases out before closing the one connection, bounded by timeoutMs', async () => {
    const clock = new FakeClock();
    const factory = new ScriptedFactory(clock);
    const single = await new SingleConnection<FakeClient>(resolvePoolConfig({}, { VECTOR_STORE_USE_POOL: 'false' }), { factory, clock }).start();
    const lease = await single.acquire();
    const ran = await single.withConnection((client) => client.id);
    expect(ran).toBe(1);
    let closed = false;
    const closing = single.close({ timeoutMs: 5000 }).then(() => (closed = true));
    await clock.advance(1000);
    expect(closed).toBe(false);
    expect(factory.opened[0]!.client.closed).toBe(false); // not closed under its caller
    lease.release();
    await closing;
    expect(factory.open.length).toBe(0);
    // Never returned: close still settles at its bound.
    const other = await new SingleConnection<FakeClient>(resolvePoolConfig({}, { VECTOR_STORE_USE_POOL: 'false' }), { factory, clock }).start();
    await other.acquire();
    const bounded = other.close({ timeoutMs: 100 });
    await clock.advance(100);
    await bounded;
    expect(factory.open.length).toBe(0);
  });
});

describe('opt-in fallback', () => {
  it('serves a timed-out caller from one extra connection and shows it in stats', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 1, fallback: 'single-connection' });
    const held = await pool.acquire();
    const late = pool.acquire({ timeoutMs: 100 });
    await clock.advance(100);
    const lease = await late;
    expect(lease.connectionId).toBe(0);
    expect(pool.stats()).toMatchObject({ fallback_mode: 'single-connection', fallback_acquires: 1, fallback_connection_open: true, acquire_timeouts: 1 });
    expect(factory.open.length).toBe(2); // the pool's one + the fallback
    lease.release();
    held.release();
    await pool.close();
    expect(factory.open.length).toBe(0);
  });

  it('close() waits for the fallback lease like for pooled ones, then closes the fallback (issue 9, item 10)', async () => {
    const { pool, clock, factory } = await makePool({ minConnections: 1, maxConnections: 1, fallback: 'single-connection' });
    const held = await pool.acquire();
    const late = pool.acquire({ timeoutMs: 100 });
    await clock.advance(100);
    const lease = await late;
    held.release();
    const fallback = factory.opened[1]!;
    let closed = false;
    const closing = pool.close({ timeoutMs: 10_000 }).then(() => (closed = true));
    await clock.advance(1000);
    expect(closed).toBe(false);
    expect(fallback.client.closed).toBe(false); // not closed under its caller
    lease.release();
    await closing;
    expect(fallback.client.closed).toBe(true);
    expect(factory.open.length).toBe(0);
  });

  it('is off by default: a time-out is an error, never an empty result', async () => {
    const { pool, clock } = await makePool({ minConnections: 1, maxConnections: 1 });
    const held = await pool.acquire();
    const late = pool.acquire({ timeoutMs: 100 });
    const check = expect(late).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(100);
    await check;
    held.release();
    await pool.close();
  });
});
