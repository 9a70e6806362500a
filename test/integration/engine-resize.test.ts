/**
 * resize() against real workers and sockets: a resize that comes while a replacement worker is
 * still opening its sub-pool must not open a second one (sockets counted at the OS).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
import { silentLogger } from '../../src/log.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { rejectionOf } from '../support/rejection.ts';
import { ToxicProxy } from '../support/toxic-proxy.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);

describe('resize with real workers', () => {
  it('resize() while a replacement worker is opening its connections opens no second sub-pool (sockets at the OS = total)', async () => {
    // A slow network between the engine and Weaviate keeps the replacement's open under way.
    const proxy = new ToxicProxy(target.host!, target.grpcPort!);
    const port = await proxy.start();
    try {
      await using engine = await createExecutor(
        {
          weaviate: { ...target, grpcPort: port }, workers: 2, minConnections: 2, maxConnections: 4, connectTimeoutMs: 10_000,
          taskModule: tasks, logger: silentLogger, workerLogLevel: 'silent',
        },
        {},
      );
      const sockets = () => countEstablished(port);
      await waitFor(async () => sockets() === (await engine.stats()).total_connections, { what: 'sockets = total at start' });
      // 600 ms each way: the open takes 2-3 round trips (HTTP/2 settings, health check), ~3 s,
      // well inside connectTimeoutMs, and long enough to be seen under way on a busy machine
      // (at 300 ms, since the proxy adds pure latency instead of throttling, it was missed once).
      proxy.latencyMs = 600;
      expect((await rejectionOf(engine.run('exit'))).code).toBe('WEX_WORKER_CRASHED');
      // The replacement registered and is opening its sub-pool (not ready yet).
      await waitFor(async () => {
        const s = await engine.stats();
        return s.worker_count === 2 && s.workers.some((w) => !w.ready);
      }, { timeoutMs: 10_000, intervalMs: 10, what: 'a replacement worker opening its connections' });
      await engine.resize({ min: 4, max: 6 });
      proxy.latencyMs = 0;
      await waitFor(async () => (await engine.stats()).workers.every((w) => w.ready), { timeoutMs: 15_000, what: 'replacement ready' });
      let last = '';
      await waitFor(async () => {
        const s = await engine.stats();
        last = `sockets ${sockets()}, total ${s.total_connections}, per worker ${s.workers.map((w) => w.pool?.total_connections).join('+')}`;
        return s.total_connections >= 4 && sockets() === s.total_connections;
      }, { timeoutMs: 10_000, what: 'sockets at the OS = total_connections' }).catch((e: Error) => {
        throw new Error(`${e.message}: ${last}`);
      });
      const s = await engine.stats();
      expect(s.workers.map((w) => w.pool!.max_connections).sort()).toEqual([3, 3]);
      expect(s.total_connections).toBeLessThanOrEqual(6);
    } finally {
      proxy.latencyMs = 0;
      await proxy.close();
    }
  });
});

describe('resize racing a worker that exits', () => {
  it('a resize the exiting worker never answers still settles (no ControlTimeoutError), and the replacement opens with the new share', async () => {
    await using engine = await createExecutor(
      { weaviate: target, workers: 1, minConnections: 1, maxConnections: 2, taskModule: tasks, logger: silentLogger, workerLogLevel: 'silent' },
      {},
    );
    const dir = mkdtempSync(join(tmpdir(), 'wex-resize-exit-'));
    try {
      const ready = join(dir, 'ready');
      const release = join(dir, 'release');
      const crashed = rejectionOf(engine.run('exitWhenReleased', { ready, release, maxMs: 30_000 }, { deadlineMs: 60_000 }));
      // The worker's event loop is held from here: the resize message waits in its port, unanswered.
      await waitFor(async () => existsSync(ready), { timeoutMs: 30_000, what: 'the task holding the worker' });
      const resized = engine.resize({ min: 1, max: 3 }).then(() => 'resized', (e: Error) => `${e.name}: ${e.message}`);
      await new Promise((r) => setTimeout(r, 50));
      writeFileSync(release, '');
      expect((await crashed).code).toBe('WEX_WORKER_CRASHED');
      // Before 09f6972 this waited out the control time-out (11 s) and threw ControlTimeoutError.
      expect(await resized).toBe('resized');
      await waitFor(async () => {
        const s = await engine.stats();
        return s.workers.length === 1 && s.workers[0]!.ready && s.workers[0]!.pool?.max_connections === 3;
      }, { timeoutMs: 15_000, what: 'the replacement worker ready with max 3' });
      expect(await engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 1 })).toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a lane with dedicated workers', () => {
  it('the documented write lane (dedicatedWorkers 1, 2 workers, max 4) takes at most its worker\'s connections x streams of slots, also after a resize; adaptive lanes\' max follows the slots', async () => {
    await using engine = await createExecutor(
      {
        weaviate: target, workers: 2, minConnections: 2, maxConnections: 4,
        lanes: { write: { dedicatedWorkers: 1 }, normal: { adaptive: true }, bulk: { adaptive: { maxLimit: 20 } } },
        taskModule: tasks, logger: silentLogger, workerLogLevel: 'silent',
      },
      {},
    );
    const maxLimits = async () => {
      const lanes = (await engine.stats()).lanes;
      return [lanes['normal']!.adaptive!.max_limit, lanes['bulk']!.adaptive!.max_limit];
    };
    // normal and bulk run on the other worker only: its 2 connections x 4 streams, less critical's 1 reserved there (never lent).
    expect(await maxLimits()).toEqual([7, 7]);
    await engine.run('concurrencySeen', { reset: true }, { lane: 'write' });
    // 16 slots engine-wide (4 connections x 4 streams); the write worker has 2 connections x 4 streams.
    const writes = Array.from({ length: 15 }, () => engine.run('ignoreSignal', { ms: 1000 }, { lane: 'write', deadlineMs: 20_000 }));
    await new Promise((r) => setTimeout(r, 100));
    const s = await engine.stats();
    expect(s.slots).toBe(16);
    expect(s.lanes['write']!.in_flight).toBe(8);
    expect(s.lanes['write']!.slot_cap).toBe(8);
    expect(s.lanes['write']!.queued).toBe(7); // waiting where lane weights and maxQueue apply
    expect(await Promise.all(writes)).toEqual(Array(15).fill('finished late'));
    // Counted inside the task, on the write worker: never more than its capacity at once.
    expect((await engine.run<{ max: number }>('concurrencySeen', undefined, { lane: 'write' })).max).toBe(8);
    await engine.resize({ max: 6 });
    expect((await engine.stats()).lanes['write']!.slot_cap).toBe(12);
    expect(await maxLimits()).toEqual([11, 11]); // the shared worker's 3 x 4, less critical's 1
    await engine.resize({ max: 2 });
    expect((await engine.stats()).lanes['write']!.slot_cap).toBe(4);
    expect(await maxLimits()).toEqual([3, 3]);
  });

  it('the lanes without dedicated workers share the other workers\' slots, and critical\'s reservation holds there: a critical request runs at once while normal fills its worker', async () => {
    await using engine = await createExecutor(
      {
        weaviate: target, workers: 2, minConnections: 2, maxConnections: 4,
        lanes: { write: { dedicatedWorkers: 1 } },
        taskModule: tasks, logger: silentLogger, workerLogLevel: 'silent',
      },
      {},
    );
    await engine.run('concurrencySeen', { reset: true }, { lane: 'critical' });
    // The shared worker has 2 connections x 4 streams = 8 slots; critical reserves 1 of them, so
    // normal runs 7 and the 8th waits in its lane, not in the worker's connection queue.
    // The 7 that run hold their slots for 8 s (a busy machine gets the critical call in well
    // within it); the 8th, queued, is short, so the test does not wait a second round.
    const normals = Array.from({ length: 8 }, (_, i) => engine.run('ignoreSignal', { ms: i < 7 ? 8000 : 100 }, { lane: 'normal', deadlineMs: 30_000 }));
    await waitFor(async () => (await engine.stats()).lanes['normal']!.in_flight === 7, { what: 'normal at the shared workers\' slots' });
    let s = await engine.stats();
    expect(s.lanes['normal']!.queued).toBe(1);
    expect(s.lanes['normal']!.slot_cap).toBe(8);
    // Counted inside the task, on the shared worker: 7 callers in ignoreSignal while this one runs.
    const seen = await engine.run<{ now: number; max: number }>('concurrencySeen', undefined, { lane: 'critical' });
    expect(seen.now).toBe(7);
    s = await engine.stats();
    // It ran in the reserved slot, not after the normals that hold the worker: none has ended yet.
    expect(s.lanes['normal']!.completed).toBe(0);
    expect(await Promise.all(normals)).toEqual(Array(8).fill('finished late'));
    // Never more than the worker's 8 slots less the reservation, counted inside the task.
    expect((await engine.run<{ max: number }>('concurrencySeen', undefined, { lane: 'critical' })).max).toBe(7);
  });
});
