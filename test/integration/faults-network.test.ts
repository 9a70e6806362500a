/**
 * A slow or lossy network, between the engine and Weaviate's gRPC port, made by a TCP proxy of
 * the tests' own: added latency shows up as execution time (not connection wait); connections
 * reset mid-query are replaced (idempotent reads retried); a stalled network ends requests by
 * their deadline.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { silentLogger } from '../../src/log.ts';
import { closedLoad, read, sleep } from '../support/load.ts';
import { ToxicProxy } from '../support/toxic-proxy.ts';
import { Tracker, reportFault } from '../support/tracker.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
let proxy: ToxicProxy;
let engine: Executor;
beforeAll(async () => {
  proxy = new ToxicProxy(target.host!, target.grpcPort!);
  const port = await proxy.start();
  engine = await createExecutor(
    {
      weaviate: { ...target, grpcPort: port }, workers: 1, minConnections: 2, maxConnections: 4,
      healthCheckIntervalMs: 1000, healthCheckTimeoutMs: 500, connectTimeoutMs: 2000, reconnectMaxMs: 300, logger: silentLogger,
    },
    {},
  );
});
afterAll(async () => {
  await engine?.close();
  await proxy?.close();
});

describe('fault: the network', () => {
  it('added latency shows up in execution time, not in connection wait', async () => {
    proxy.latencyMs = 40;
    const before = await engine.stats();
    const tracker = new Tracker();
    let stop = false;
    onTestFinished(() => {
      stop = true; // also when the test fails first: the load must not outlive it
    });
    const started = performance.now();
    await closedLoad(4, () => stop || performance.now() - started > 2500, (i) => tracker.track(engine.query(read(i), { deadlineMs: 5000 }), 5000));
    stop = true;
    proxy.latencyMs = 0;
    const after = await engine.stats();
    reportFault(tracker.row('network +40 ms latency each way', await tracker.hung(), null,
      `execution p50 ${(after.latency.execution.p50_us / 1000).toFixed(1)} ms, connection wait p50 ${(after.latency.connection_wait.p50_us / 1000).toFixed(2)} ms`));
    expect(tracker.succeeded).toBe(tracker.sent);
    expect(after.latency.execution.count).toBeGreaterThan(before.latency.execution.count);
    // At least one round trip with 40 ms each way, recorded as execution...
    expect(after.latency.execution.p50_us).toBeGreaterThanOrEqual(80_000);
    // ...while waiting for a connection stays far below it (16 slots for 4 callers).
    expect(after.latency.connection_wait.p50_us).toBeLessThan(after.latency.execution.p50_us / 10);
  });

  it('connections reset mid-query are replaced; in-flight reads are retried or fail typed', async () => {
    const tracker = new Tracker();
    let stop = false;
    onTestFinished(() => {
      stop = true; // also when the test fails first: the load must not outlive it
    });
    const load = closedLoad(8, () => stop, (i) => tracker.track(engine.query(read(i), { deadlineMs: 3000 }), 3000));
    await sleep(700);
    const deadBefore = (await engine.stats()).workers[0]!.pool!.dead_connections_detected;
    const reset = proxy.resetAll();
    const resetAt = performance.now();
    await waitFor(async () => {
      const s = await engine.stats();
      return s.workers[0]!.pool!.dead_connections_detected >= deadBefore + reset && s.total_connections >= 2;
    }, { timeoutMs: 10_000, what: 'connections replaced' });
    const recoveryMs = performance.now() - resetAt;
    await sleep(700);
    stop = true;
    await load;
    const hung = await tracker.hung();
    const s = await engine.stats();
    reportFault(tracker.row(`network reset of ${reset} connections mid-query`, hung, recoveryMs, `transport retries ${s.counters.transport_retries}`));
    expect(reset).toBeGreaterThanOrEqual(2);
    expect(hung).toBe(0);
    expect(Object.keys(tracker.failedByCode).every((c) => ['WEX_QUERY_FAILED', 'WEX_DEADLINE_EXCEEDED'].includes(c))).toBe(true);
    expect(tracker.succeeded).toBeGreaterThan(tracker.sent * 0.8);
  });

  it('a stalled network (bytes held, sockets open): every request ends by its deadline', async () => {
    const tracker = new Tracker(300);
    let stop = false;
    onTestFinished(() => {
      stop = true; // also when the test fails first: the load must not outlive it
    });
    const load = closedLoad(6, () => stop, (i) => tracker.track(engine.query(read(i), { deadlineMs: 600 }), 600));
    await sleep(500);
    proxy.stall();
    await sleep(2500);
    proxy.resume();
    const resumedAt = performance.now();
    let firstOkAfter: number | null = null;
    const okBefore = tracker.succeeded;
    await waitFor(() => {
      if (tracker.succeeded > okBefore) firstOkAfter ??= performance.now() - resumedAt;
      return firstOkAfter !== null;
    }, { timeoutMs: 10_000, what: 'serving again' });
    await sleep(500);
    stop = true;
    await load;
    const hung = await tracker.hung();
    reportFault(tracker.row('network stalled 2.5 s (black hole)', hung, firstOkAfter));
    expect(hung).toBe(0);
    expect(tracker.late).toBe(0);
    expect(tracker.failedByCode['WEX_DEADLINE_EXCEEDED']).toBeGreaterThan(0);
    expect(Object.keys(tracker.failedByCode).every((c) => ['WEX_QUERY_FAILED', 'WEX_DEADLINE_EXCEEDED', 'WEX_POOL_TIMEOUT'].includes(c))).toBe(true);
  });
});
