/**
 * Concurrency invariants under randomised faults (in the spirit of tarn's random test): opens
 * fail half the time, sockets are lost, health checks fail, callers time out, abort, destroy and
 * resize, while the scripted clock jumps around. After every step:
 * - no connection carries more leases than maxStreamsPerConnection (counted by the test from the
 *   leases it holds, and from every 'lend' event);
 * - a connection is lent only from idle or leased: never while validating, retiring or closing,
 *   and never again once it was retiring;
 * - every count in stats() equals the list of connections by state (idle, active, available,
 *   leases), connections not retiring are <= max, created - closed = total = transports open;
 * - every state change is an allowed one (the pool throws otherwise);
 * and at the end every acquire promise has settled, and after close() nothing is being opened,
 * nothing is open, and nothing gets opened later.
 */
import { describe, expect, it } from 'vitest';
import { resolvePoolConfig } from '../../src/pool/config.ts';
import { ConnectionPool } from '../../src/pool/pool.ts';
import { prng } from '../../src/data/sample.ts';
import type { Lease } from '../../src/pool/types.ts';
import { MemoryLogger } from '../../src/log.ts';
import { FakeClock, flush } from '../support/fake-clock.ts';
import { ScriptedFactory, type FakeClient } from '../support/scripted-factory.ts';

describe.each([
  [1, 1], [2, 1], [3, 1], [4, 3], [5, 3], [6, 8],
])('pool under random faults (seed %i, %i streams per connection)', (seed, streams) => {
  it('keeps its invariants and settles every promise', async () => {
    const rand = prng(seed);
    const clock = new FakeClock(rand);
    const factory = new ScriptedFactory(clock);
    factory.connectDelayMs = 5;
    const config = resolvePoolConfig(
      { minConnections: 2, maxConnections: 6, maxStreamsPerConnection: streams, acquireTimeoutMs: 300, healthCheckIntervalMs: 200, healthCheckTimeoutMs: 50, connectionLifetimeMs: 2_000, connectTimeoutMs: 100 },
      {},
    );
    const pool = new ConnectionPool<FakeClient>(config, { factory, clock, logger: new MemoryLogger() });
    const starting = pool.start();
    await clock.advance(5); // opens take 5 ms of the scripted clock
    await starting;

    const held: Lease<FakeClient>[] = [];
    const inUse = new Map<number, number>(); // connection id -> leases held by the test
    const pending: Promise<unknown>[] = [];
    let settled = 0;
    let lent = 0;
    const goneOut = new Set<number>(); // connections that were retiring or closing at some point
    const violations: string[] = [];
    let retiredSeen = 0;
    pool.events.on('transition', (e) => {
      if (e.to === 'retiring' || e.to === 'closing') {
        goneOut.add(e.id);
        if (e.to === 'retiring') retiredSeen++;
      }
    });
    pool.events.on('lend', (e) => {
      if (e.from !== 'idle' && e.from !== 'leased') violations.push(`lent connection ${e.id} from ${e.from}`);
      if (goneOut.has(e.id)) violations.push(`lent connection ${e.id} after it was retired`);
      if (e.leases > streams) violations.push(`connection ${e.id} carries ${e.leases} leases`);
    });

    const check = () => {
      expect(violations).toEqual([]);
      const s = pool.stats();
      const conns = pool.connections();
      const inState = (...states: string[]) => conns.filter((c) => states.includes(c.state));
      expect(s.current_idle).toBe(inState('idle').length);
      expect(s.current_active).toBe(inState('leased', 'validating', 'retiring').length);
      expect(conns.length).toBe(s.total_connections);
      expect(s.available_connections).toBe(conns.filter((c) => c.state === 'idle' || (c.state === 'leased' && c.leases < streams)).length);
      expect(conns.reduce((n, c) => n + c.leases, 0)).toBe(s.active_leases);
      for (const c of conns) {
        expect(c.leases).toBeLessThanOrEqual(streams);
        if (c.state === 'idle') expect(c.leases).toBe(0);
        if (c.state === 'leased') expect(c.leases).toBeGreaterThan(0);
      }
      expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);
      // Above max only by connections on their way out (retiring: still open under a lease).
      expect(s.total_connections - inState('retiring').length).toBeLessThanOrEqual(s.max_connections);
      expect(factory.open.length).toBe(s.total_connections);
    };

    for (let step = 0; step < 600; step++) {
      const r = rand();
      if (r < 0.35) {
        const controller = new AbortController();
        const p = pool.acquire({ timeoutMs: 10 + Math.floor(rand() * 300), signal: controller.signal }).then(
          (lease) => {
            lent++;
            // Never more leases on one connection than it may carry.
            const n = (inUse.get(lease.connectionId) ?? 0) + 1;
            expect(n).toBeLessThanOrEqual(streams);
            inUse.set(lease.connectionId, n);
            held.push(lease);
          },
          () => {},
        ).finally(() => settled++);
        pending.push(p);
        if (rand() < 0.1) controller.abort(new Error('random abort'));
      } else if (r < 0.6 && held.length > 0) {
        const lease = held.splice(Math.floor(rand() * held.length), 1)[0]!;
        inUse.set(lease.connectionId, inUse.get(lease.connectionId)! - 1);
        if (rand() < 0.15) lease.destroy('random destroy');
        else lease.release();
      } else if (r < 0.67) {
        const open = factory.open;
        open[Math.floor(rand() * open.length)]?.lose();
      } else if (r < 0.72) {
        const open = factory.open;
        const t = open[Math.floor(rand() * open.length)];
        if (t) t.healthy = rand() < 0.5;
      } else if (r < 0.78) {
        factory.failNext = Math.floor(rand() * 3);
      } else if (r < 0.8) {
        const max = 1 + Math.floor(rand() * 7);
        pool.resize({ min: Math.floor(rand() * (max + 1)), max });
      } else {
        await clock.advance(Math.floor(rand() * 120));
      }
      await flush(2);
      check();
    }

    // Wind down: waiters still get leases as others come back, so release until none are held.
    pool.resize({ min: 2, max: 6 });
    for (let round = 0; round < 20; round++) {
      for (const lease of held.splice(0)) {
        inUse.set(lease.connectionId, inUse.get(lease.connectionId)! - 1);
        lease.release();
      }
      await clock.advance(500);
    }
    expect(held.length).toBe(0);
    await Promise.all(pending);
    expect(settled).toBe(pending.length);
    expect(lent).toBeGreaterThan(50);
    check();
    const s = pool.stats();
    expect(s.total_connections).toBeGreaterThanOrEqual(2);
    expect(s.waiting).toBe(0);
    expect(retiredSeen).toBeGreaterThan(0); // the run did retire connections under leases

    // Close while opens are in flight and callers wait: nothing is opened after close() resolves.
    factory.connectDelayMs = 50;
    const held2 = await Promise.all(Array.from({ length: s.total_connections * streams }, () => pool.acquire({ timeoutMs: 10_000 })));
    const late = Array.from({ length: 3 }, () => pool.acquire({ timeoutMs: 10_000 }).catch((e: unknown) => e));
    await clock.advance(10);
    const closing = pool.close({ timeoutMs: 20 });
    await clock.advance(20);
    await closing;
    expect(pool.stats().pending_creates).toBe(0);
    expect(factory.open.length).toBe(0);
    const opened = factory.opened.length;
    await clock.advance(1000);
    expect(factory.opened.length).toBe(opened);
    for (const e of await Promise.all(late)) expect(e).toMatchObject({ code: 'WEX_POOL_CLOSED' });
    for (const l of held2) l.release();
    check();
  });
});
