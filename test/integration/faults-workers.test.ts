/**
 * A worker thread that crashes mid-task (replaced; its requests retried or rejected typed), and
 * one that blocks its event loop for seconds (visible in stats; deadline-bound requests end on
 * time anyway).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
import { silentLogger } from '../../src/log.ts';
import { closedLoad, read, sleep } from '../support/load.ts';
import { Tracker, reportFault } from '../support/tracker.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);
const engineOptions = {
  weaviate: target, workers: 2, minConnections: 2, maxConnections: 4, idleTimeoutMs: 1000, controlTimeoutMs: 500,
  taskModule: tasks, logger: silentLogger,
};

describe('fault: worker threads', () => {
  it('workers crashing mid-task under load: reads are retried elsewhere, the task fails typed, replacements warm up', async () => {
    await using engine = await createExecutor(engineOptions, {});
    const tracker = new Tracker();
    let stop = false;
    onTestFinished(() => {
      stop = true; // also when the test fails first: the load must not outlive it
    });
    const load = closedLoad(8, () => stop, (i) => tracker.track(engine.query(read(i), { deadlineMs: 3000 }), 3000));
    const crashes = new Tracker();
    for (let k = 0; k < 3; k++) {
      await sleep(400);
      await crashes.track(engine.run('exit', { code: 1 }), 3000);
    }
    const crashedAt = performance.now();
    await waitFor(async () => {
      const s = await engine.stats();
      return s.worker_count === 2 && s.workers.every((w) => w.ready) && s.total_connections >= 2;
    }, { timeoutMs: 15_000, what: 'replacements warmed up' });
    const recoveryMs = performance.now() - crashedAt;
    await sleep(500);
    stop = true;
    await load;
    const hung = await tracker.hung();
    const s = await engine.stats();
    reportFault(tracker.row('3 worker crashes under load (reads)', hung, recoveryMs, `crash retries ${s.counters.retries}, worker_crashes ${s.counters.worker_crashes}`));
    expect(hung).toBe(0);
    expect(crashes.failedByCode).toEqual({ WEX_WORKER_CRASHED: 3 });
    expect(Object.keys(tracker.failedByCode).every((c) => ['WEX_WORKER_CRASHED', 'WEX_DEADLINE_EXCEEDED'].includes(c))).toBe(true);
    expect(tracker.succeeded).toBeGreaterThan(tracker.sent * 0.95);
    expect(s.counters.worker_crashes).toBeGreaterThanOrEqual(3);
    expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);
  });

  it('a worker blocking its event loop for 2.5 s: visible in stats, and deadline-bound requests still end on time', async () => {
    await using engine = await createExecutor(engineOptions, {});
    const tracker = new Tracker(300);
    let stop = false;
    onTestFinished(() => {
      stop = true; // also when the test fails first: the load must not outlive it
    });
    const load = closedLoad(6, () => stop, (i) => tracker.track(engine.query(read(i), { deadlineMs: 500 }), 500));
    await sleep(300);
    const blocked = engine.run('block', { ms: 2500 }, { deadlineMs: 600 }).catch((e: { code: string }) => e.code);
    let seenUnresponsive = false;
    await waitFor(async () => {
      seenUnresponsive = (await engine.stats()).workers.some((w) => !w.responsive);
      return seenUnresponsive;
    }, { timeoutMs: 2400, what: 'a worker shown unresponsive' });
    expect(await blocked).toBe('WEX_DEADLINE_EXCEEDED');
    await sleep(2500);
    stop = true;
    await load;
    const hung = await tracker.hung();
    reportFault(tracker.row('worker event loop blocked 2.5 s', hung, null, 'blocked worker shown responsive=false'));
    expect(seenUnresponsive).toBe(true);
    expect(hung).toBe(0);
    expect(tracker.late).toBe(0);
    await waitFor(async () => (await engine.stats()).workers.every((w) => w.responsive), { timeoutMs: 5000, what: 'responsive again' });
  });
});
