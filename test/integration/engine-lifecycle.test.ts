/**
 * The engine when workers die, when it closes under load, and after 10,000 mixed queries with
 * random aborts and deadlines: every promise settles, the counts add up, sockets come back.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerDispatcher } from '../../src/engine/worker-dispatcher.ts';
import { createExecutor } from '../../src/engine/executor.ts';
import { epochNow } from '../../src/engine/protocol.ts';
import { resolvePoolConfig } from '../../src/pool/config.ts';
import { SAMPLE_COLLECTION, embed, prng } from '../../src/data/sample.ts';
import { silentLogger } from '../../src/log.ts';
import type { QuerySpec } from '../../src/query/spec.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { rejectionOf } from '../support/rejection.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);
const sockets = () => countEstablished(target.grpcPort!);
const read = (i: number): QuerySpec =>
  i % 3 === 0
    ? { kind: 'nearVector', collection: SAMPLE_COLLECTION, vector: embed(`문서 ${i % 50}`), limit: 3 }
    : { kind: 'bm25', collection: SAMPLE_COLLECTION, query: ['삼성전자', '현대차', '카카오'][i % 3]!, limit: 3 };

describe('engine lifecycle (real Weaviate)', () => {
  it('a worker that exits mid-task: its task fails typed or is retried, the replacement warms up, counts stay consistent', async () => {
    await using engine = await createExecutor(
      { weaviate: target, workers: 2, minConnections: 2, maxConnections: 4, idleTimeoutMs: 1000, taskModule: tasks, logger: silentLogger },
      {},
    );
    // Not idempotent: a typed WorkerCrashedError.
    expect((await rejectionOf(engine.run('exit'))).code).toBe('WEX_WORKER_CRASHED');
    // Idempotent: retried once on another worker, and answered.
    const marker = join(tmpdir(), `wx-crash-${process.pid}-${Date.now()}`);
    rmSync(marker, { force: true });
    expect(await engine.run('crashOnce', { marker }, { idempotent: true })).toBe('answered on the second attempt');
    rmSync(marker, { force: true });
    // Reads in flight on a worker that dies are retried (reads are idempotent by default).
    const reads = Array.from({ length: 60 }, (_, i) => engine.query(read(i)));
    const crash = engine.run('exit').catch((e: { code: string }) => e.code);
    const results = await Promise.allSettled(reads);
    expect(await crash).toBe('WEX_WORKER_CRASHED');
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);

    let last = '';
    await waitFor(async () => {
      const s = await engine.stats();
      last = JSON.stringify({ workers: s.worker_count, total: s.total_connections, ready: s.workers.map((w) => [w.thread_id, w.ready, w.pool?.total_connections]) });
      return s.worker_count === 2 && s.total_connections === 2 && s.workers.every((w) => w.ready);
    }, { timeoutMs: 15_000, what: 'replacement workers warmed up' }).catch((e: Error) => {
      throw new Error(`${e.message}; last: ${last}`);
    });
    const s = await engine.stats();
    expect(s.counters.worker_crashes).toBeGreaterThanOrEqual(3);
    expect(s.counters.retries).toBeGreaterThanOrEqual(1);
    expect(s.current_active + s.current_idle).toBe(s.total_connections);
    expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);
    // laneStats() (main thread only, no worker round trip) agrees with stats() on the lanes when nothing moves.
    const lanes = engine.laneStats();
    expect(Object.keys(lanes).sort()).toEqual(Object.keys(s.lanes).sort());
    for (const [name, lane] of Object.entries(lanes)) {
      expect(lane).toMatchObject({ name, admitted: s.lanes[name]!.admitted, completed: s.lanes[name]!.completed, in_flight: 0, queued: 0 });
    }
    await waitFor(() => sockets() === 2, { what: 'sockets = 2' });
  });

  it('close() under load: queued work is rejected with ShutdownError, everything settles, nothing stays open', async () => {
    const before = new Set(process.getActiveResourcesInfo());
    const engine = await createExecutor({ weaviate: target, workers: 2, minConnections: 2, maxConnections: 2, logger: silentLogger, closeTimeoutMs: 5000 }, {});
    const pending = Array.from({ length: 300 }, (_, i) => engine.query(read(i)).then(() => 'ok', (e: { code: string }) => e.code));
    await new Promise((r) => setTimeout(r, 30));
    const closing = engine.close();
    expect((await rejectionOf(engine.query(read(1)))).code).toBe('WEX_SHUTDOWN');
    await closing;
    const outcomes = await Promise.all(pending);
    const tally = outcomes.reduce<Record<string, number>>((t, o) => ({ ...t, [o]: (t[o] ?? 0) + 1 }), {});
    console.log('close under load', tally);
    expect(Object.keys(tally).every((k) => k === 'ok' || k === 'WEX_SHUTDOWN')).toBe(true);
    expect(tally['WEX_SHUTDOWN']).toBeGreaterThan(0);
    await waitFor(() => sockets() === 0, { what: 'sockets closed' });
    // No handle left behind: whatever is active now was active before (timers of the test runner aside).
    await waitFor(() => process.getActiveResourcesInfo().filter((r) => !before.has(r) && r !== 'Timeout').length === 0, {
      timeoutMs: 5000,
      what: `no new handles (${process.getActiveResourcesInfo().join(', ')})`,
    });
  });

  it('10,000 mixed queries with random aborts and deadlines: all settle with typed outcomes, sockets never above max, counts add up, sockets back to min', async () => {
    const engine = await createExecutor(
      {
        weaviate: target, workers: 2, minConnections: 2, maxConnections: 6, idleTimeoutMs: 1000, healthCheckIntervalMs: 5000,
        lanes: { critical: { maxQueue: 200 }, normal: { maxQueue: 2000 }, batch: { weight: 0.5, maxQueue: 500 } },
        logger: silentLogger,
      },
      {},
    );
    try {
      const rand = prng(1234);
      const outcomes: Record<string, number> = {};
      const tally = (k: string) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
      let settled = 0;
      const lanes = ['critical', 'normal', 'normal', 'normal', 'batch'];
      const allowed = ['ok', 'WEX_VALIDATION', 'WEX_QUEUE_FULL', 'WEX_DEADLINE_EXCEEDED', 'WEX_ABORTED'];
      const unexpected: string[] = []; // their messages, so that a failure says what happened
      const all: Promise<void>[] = [];
      // Sockets at the OS, sampled during the run: never above maxConnections.
      let maxSockets = 0;
      for (let i = 0; i < 10_000; i++) {
        const controller = new AbortController();
        const r = rand();
        const spec: QuerySpec = r < 0.03 ? ({ ...read(i), limit: -1 } as QuerySpec) : read(i);
        const p = engine
          .query(spec, { lane: lanes[i % lanes.length]!, deadlineMs: 20 + Math.floor(rand() * 1000), signal: controller.signal })
          .then(() => void tally('ok'), (e: { code?: string; message?: string }) => {
            tally(e.code ?? 'untyped');
            if (!allowed.includes(e.code ?? '')) unexpected.push(`${e.code ?? 'untyped'}: ${e.message ?? String(e)}`);
          })
          .finally(() => settled++);
        if (rand() < 0.05) setTimeout(() => controller.abort(new Error('random abort')), Math.floor(rand() * 50));
        all.push(p);
        if (i % 100 === 99) {
          maxSockets = Math.max(maxSockets, sockets());
          await new Promise((res) => setTimeout(res, 50)); // arrivals over time (~2,000/s offered)
        }
      }
      // No hang: every promise settles within a bound far above any deadline given (1 s).
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(all),
        new Promise((_, reject) => {
          bound = setTimeout(() => reject(new Error(`${10_000 - settled} of 10,000 promises unsettled after 60 s`)), 60_000);
        }),
      ]).finally(() => clearTimeout(bound));
      console.log('10k outcomes', outcomes, 'max sockets seen', maxSockets);
      expect(settled).toBe(10_000);
      // Invariants, not throughput (the share that succeeds depends on the machine's speed):
      // every outcome is a result or one of the typed errors this load can cause.
      expect(outcomes['untyped'] ?? 0).toBe(0);
      expect(unexpected).toEqual([]);
      expect(Object.keys(outcomes).filter((k) => !allowed.includes(k))).toEqual([]);
      expect(outcomes['ok'] ?? 0).toBeGreaterThan(0);
      expect(maxSockets).toBeLessThanOrEqual(6);
      const s = await engine.stats();
      const c = s.counters;
      expect(c.requests).toBe(10_000);
      expect(c.completed).toBe(outcomes['ok']);
      expect(c.validation_errors).toBe(outcomes['WEX_VALIDATION']);
      expect(c.rejected_full).toBe(outcomes['WEX_QUEUE_FULL'] ?? 0);
      expect(c.shed + (c.errors_by_code['WEX_DEADLINE_EXCEEDED'] ?? 0)).toBe(outcomes['WEX_DEADLINE_EXCEEDED'] ?? 0);
      expect(c.completed + c.failed + c.shed + c.rejected_full + c.aborted + c.validation_errors).toBe(10_000);
      expect(Object.values(s.lanes).every((l) => l.queued === 0 && l.in_flight === 0)).toBe(true);
      expect(s.current_active + s.current_idle).toBe(s.total_connections);
      expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);
      // Idle connections above min go (idleTimeoutMs 1 s): back to min, as the OS counts them.
      await waitFor(async () => (await engine.stats()).total_connections === 2 && sockets() === 2, { timeoutMs: 15_000, what: 'back to min' });
    } finally {
      await engine.close();
    }
  });

  it('workers that died leave one accumulated stats entry (counters summed), not one entry per crash', async () => {
    const config = resolvePoolConfig({ weaviate: target, minConnections: 2, maxConnections: 2 }, {});
    const dispatcher = new WorkerDispatcher(config, {
      workers: 2, isolatedLanes: [], taskModule: tasks.href, controlTimeoutMs: 1000, watchdogTerminateMs: 0, logger: silentLogger, logLevel: 'silent',
    });
    await dispatcher.start();
    try {
      const msg = (id: number, name: string) => ({ kind: 'task' as const, id, name, args: null, deadlineAt: epochNow() + 5000, lane: 'normal', idempotent: false });
      let id = 1;
      for (let crash = 0; crash < 3; crash++) {
        // Some work on every worker, then figures seen by the main thread, then a crash.
        for (let k = 0; k < 4; k++) expect((await dispatcher.dispatch(msg(id++, 'echo'))).ok).toBe(true);
        await dispatcher.workerStats();
        expect((await rejectionOf(dispatcher.dispatch(msg(id++, 'exit')))).code).toBe('WEX_WORKER_CRASHED');
        await waitFor(async () => (await dispatcher.workerStats()).filter((w) => !w.retired && w.ready).length === 2, { timeoutMs: 15_000, what: 'replacement ready' });
      }
      const all = await dispatcher.workerStats();
      const retired = all.filter((w) => w.retired);
      expect(retired).toHaveLength(1);
      expect(dispatcher.crashes).toBe(3);
      // Nothing lost: every echo that was answered is counted, by a live or a retired worker.
      expect(all.reduce((sum, w) => sum + w.completed, 0)).toBe(12);
      expect(retired[0]!.pool!.total_connections_closed).toBe(retired[0]!.pool!.total_connections_created);
    } finally {
      await dispatcher.close(2000);
    }
  });

  it('resize() runs one call at a time (shares and slots agree after overlapping calls) and throws ShutdownError after close()', async () => {
    const engine = await createExecutor({ weaviate: target, workers: 2, minConnections: 2, maxConnections: 4, maxStreamsPerConnection: 2, logger: silentLogger }, {});
    try {
      const rand = prng(99);
      const sizes = Array.from({ length: 12 }, () => 2 + Math.floor(rand() * 7));
      await Promise.all(sizes.map((max) => engine.resize({ min: 2, max })));
      const s = await engine.stats();
      expect(s.max_connections).toBe(sizes.at(-1));
      expect(s.slots).toBe(sizes.at(-1)! * 2);
      expect(s.workers.reduce((sum, w) => sum + w.pool!.max_connections, 0)).toBe(sizes.at(-1));
    } finally {
      await engine.close();
    }
    expect((await rejectionOf(engine.resize({ max: 3 }))).code).toBe('WEX_SHUTDOWN');
  });
});
