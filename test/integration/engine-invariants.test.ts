/**
 * The engine's invariants under a seeded random mix of faults, with real workers and sockets:
 * random resizes, worker crashes, deadlines that fire mid-work, tasks that ignore their signal,
 * caller aborts. After every step: gRPC sockets counted at the OS never exceed the max in force
 * (during a shrink: the larger of the old and the new max, since a connection over the limit
 * closes when its last lease ends), and in-flight work per connection never exceeds
 * maxStreamsPerConnection, counted INSIDE the fixture task. At the end: every promise settled,
 * each outcome a result or a typed code, nothing left running, sockets within the final max.
 * Bounded in steps and in time.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SAMPLE_COLLECTION, prng } from '../../src/data/sample.ts';
import { createExecutor } from '../../src/engine/executor.ts';
import { silentLogger } from '../../src/log.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);
const STREAMS = 2;
const WORKERS = 2;
const STEPS = 30;
const ALLOWED = new Set(['ok', 'WEX_DEADLINE_EXCEEDED', 'WEX_WORKER_CRASHED', 'WEX_ABORTED', 'WEX_POOL_TIMEOUT', 'WEX_QUEUE_FULL']);

describe('engine invariants under random faults (real sockets)', () => {
  it(`${STEPS} random steps of load, resizes, crashes, mid-work deadlines and signal-ignoring tasks keep sockets <= max and callers per connection <= streams`, async () => {
    const violations = join(tmpdir(), `wx-invariants-${process.pid}-${Date.now()}.log`);
    rmSync(violations, { force: true });
    const rand = prng(20261126);
    const pick = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    await using engine = await createExecutor(
      {
        weaviate: target, workers: WORKERS, minConnections: 2, maxConnections: 4, maxStreamsPerConnection: STREAMS, idleTimeoutMs: 500,
        controlTimeoutMs: 1000, lanes: { normal: { maxQueue: 200 } }, taskModule: tasks, logger: silentLogger, workerLogLevel: 'silent',
      },
      {},
    );
    const sockets = () => countEstablished(target.grpcPort!);
    const outcomes: Record<string, number> = {};
    const pending: Promise<void>[] = [];
    const track = (p: Promise<unknown>) =>
      pending.push(p.then(() => void (outcomes['ok'] = (outcomes['ok'] ?? 0) + 1), (e: { code?: string }) => {
        const code = e?.code ?? 'untyped';
        outcomes[code] = (outcomes[code] ?? 0) + 1;
      }));
    let max = 4;
    let previousMax = 4;
    const log: string[] = [];
    try {
      for (let step = 0; step < STEPS; step++) {
        const r = rand();
        if (r < 0.55) {
          const n = pick(3, 20);
          log.push(`step ${step}: ${n} tasks`);
          for (let i = 0; i < n; i++) {
            const controller = new AbortController();
            const ms = pick(5, 250);
            track(engine.run('holdConnection', { ms, ignoreSignal: rand() < 0.5, streams: STREAMS, violations }, { deadlineMs: pick(20, 400), signal: controller.signal }));
            if (rand() < 0.1) setTimeout(() => controller.abort(new Error('random abort')), pick(0, 100));
          }
          for (let i = 0; i < pick(0, 5); i++) track(engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 2 }, { deadlineMs: pick(50, 1000) }));
        } else if (r < 0.8) {
          previousMax = max;
          max = pick(WORKERS, 6);
          log.push(`step ${step}: resize max ${previousMax} -> ${max}`);
          await engine.resize({ min: Math.min(2, max), max });
        } else {
          log.push(`step ${step}: crash a worker`);
          track(engine.run('exit', { code: 3 }, { deadlineMs: 2000 }));
        }
        await sleep(pick(10, 120));
        const seen = sockets();
        expect(seen, `${log.join('; ')}: ${seen} sockets with max ${max} (was ${previousMax})`).toBeLessThanOrEqual(Math.max(max, previousMax));
        expect(existsSync(violations) ? readFileSync(violations, 'utf8') : '', log.join('; ')).toBe('');
      }
      // Every promise settles (bounded), with a result or a typed error this mix can cause.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(pending),
        new Promise((_, reject) => {
          bound = setTimeout(() => reject(new Error(`${pending.length} promises, not all settled after 60 s`)), 60_000);
        }),
      ]).finally(() => clearTimeout(bound));
      console.log('invariants run', outcomes, log.length, 'steps');
      expect(Object.keys(outcomes).filter((k) => !ALLOWED.has(k))).toEqual([]);
      // Nothing left running (overdue work ends too), and the sockets settle within the final max.
      await waitFor(async () => Object.values((await engine.stats()).lanes).every((l) => l.in_flight === 0 && l.queued === 0 && l.overdue === 0), {
        timeoutMs: 15_000, what: 'all work ended',
      });
      await waitFor(async () => sockets() <= max && (await engine.stats()).total_connections === sockets(), { timeoutMs: 15_000, what: `sockets <= ${max} and = total_connections` });
      expect(existsSync(violations) ? readFileSync(violations, 'utf8') : '').toBe('');
    } finally {
      rmSync(violations, { force: true });
    }
  });
});
