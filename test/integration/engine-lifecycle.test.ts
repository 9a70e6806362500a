/**
 * The engine when workers die, when it closes under load, and after 10,000 mixed queries with
 * random aborts and deadlines: every promise settles, the counts add up, sockets come back.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
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

  it('10,000 mixed queries with random aborts and deadlines: all settle, counts add up, sockets back to min', async () => {
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
      const all: Promise<void>[] = [];
      for (let i = 0; i < 10_000; i++) {
        const controller = new AbortController();
        const r = rand();
        const spec: QuerySpec = r < 0.03 ? ({ ...read(i), limit: -1 } as QuerySpec) : read(i);
        const p = engine
          .query(spec, { lane: lanes[i % lanes.length]!, deadlineMs: 20 + Math.floor(rand() * 1000), signal: controller.signal })
          .then(() => void tally('ok'), (e: { code?: string }) => void tally(e.code ?? 'untyped'))
          .finally(() => settled++);
        if (rand() < 0.05) setTimeout(() => controller.abort(new Error('random abort')), Math.floor(rand() * 50));
        all.push(p);
        if (i % 100 === 99) await new Promise((res) => setTimeout(res, 50)); // arrivals over time (~2,000/s offered)
      }
      await Promise.all(all);
      console.log('10k outcomes', outcomes);
      expect(settled).toBe(10_000);
      expect(outcomes['untyped'] ?? 0).toBe(0);
      expect(outcomes['ok']).toBeGreaterThan(3000);
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
});
