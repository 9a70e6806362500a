/**
 * Concurrency invariants under randomised faults (in the spirit of tarn's random test): opens
 * fail half the time, sockets are lost, health checks fail, callers time out, abort, destroy and
 * resize, while the scripted clock jumps around. After every step:
 * - no connection carries more leases than maxStreamsPerConnection;
 * - active + idle = total <= max (above max only by leased connections, right after a shrink),
 *   and created - closed = total = transports actually open;
 * and at the end every acquire promise has settled.
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

    const check = () => {
      const s = pool.stats();
      expect(s.current_active + s.current_idle).toBe(s.total_connections);
      expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);
      // Above max only right after a shrink, and then only by connections still under callers.
      if (s.total_connections > s.max_connections) expect(s.current_idle).toBe(0);
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
    await pool.close();
    expect(factory.open.length).toBe(0);
  });
});
