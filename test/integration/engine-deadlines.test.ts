/**
 * Deadlines answer the caller, not the connection: work that outlives its deadline keeps its
 * lease and its scheduler slot until it really ends (shown as `overdue`), so in-flight work per
 * connection never exceeds maxStreamsPerConnection. Concurrency is counted INSIDE the fixture
 * task (test/fixtures/tasks.ts), not read from the pool's counters. Also: a misbehaving task
 * fails alone, typed, and never takes its neighbours down.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { silentLogger } from '../../src/log.ts';
import { rejectionOf } from '../support/rejection.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);
const oneStream = {
  weaviate: target, workers: 1, minConnections: 1, maxConnections: 1, maxStreamsPerConnection: 1, taskModule: tasks,
  logger: silentLogger, workerLogLevel: 'silent',
};

describe('deadlines keep the slot and the lease until the work ends', () => {
  it('five tasks with a 50 ms deadline that ignore their signal never run at once on 1 connection x 1 stream; the slot shows as overdue meanwhile', async () => {
    await using engine = await createExecutor(oneStream, {});
    await engine.run('concurrencySeen', { reset: true });
    const outcomes: Promise<string>[] = [];
    for (let k = 0; k < 5; k++) {
      outcomes.push(engine.run('ignoreSignal', { ms: 1500 }, { deadlineMs: 50 }).then(() => 'ok', (e: { code: string }) => e.code));
      if (k === 0) {
        // The first caller is answered at its deadline while its work goes on.
        expect(await outcomes[0]).toBe('WEX_DEADLINE_EXCEEDED');
        const s = await engine.stats();
        expect(s.lanes['normal']!.in_flight).toBe(1);
        expect(s.lanes['normal']!.overdue).toBe(1);
        expect(s.workers[0]!.overdue).toBe(1);
        expect(s.workers[0]!.pool!.active_leases).toBe(1);
      }
      await sleep(60);
    }
    // Every caller is answered (the later ones shed while the slot stays taken).
    expect(await Promise.all(outcomes)).toEqual(Array(5).fill('WEX_DEADLINE_EXCEEDED'));
    await waitFor(async () => (await engine.stats()).lanes['normal']!.in_flight === 0, { timeoutMs: 15_000, what: 'the overdue work ended' });
    const seen = await engine.run<{ now: number; max: number }>('concurrencySeen');
    expect(seen.max).toBe(1);
    const s = await engine.stats();
    expect(s.lanes['normal']!.overdue).toBe(0);
    expect(s.workers[0]!.overdue).toBe(0);
  });

  it('a client kept past its lease fails with WEX_CONNECTION_RELEASED instead of using the connection', async () => {
    await using engine = await createExecutor(oneStream, {});
    expect(await engine.run('leakClient', { collection: SAMPLE_COLLECTION, afterMs: 100 })).toBe('returned');
    let outcome = 'pending';
    await waitFor(async () => (outcome = await engine.run<string>('leakedOutcome')) !== 'pending', { timeoutMs: 10_000, what: 'the leaked client was used' });
    expect(outcome).toBe('WEX_CONNECTION_RELEASED');
  });
});

describe('a misbehaving task fails alone', () => {
  it('a task returning a value that cannot be cloned gets its own typed error; its neighbours on the same worker finish', async () => {
    await using engine = await createExecutor({ ...oneStream, maxConnections: 1, maxStreamsPerConnection: 4 }, {});
    const neighbours = Array.from({ length: 3 }, () => engine.run('ignoreSignal', { ms: 300 }, { deadlineMs: 10_000 }));
    await sleep(50);
    const error = await rejectionOf(engine.run('unclonable'));
    expect(error.code).toBe('WEX_TASK_RESULT_UNCLONEABLE');
    expect(error.message).toMatch(/unclonable/);
    expect(await Promise.all(neighbours)).toEqual(Array(3).fill('finished late'));
    const s = await engine.stats();
    expect(s.counters.worker_crashes).toBe(0);
  });

  it('a task leaving an unhandled rejection answers, and its neighbours and its worker live on', async () => {
    await using engine = await createExecutor({ ...oneStream, maxConnections: 1, maxStreamsPerConnection: 4 }, {});
    const neighbours = Array.from({ length: 3 }, () => engine.run('ignoreSignal', { ms: 300 }, { deadlineMs: 10_000 }));
    await sleep(50);
    expect(await engine.run('rejectLater')).toBe('answered');
    expect(await Promise.all(neighbours)).toEqual(Array(3).fill('finished late'));
    await sleep(100);
    const s = await engine.stats();
    expect(s.counters.worker_crashes).toBe(0);
    expect(s.workers[0]!.unhandled_rejections).toBe(1);
  });

  it('a worker that dies says why: the exit code is in the crash error', async () => {
    await using engine = await createExecutor(oneStream, {});
    const error = await rejectionOf(engine.run('exit', { code: 7 }));
    expect(error.code).toBe('WEX_WORKER_CRASHED');
    expect(error.message).toMatch(/code:? 7/);
  });
});
