/**
 * Per-node adaptive limits (`nodeAdaptive`): the pure routing and waiting parts
 * (src/cluster/node-limit.ts), the multi-pool that routes with them (scripted nodes, a manual
 * clock), the hedge admission, and the option's validation.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HEDGE_DEFAULTS, Hedger, MIN_SAMPLES } from '../../src/cluster/hedge.ts';
import { belowLimit, forNodePool, NodeSlotQueue, underLimit } from '../../src/cluster/node-limit.ts';
import { ConfigError, TimeoutError } from '../../src/errors.ts';
import { registerExecutorMetrics } from '../../src/metrics/prometheus.ts';
import { resolvePoolConfig, type PoolOptions } from '../../src/pool/config.ts';
import type { Lease } from '../../src/pool/types.ts';
import { FakeClock, flush } from '../support/fake-clock.ts';
import type { FakeClient } from '../support/scripted-factory.ts';
import { nodeOf, scriptedCluster } from '../support/scripted-cluster.ts';

describe('underLimit / belowLimit', () => {
  it('keeps the nodes whose in-flight count is below their limit (no limit: always), in order', () => {
    const nodes = [
      { name: 'a', inFlight: 2, limit: 2 },
      { name: 'b', inFlight: 1, limit: 2 },
      { name: 'c', inFlight: 9, limit: undefined },
      { name: 'd', inFlight: 0, limit: 1 },
      { name: 'e', inFlight: 3, limit: 1 }, // above its limit (the limit fell while requests ran)
    ];
    expect(underLimit(nodes).map((n) => n.name)).toEqual(['b', 'c', 'd']);
    expect(belowLimit({ inFlight: 0, limit: 1 })).toBe(true);
    expect(belowLimit({ inFlight: 1, limit: 1 })).toBe(false);
    expect(underLimit([])).toEqual([]);
  });

  it('forNodePool caps max (and initial, min) at the node pool slots', () => {
    const config = resolvePoolConfig({ nodeAdaptive: { initialLimit: 8, minLimit: 4, maxLimit: 40 }, maxConnections: 10 }, {}).nodeAdaptive!;
    expect(forNodePool(config, 6)).toMatchObject({ maxLimit: 6, minLimit: 4, initialLimit: 6 });
    expect(forNodePool(config, 2)).toMatchObject({ maxLimit: 2, minLimit: 2, initialLimit: 2 });
    expect(forNodePool(config, 100)).toMatchObject({ maxLimit: 40, minLimit: 4, initialLimit: 8 });
  });
});

describe('NodeSlotQueue', () => {
  /** A node list whose in-flight counts the test moves; `take` reserves one below its limit. */
  function nodes(limits: number[]) {
    const inFlight = limits.map(() => 0);
    const take = (exclude: ReadonlySet<number> = new Set()) => () => {
      const i = limits.findIndex((l, j) => !exclude.has(j) && inFlight[j]! < l);
      if (i < 0) return undefined;
      inFlight[i]!++;
      return { node: i };
    };
    const anyFree = () => limits.some((l, j) => inFlight[j]! < l);
    return { inFlight, take, anyFree };
  }

  it('serves waiters in arrival order as slots free, and only while a slot is free', async () => {
    const clock = new FakeClock();
    const q = new NodeSlotQueue<number>(clock);
    const n = nodes([1, 1]);
    n.inFlight[0] = 1;
    n.inFlight[1] = 1;
    const order: string[] = [];
    const a = q.wait(n.take(), { timeoutMs: 1000, onTimeout: () => new Error('t') }).then((i) => order.push(`a@${i}`));
    const b = q.wait(n.take(), { timeoutMs: 1000, onTimeout: () => new Error('t') }).then((i) => order.push(`b@${i}`));
    await flush();
    expect(q.size).toBe(2);
    expect(order).toEqual([]);
    n.inFlight[1] = 0; // node 1 frees a slot: the first waiter takes it, the second keeps waiting
    q.offer(n.anyFree);
    await flush();
    expect(order).toEqual(['a@1']);
    expect(q.size).toBe(1);
    n.inFlight[0] = 0;
    q.offer(n.anyFree);
    await Promise.all([a, b]);
    expect(order).toEqual(['a@1', 'b@0']);
    expect(q).toMatchObject({ size: 0, timeouts: 0 });
    expect(clock.pending).toBe(0); // their timers are gone
  });

  it('a waiter that cannot use the free slot (its exclusions) is passed over and keeps its place', async () => {
    const clock = new FakeClock();
    const q = new NodeSlotQueue<number>(clock);
    const n = nodes([1, 1]);
    n.inFlight[0] = n.inFlight[1] = 1;
    const got: string[] = [];
    const first = q.wait(n.take(new Set([0])), { timeoutMs: 1000, onTimeout: () => new Error('t') }).then((i) => got.push(`first@${i}`));
    const second = q.wait(n.take(), { timeoutMs: 1000, onTimeout: () => new Error('t') }).then((i) => got.push(`second@${i}`));
    n.inFlight[0] = 0;
    q.offer(n.anyFree);
    await flush();
    expect(got).toEqual(['second@0']);
    n.inFlight[1] = 0;
    q.offer(n.anyFree);
    await Promise.all([first, second]);
    expect(got).toEqual(['second@0', 'first@1']);
  });

  it('times out with the error given (and leaves the queue); never waits past its bound', async () => {
    const clock = new FakeClock();
    const q = new NodeSlotQueue<number>(clock);
    const n = nodes([1]);
    n.inFlight[0] = 1;
    const waiting = q.wait(n.take(), { timeoutMs: 500, onTimeout: () => new TimeoutError('Failed to get connection within 0.5 seconds', {}) });
    const settled = waiting.then(() => 'resolved', (e: { code?: string }) => e.code);
    await clock.advance(499);
    expect(q.size).toBe(1);
    await clock.advance(1);
    expect(await settled).toBe('WEX_POOL_TIMEOUT');
    expect(q).toMatchObject({ size: 0, timeouts: 1 });
    // A slot freed after the time-out goes to nobody (the waiter left).
    n.inFlight[0] = 0;
    q.offer(n.anyFree);
    expect(n.inFlight[0]).toBe(0);
  });

  it('an aborted waiter leaves the queue at once with AbortError; an aborted signal never enqueues', async () => {
    const clock = new FakeClock();
    const q = new NodeSlotQueue<number>(clock);
    const n = nodes([1]);
    n.inFlight[0] = 1;
    const ac = new AbortController();
    const waiting = q.wait(n.take(), { timeoutMs: 10_000, signal: ac.signal, onTimeout: () => new Error('t') });
    const other = q.wait(n.take(), { timeoutMs: 10_000, onTimeout: () => new Error('t') });
    ac.abort(new Error('caller gave up'));
    await expect(waiting).rejects.toMatchObject({ code: 'WEX_ABORTED', message: expect.stringMatching(/caller gave up/) });
    expect(q.size).toBe(1);
    expect(clock.pending).toBe(1); // the aborted waiter's timer is cleared
    n.inFlight[0] = 0;
    q.offer(n.anyFree);
    await expect(other).resolves.toBe(0);
    await expect(q.wait(n.take(), { timeoutMs: 10, signal: ac.signal, onTimeout: () => new Error('t') })).rejects.toMatchObject({ code: 'WEX_ABORTED' });
    expect(q.size).toBe(0);
  });

  it('a take that answers an error rejects that waiter; rejectAll fails every waiter', async () => {
    const clock = new FakeClock();
    const q = new NodeSlotQueue<number>(clock);
    const failing = q.wait(() => new Error('no node at all'), { timeoutMs: 1000, onTimeout: () => new Error('t') });
    await expect(failing).rejects.toThrow('no node at all');
    const a = q.wait(() => undefined, { timeoutMs: 1000, onTimeout: () => new Error('t') });
    const b = q.wait(() => undefined, { timeoutMs: 1000, onTimeout: () => new Error('t') });
    q.rejectAll(new Error('closed'));
    await expect(a).rejects.toThrow('closed');
    await expect(b).rejects.toThrow('closed');
    expect(q.size).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

/** Limits held at 2 (min = max), so only P2C's choice moves. */
function pinnedSetup(extra: PoolOptions = {}) {
  return setup({ nodeAdaptive: { probeSamples: 0, initialLimit: 2, minLimit: 2, maxLimit: 2 }, ...extra });
}

/**
 * Give every node a latency EWMA: rounds of 6 callers, each holding its lease for its node's
 * latency (ms), until each node served some.
 */
async function warm(pool: ReturnType<typeof setup>['pool'], clock: FakeClock, latencyMs: readonly number[]) {
  for (let round = 0; round < 20 && pool.nodeStats().some((n) => n.latency_ewma_ms === null); round++) {
    const done = Array.from({ length: 6 }, () => pool.acquire().then((l) => new Promise<void>((resolve) => clock.setTimeout(() => {
      l.release();
      resolve();
    }, latencyMs[nodeOf(l)]!))));
    for (let t = 0; t < 2 * Math.max(...latencyMs) + 10; t++) await clock.advance(1);
    await Promise.all(done);
  }
}

function setup(extra: PoolOptions = {}) {
  return scriptedCluster({
    minConnections: 1, maxConnections: 4, maxStreamsPerConnection: 2, acquireTimeoutMs: 5000,
    nodeAdaptive: { probeSamples: 0, initialLimit: 2, minLimit: 1 },
    ...extra,
  }, { seed: 7 });
}

describe('MultiNodePool with per-node adaptive limits', () => {
  it('round robin: skips a node at its limit; with every node at its limit a caller waits and takes the first slot that frees', async () => {
    const { pool } = setup({ balancing: 'round-robin' });
    await pool.start();
    const leases = await Promise.all(Array.from({ length: 6 }, () => pool.acquire()));
    const perNode = [0, 0, 0];
    for (const l of leases) perNode[nodeOf(l)]!++;
    expect(perNode).toEqual([2, 2, 2]); // each node at its limit (2), none above
    expect(pool.nodeStats().map((n) => [n.outstanding, n.adaptive?.limit])).toEqual([[2, 2], [2, 2], [2, 2]]);

    let got: Lease<FakeClient> | undefined;
    const waiting = pool.acquire().then((l) => (got = l));
    await flush();
    expect(got).toBeUndefined();
    expect(pool.stats().node_limit).toEqual({ waiting: 1, waited: 1, timeouts: 0 });
    const freed = leases.find((l) => nodeOf(l) === 1)!;
    freed.release();
    await waiting;
    expect(nodeOf(got!)).toBe(1); // the node that freed a slot
    expect(pool.nodeStats()[1]!.outstanding).toBe(2);
    got!.release();
    for (const l of leases) l.release();
    await pool.close();
  });

  it('the wait is bounded: TimeoutError (as a connection wait) naming each node\'s in-flight count and limit; an aborted caller leaves the queue', async () => {
    const { pool, clock } = setup();
    await pool.start();
    const leases = await Promise.all(Array.from({ length: 6 }, () => pool.acquire()));
    const timedOut = pool.acquire({ timeoutMs: 300 }).then(() => 'resolved', (e: unknown) => e);
    const ac = new AbortController();
    const aborted = pool.acquire({ signal: ac.signal }).then(() => 'resolved', (e: unknown) => e);
    await clock.advance(100);
    ac.abort(new Error('the caller gave up'));
    expect(await aborted).toMatchObject({ code: 'WEX_ABORTED' });
    expect(pool.stats().node_limit!.waiting).toBe(1);
    await clock.advance(200);
    const error = await timedOut;
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(/Failed to get connection within 0\.3 seconds: node [abc]:50051 \(chosen by least-loaded\) at its adaptive concurrency limit \(a:50051 2\/2; b:50051 2\/2; c:50051 2\/2/);
    expect(pool.stats().node_limit).toEqual({ waiting: 0, waited: 2, timeouts: 1 });
    expect(pool.nodeStats().map((n) => n.slot_waiting)).toEqual([0, 0, 0]); // neither left a count behind
    // Nothing was reserved for them: the slots freed later go to nobody stale.
    for (const l of leases) l.release();
    expect(pool.nodeStats().map((n) => n.outstanding)).toEqual([0, 0, 0]);
    await pool.close();
  });

  it('close() fails the waiters (typed) and nothing is left waiting', async () => {
    const { pool } = setup();
    await pool.start();
    const leases = await Promise.all(Array.from({ length: 6 }, () => pool.acquire()));
    const waiting = [pool.acquire(), pool.acquire({ timeoutMs: 60_000 })].map((p) => p.then(() => 'resolved', (e: { code?: string }) => e.code));
    await flush();
    expect(pool.stats().node_limit!.waiting).toBe(2);
    const closing = pool.close({ timeoutMs: 0 });
    expect(await Promise.all(waiting)).toEqual(['WEX_POOL_CLOSED', 'WEX_POOL_CLOSED']);
    expect(pool.stats().node_limit!.waiting).toBe(0);
    for (const l of leases) l.release();
    await closing;
  });

  it("a node whose round trips grow with its in-flight count gets a lower limit, and fewer requests, than the others", async () => {
    // A short no-load probe first (the default is 50 requests): without it Gradient2 takes the
    // first, already loaded, round trips as normal.
    const { pool, clock } = setup({ nodeAdaptive: { probeSamples: 10, initialLimit: 4, minLimit: 1 }, balancing: 'round-robin' });
    await pool.start();
    // A closed loop of 12 callers; node c (index 2) takes 5 ms per request it has in flight
    // (a node that queues), a and b 1 ms whatever their load.
    const served = [0, 0, 0];
    let running = true;
    const caller = async () => {
      while (running) {
        const lease = await pool.acquire();
        const node = nodeOf(lease);
        served[node]!++;
        const inFlight = pool.nodeStats()[node]!.outstanding;
        await clock.advance(0);
        await new Promise<void>((resolve) => clock.setTimeout(resolve, node === 2 ? 5 * inFlight : 1));
        lease.release();
      }
    };
    const callers = Array.from({ length: 12 }, () => caller());
    for (let t = 0; t < 3000; t += 10) await clock.advance(10);
    const limits = pool.nodeStats().map((n) => n.adaptive!.limit);
    running = false;
    for (let t = 0; t < 200; t += 10) await clock.advance(10);
    await Promise.all(callers);
    expect(limits[2]).toBeLessThan(Math.min(limits[0]!, limits[1]!));
    expect(pool.nodeStats()[2]!.adaptive!.changes).toBeGreaterThan(0);
    // Round robin alone would give each node a third: the limit moved work off the slow node.
    expect(served[2]! / (served[0]! + served[1]! + served[2]!)).toBeLessThan(0.2);
    await pool.close();
  });

  it('least-loaded: P2C chooses among every node, a full one too, and the caller waits for THAT node rather than going to a much slower one', async () => {
    const { pool, clock } = pinnedSetup();
    await pool.start();
    await warm(pool, clock, [1, 1, 50]); // node c answers in 50 ms, a and b in 1 ms
    expect(pool.nodeStats().map((n) => n.latency_ewma_ms)).toEqual([1, 1, 50]);
    const leases: Lease<FakeClient>[] = [];
    const all = Array.from({ length: 6 }, () => pool.acquire().then((l) => leases.push(l)));
    await flush();
    const stats = pool.nodeStats();
    // a and b at their limit (2), the other two callers queued on them; c (50x dearer) got nothing.
    expect(stats.map((n) => n.outstanding)).toEqual([2, 2, 0]);
    expect(stats[0]!.slot_waiting + stats[1]!.slot_waiting).toBe(2);
    expect(stats[2]!.slot_waiting).toBe(0);
    expect(pool.stats().node_limit).toMatchObject({ waiting: 2, waited: 2 });
    // A slot that frees on a node goes to a caller waiting for that node.
    const waitingOn = stats.map((n) => n.slot_waiting);
    for (const node of [0, 1]) {
      for (let k = 0; k < waitingOn[node]!; k++) {
        const before = leases.length;
        leases.find((l) => nodeOf(l) === node)!.release();
        leases.splice(leases.findIndex((l) => nodeOf(l) === node), 1);
        await flush();
        expect(leases.length).toBe(before); // one released, one served
        expect(nodeOf(leases.at(-1)!)).toBe(node);
      }
    }
    await Promise.all(all);
    expect(pool.nodeStats().map((n) => [n.outstanding, n.slot_waiting])).toEqual([[2, 0], [2, 0], [0, 0]]);
    for (const l of leases) l.release();
    await pool.close();
  });

  it('least-loaded: the queued callers count in P2C\'s cost, so once a full node\'s queue outweighs a slower node\'s latency, new callers go there', async () => {
    const { pool, clock } = pinnedSetup();
    await pool.start();
    await warm(pool, clock, [1, 1, 5]); // c is only 5x slower
    const leases: Lease<FakeClient>[] = [];
    const callers = Array.from({ length: 12 }, () => pool.acquire().then((l) => leases.push(l), (e: { code?: string }) => e.code));
    await flush();
    const stats = pool.nodeStats();
    const load = stats.map((n) => n.outstanding + n.slot_waiting);
    expect(load.reduce((x, y) => x + y, 0)).toBe(12);
    expect(stats.map((n) => n.outstanding).slice(0, 2)).toEqual([2, 2]);
    // Cost of a or b: (2 in flight + w waiting + 1) x 1 ms; of c: (in flight + 1) x 5 ms. c got
    // work once a and b had several callers queued, and less of it than they.
    expect(stats[2]!.outstanding).toBeGreaterThanOrEqual(1);
    expect(Math.min(stats[0]!.slot_waiting, stats[1]!.slot_waiting)).toBeGreaterThanOrEqual(2);
    expect(load[2]).toBeLessThan(Math.min(load[0]!, load[1]!));
    const closing = pool.close({ timeoutMs: 0 });
    for (const l of leases) l.release();
    await closing;
    // Those still waiting fail typed when the pool closes; none is left hanging.
    expect((await Promise.all(callers)).filter((x) => x === 'WEX_POOL_CLOSED')).toHaveLength(stats.reduce((x, n) => x + n.slot_waiting, 0));
  });

  it('least-loaded: a free slot is not left idle while callers queue for a node that is no better (the head of a queue takes it)', async () => {
    const { pool, clock } = pinnedSetup();
    await pool.start();
    await warm(pool, clock, [1, 1, 1]);
    const leases: Lease<FakeClient>[] = [];
    void Promise.all(Array.from({ length: 9 }, () => pool.acquire().then((l) => leases.push(l))));
    await flush();
    // A full node's queue costs more than a free node as good: 6 in flight (2 each), 3 waiting.
    expect(pool.nodeStats().map((n) => n.outstanding)).toEqual([2, 2, 2]);
    expect(pool.stats().node_limit!.waiting).toBe(3);
    for (let k = 3; k > 0; k--) {
      // Free a slot where the fewest wait (none, after the first rounds): somebody takes it.
      const stats = pool.nodeStats();
      const node = stats.reduce((m, n, i) => (n.slot_waiting < stats[m]!.slot_waiting ? i : m), 0);
      const i = leases.findIndex((l) => nodeOf(l) === node);
      leases.splice(i, 1)[0]!.release();
      await flush();
      expect(pool.stats().node_limit!.waiting).toBe(k - 1);
      expect(pool.nodeStats().reduce((a, n) => a + n.outstanding, 0)).toBe(6);
    }
    for (const l of leases) l.release();
    await pool.close();
  });

  it('least-loaded: a waiter whose node is ejected chooses again (and gets a node below its limit); round robin keeps the gate', async () => {
    const { pool, clock } = pinnedSetup();
    await pool.start();
    await warm(pool, clock, [1, 50, 50]); // a is the cheap one
    const held = await Promise.all([pool.acquire(), pool.acquire()]);
    expect(held.map(nodeOf)).toEqual([0, 0]); // a at its limit
    let got: Lease<FakeClient> | undefined;
    const waiting = pool.acquire().then((l) => (got = l));
    await flush();
    expect(got).toBeUndefined(); // waits for a: (2 + 1) x 1 ms < (0 + 1) x 50 ms
    expect(pool.nodeStats().map((n) => n.slot_waiting)).toEqual([1, 0, 0]);
    pool.detector.forceEject(0, 'test');
    await waiting;
    expect(nodeOf(got!)).not.toBe(0);
    expect(pool.nodeStats().map((n) => n.slot_waiting)).toEqual([0, 0, 0]);
    for (const l of [...held, got!]) l.release();
    await pool.close();

    // The same loads under round robin: a full node is no candidate, the caller goes on at once.
    const rr = pinnedSetup({ balancing: 'round-robin' });
    await rr.pool.start();
    const rrHeld = await Promise.all(Array.from({ length: 5 }, () => rr.pool.acquire()));
    expect(rrHeld.map(nodeOf).sort()).toEqual([0, 0, 1, 1, 2]);
    expect(rr.pool.nodeStats().map((n) => n.slot_waiting)).toEqual([0, 0, 0]);
    for (const l of rrHeld) l.release();
    await rr.pool.close();
  });

  it('least-loaded: a waiter whose node is ejected and who waits again for another node counts once in `waited`', async () => {
    const { pool, clock } = pinnedSetup();
    await pool.start();
    await warm(pool, clock, [1, 1, 1]);
    const held = await Promise.all(Array.from({ length: 6 }, () => pool.acquire()));
    expect(pool.nodeStats().map((n) => n.outstanding)).toEqual([2, 2, 2]); // every node at its limit
    let got: Lease<FakeClient> | undefined;
    const waiting = pool.acquire().then((l) => (got = l));
    await flush();
    const first = pool.nodeStats().findIndex((n) => n.slot_waiting === 1);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(pool.stats().node_limit).toEqual({ waiting: 1, waited: 1, timeouts: 0 });
    pool.detector.forceEject(first, 'test');
    await flush();
    // It chose again among the two others, both at their limit: it waits for one of them now.
    const second = pool.nodeStats().findIndex((n) => n.slot_waiting === 1);
    expect(second).toBeGreaterThanOrEqual(0);
    expect(second).not.toBe(first);
    expect(got).toBeUndefined();
    expect(pool.stats().node_limit).toEqual({ waiting: 1, waited: 1, timeouts: 0 });
    held.find((l) => nodeOf(l) === second)!.release();
    await waiting;
    expect(nodeOf(got!)).toBe(second);
    expect(pool.stats().node_limit).toEqual({ waiting: 0, waited: 1, timeouts: 0 });
    for (const l of [...held, got!]) l.release();
    await pool.close();
  });

  it('canHedge: a hedge may go out only to another node below its limit (always, with limits off)', async () => {
    const { pool } = setup({ nodeAdaptive: { probeSamples: 0, initialLimit: 1, minLimit: 1, maxLimit: 1 } });
    await pool.start();
    const first = await pool.acquire();
    const used = new Set([nodeOf(first)]);
    expect(pool.canHedge(used)).toBe(true);
    const others = await Promise.all([pool.acquire(), pool.acquire()]);
    expect(new Set([first, ...others].map(nodeOf)).size).toBe(3);
    expect(pool.canHedge(used)).toBe(false); // the other two are at their limit
    others[0]!.release();
    expect(pool.canHedge(used)).toBe(true);
    for (const l of [first, ...others]) l.release();
    await pool.close();

    const off = setup({ nodeAdaptive: false });
    await off.pool.start();
    expect(off.pool.canHedge(new Set([0, 1, 2]))).toBe(true);
    expect(off.pool.nodeStats()[0]!.adaptive).toBeNull();
    expect(off.pool.stats().node_limit).toBeUndefined();
    await off.pool.close();
  });

  it('resize() moves each node limit\'s max with its pool\'s slots (a given maxLimit still caps it); a limit above a smaller max comes down', async () => {
    // 4 connections x 2 streams = 8 slots per node.
    const { pool } = setup({ nodeAdaptive: { probeSamples: 0, initialLimit: 8, minLimit: 1 }, balancing: 'round-robin' });
    await pool.start();
    expect(pool.nodeStats().map((n) => [n.adaptive!.max_limit, n.adaptive!.limit])).toEqual([[8, 8], [8, 8], [8, 8]]);
    pool.resize({ max: 6 }); // 12 slots per node
    expect(pool.nodeStats().map((n) => n.adaptive!.max_limit)).toEqual([12, 12, 12]);
    expect(pool.nodeStats()[0]!.adaptive!.limit).toBe(8); // a larger max lets it climb; it does not jump
    pool.resize({ max: 2 }); // 4 slots per node
    expect(pool.nodeStats().map((n) => [n.adaptive!.max_limit, n.adaptive!.limit])).toEqual([[4, 4], [4, 4], [4, 4]]);
    // Admission follows at once: a node takes 4, not 8.
    const leases = await Promise.all(Array.from({ length: 12 }, () => pool.acquire()));
    expect(pool.nodeStats().map((n) => n.outstanding)).toEqual([4, 4, 4]);
    for (const l of leases) l.release();
    await pool.close();

    const capped = setup({ nodeAdaptive: { probeSamples: 0, initialLimit: 2, minLimit: 1, maxLimit: 5 } });
    await capped.pool.start();
    expect(capped.pool.nodeStats()[0]!.adaptive!.max_limit).toBe(5);
    capped.pool.resize({ max: 6 });
    expect(capped.pool.nodeStats()[0]!.adaptive!.max_limit).toBe(5); // the given max holds
    capped.pool.resize({ max: 1 });
    expect(capped.pool.nodeStats()[0]!.adaptive!.max_limit).toBe(2);
    capped.pool.resize({ max: 4 });
    expect(capped.pool.nodeStats()[0]!.adaptive!.max_limit).toBe(5);
    await capped.pool.close();
  });

  it('stats: each node carries its limit snapshot; ejection keeps it', async () => {
    const { pool } = setup();
    await pool.start();
    const s = pool.nodeStats()[0]!.adaptive!;
    expect(s).toMatchObject({ limit: 2, min_limit: 1, max_limit: 8, probing: false, changes: 0 });
    expect(s).not.toHaveProperty('guard_ceiling'); // no tail guard on a node
    pool.detector.forceEject(0, 'test');
    expect(pool.nodeStats()[0]!).toMatchObject({ health: 'ejected', adaptive: { limit: 2 } });
    await pool.close();
  });
});

describe('Hedger admission (node limits)', () => {
  it('skips a due hedge when admit says no: counted, the budget untouched, the read still answers', async () => {
    const h = new Hedger();
    const config = { ...HEDGE_DEFAULTS, lanes: ['normal'], maxExtraPercent: 50, minDelayMs: 1 };
    for (let i = 0; i < MIN_SAMPLES; i++) await h.run('normal', config, new AbortController().signal, () => sleep(1).then(() => 'x'));
    let copies = 0;
    const slow = () => {
      copies++;
      return sleep(40).then(() => 'answer');
    };
    await expect(h.run('normal', config, new AbortController().signal, slow, () => false)).resolves.toBe('answer');
    expect(copies).toBe(1);
    expect(h.stats()).toMatchObject({ hedges_started: 0, hedges_refused: 0, hedges_skipped_node_limit: 1 });
    copies = 0;
    await h.run('normal', config, new AbortController().signal, slow, () => true);
    expect(copies).toBe(2);
    expect(h.stats()).toMatchObject({ hedges_started: 1, hedges_skipped_node_limit: 1 });
  });
});

describe('nodeAdaptive configuration', () => {
  it('off by default; true, an object or VECTOR_STORE_NODE_ADAPTIVE turn it on; max defaults to the slots', () => {
    expect(resolvePoolConfig({}, {}).nodeAdaptive).toBeUndefined();
    expect(resolvePoolConfig({ nodeAdaptive: false }, { VECTOR_STORE_NODE_ADAPTIVE: 'true' }).nodeAdaptive).toBeUndefined();
    const on = resolvePoolConfig({ nodeAdaptive: true, maxConnections: 5, maxStreamsPerConnection: 4 }, {}).nodeAdaptive!;
    expect(on).toMatchObject({ maxLimit: 20, minLimit: 1, initialLimit: 2, probeSamples: 50, protect: [] });
    // A worker resolves the main thread's resolved configuration again: the same limit comes out.
    expect(resolvePoolConfig({ nodeAdaptive: on }, {}).nodeAdaptive).toEqual(on);
    // Without a given maxLimit each node's max follows its pool's slots (also after resize()); a given one is kept.
    expect(on.maxLimitFromSlots).toBe(true);
    const given = resolvePoolConfig({ nodeAdaptive: { maxLimit: 7 } }, {}).nodeAdaptive!;
    expect(given).toMatchObject({ maxLimit: 7, maxLimitFromSlots: false });
    expect(resolvePoolConfig({ nodeAdaptive: given }, {}).nodeAdaptive).toEqual(given);
    expect(forNodePool(on, 12).maxLimit).toBe(12);
    expect(forNodePool(given, 12).maxLimit).toBe(7);
    expect(resolvePoolConfig({}, { VECTOR_STORE_NODE_ADAPTIVE: '1' }).nodeAdaptive).toMatchObject({ initialLimit: 2 });
    expect(resolvePoolConfig({}, { VECTOR_STORE_NODE_ADAPTIVE: 'off' }).nodeAdaptive).toBeUndefined();
    expect(resolvePoolConfig({ nodeAdaptive: { tolerance: 1.5, probeSamples: 0 } }, {}).nodeAdaptive).toMatchObject({ tolerance: 1.5, probeSamples: 0 });
  });

  it('bad values: a ConfigError naming the option or the variable', () => {
    const bad = (options: PoolOptions, env: Record<string, string> = {}) => {
      try {
        resolvePoolConfig(options, env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad({}, { VECTOR_STORE_NODE_ADAPTIVE: 'maybe' })).toMatch(/`VECTOR_STORE_NODE_ADAPTIVE` to be a boolean/);
    expect(bad({ nodeAdaptive: 'yes' as never })).toMatch(/`nodeAdaptive` to be a boolean or an object/);
    expect(bad({ nodeAdaptive: { maxLimit: 0 } })).toMatch(/`nodeAdaptive\.maxLimit`/);
    expect(bad({ nodeAdaptive: { tolerance: 0.5 } })).toMatch(/`nodeAdaptive\.tolerance`/);
    expect(bad({ nodeAdaptive: { limit: 3 } as never })).toMatch(/nodeAdaptive\.limit/);
    expect(bad({ nodeAdaptive: { protect: ['critical'] } as never })).toMatch(/`nodeAdaptive\.protect`/);
    expect(bad({ nodeAdaptive: { minLimit: 5, maxLimit: 2 } })).toMatch(/nodeAdaptive/);
  });
});

describe('per-node limit metrics', () => {
  it('sum the limit over workers per node, average the RTT inputs, count changes and waiters (per node too); nothing for nodes without a limit', async () => {
    const node = (name: string, limit: number | null, shortMs: number, longMs: number, changes: number, slotWaiting = 0) => ({
      node: name,
      adaptive: limit === null ? null : { limit, short_rtt_ms: shortMs, long_rtt_ms: longMs, changes },
      slot_waiting: slotWaiting,
    });
    const stats = {
      current_active: 0, current_idle: 0, max_connections: 4, worker_count: 2, total_connections_created: 0, total_connections_closed: 0,
      health_check_failures: 0, main_event_loop_delay_p99_us: 0, lanes: {},
      workers: [
        { thread_id: 1, event_loop_delay_p99_us: 0, pool: { nodes: [node('a:1', 3, 2, 1, 4, 2), node('b:1', 1, 40, 20, 6)], node_limit: { waiting: 2, waited: 9, timeouts: 1 } } },
        { thread_id: 2, event_loop_delay_p99_us: 0, pool: { nodes: [node('a:1', 2, 4, 3, 1), node('b:1', 1, 20, 20, 2, 1)], node_limit: { waiting: 1, waited: 3, timeouts: 0 } } },
      ],
      counters: { errors_by_code: {}, retries: 0, worker_crashes: 0, validation_errors: 0 },
    };
    const registry = new Registry();
    registerExecutorMetrics({ stats: async () => stats as never }, { registry });
    const text = await registry.metrics();
    expect(text).toContain('weaviate_executor_node_adaptive_limit{node="a:1"} 5');
    expect(text).toContain('weaviate_executor_node_adaptive_limit{node="b:1"} 2');
    expect(text).toContain('weaviate_executor_node_adaptive_rtt_seconds{node="a:1",window="short"} 0.003');
    expect(text).toContain('weaviate_executor_node_adaptive_rtt_seconds{node="b:1",window="long"} 0.02');
    expect(text).toContain('weaviate_executor_node_adaptive_limit_changes_total{node="b:1"} 8');
    expect(text).toContain('weaviate_executor_node_limit_waiting 3');
    expect(text).toContain('weaviate_executor_node_slot_waiting{node="a:1"} 2');
    expect(text).toContain('weaviate_executor_node_slot_waiting{node="b:1"} 1');

    const off = new Registry();
    const noLimit = { ...stats, workers: [{ thread_id: 1, event_loop_delay_p99_us: 0, pool: { nodes: [node('a:1', null, 0, 0, 0)] } }] };
    registerExecutorMetrics({ stats: async () => noLimit as never }, { registry: off });
    const offText = await off.metrics();
    expect(offText).not.toMatch(/node_adaptive_limit\{/);
    expect(offText).not.toMatch(/node_slot_waiting\{/);
    expect(offText).toContain('weaviate_executor_node_limit_waiting 0'); // an unlabelled gauge always has a value
  });
});
