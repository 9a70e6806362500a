/**
 * Overload: 10x the engine's capacity (normal and batch lanes), with a modest critical stream.
 * Queues stay within their bounds, memory stays bounded, normal and batch work is shed while
 * critical work is served within its deadline, and the HTTP endpoint answers 503 with
 * Retry-After while it sheds. Short form here; `npm run faults` runs it for a minute.
 */
import { describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { silentLogger } from '../../src/log.ts';
import { startServer } from '../../src/server/http.ts';
import { closedLoad, read, sleep } from '../support/load.ts';
import { Tracker, reportFault } from '../support/tracker.ts';
import { sharedTarget } from '../support/weaviate.ts';

const LONG = process.env['FAULTS_LONG'] === '1';
const target = sharedTarget();

describe('fault: overload', () => {
  it(`10x capacity for ${LONG ? 60 : 6} s: bounded queues and memory, shedding before critical, 503 + Retry-After`, async () => {
    const lanes = { critical: { maxQueue: 100, defaultDeadlineMs: 2000 }, normal: { maxQueue: 400, defaultDeadlineMs: 2000 }, batch: { weight: 0.5, maxQueue: 200, defaultDeadlineMs: 2000 } };
    await using engine = await createExecutor({ weaviate: target, workers: 1, minConnections: 2, maxConnections: 4, lanes, logger: silentLogger }, {});
    const { app, url } = await startServer(engine, { port: 0, logLevel: 'silent' }, {});
    try {
      // Capacity: a short closed loop.
      let n = 0;
      const t0 = performance.now();
      await closedLoad(16, () => performance.now() - t0 > 1500, async (i) => {
        await engine.query(read(i));
        n++;
      });
      const capacity = n / 1.5;
      const durationMs = LONG ? 60_000 : 6_000;
      const perLane = { normal: new Tracker(), batch: new Tracker(), critical: new Tracker() };
      const offered = { normal: capacity * 5, batch: capacity * 5, critical: 20 };
      const maxQueued: Record<string, number> = { critical: 0, normal: 0, batch: 0 };
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      const heap0 = process.memoryUsage().heapUsed;
      const rss0 = process.memoryUsage.rss();
      let rssMax = rss0;
      const sampler = setInterval(() => {
        void engine.stats().then((s) => {
          for (const [name, lane] of Object.entries(s.lanes)) maxQueued[name] = Math.max(maxQueued[name] ?? 0, lane.queued);
        });
        rssMax = Math.max(rssMax, process.memoryUsage.rss());
      }, 250);
      const start = performance.now();
      const sent = { normal: 0, batch: 0, critical: 0 };
      const pending = new Set<Promise<unknown>>();
      // Halfway, while it sheds: HTTP says 503 + Retry-After to normal work, 200 to critical work.
      const body = (lane: string) => JSON.stringify({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 1, lane });
      const post = (lane: string) => fetch(`${url}/vector-store/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(lane) });
      const probe = new Promise<Response[]>((resolve) => setTimeout(() => resolve(Promise.all([...Array.from({ length: 20 }, () => post('normal')), post('critical')])), durationMs / 2));
      await new Promise<void>((resolve) => {
        const pump = setInterval(() => {
          const elapsed = performance.now() - start;
          for (const lane of ['normal', 'batch', 'critical'] as const) {
            const due = Math.floor((elapsed / 1000) * offered[lane]);
            while (sent[lane] < due) {
              const i = sent[lane]++;
              const p = perLane[lane].track(engine.query(read(i), { lane }), 2000);
              pending.add(p);
              void p.finally(() => pending.delete(p));
            }
          }
          if (elapsed >= durationMs) {
            clearInterval(pump);
            resolve();
          }
        }, 5);
      });
      const during = await probe;
      clearInterval(sampler);
      await Promise.all([...pending]);
      const hung = (await perLane.normal.hung()) + (await perLane.batch.hung()) + (await perLane.critical.hung());
      gc?.();
      const heapGrowthMb = (process.memoryUsage().heapUsed - heap0) / 1e6;
      const s = await engine.stats();
      const shedStatuses = during.slice(0, 20).filter((r) => r.status === 503);
      const critP99 = s.lanes['critical']!.end_to_end.p99_us / 1000;
      const all = new Tracker();
      for (const t of Object.values(perLane)) {
        all.sent += t.sent;
        all.succeeded += t.succeeded;
        for (const [c, k] of Object.entries(t.failedByCode)) all.failedByCode[c] = (all.failedByCode[c] ?? 0) + k;
      }
      reportFault(all.row(`overload 10x capacity (${Math.round(capacity)} req/s) for ${durationMs / 1000} s`, hung, null,
        `critical ${perLane.critical.succeeded}/${perLane.critical.sent} ok, p99 ${critP99.toFixed(1)} ms; max queued ${JSON.stringify(maxQueued)}; peak RSS +${Math.round((rssMax - rss0) / 1e6)} MB, live heap after ${heapGrowthMb >= 0 ? '+' : ''}${heapGrowthMb.toFixed(1)} MB`));
      expect(hung).toBe(0);
      // Critical work is never shed and is served within its deadline.
      expect(perLane.critical.succeeded).toBe(perLane.critical.sent);
      expect(s.lanes['critical']!.rejected_full + s.lanes['critical']!.shed).toBe(0);
      // Normal and batch work is shed, typed.
      expect(s.lanes['normal']!.rejected_full + s.lanes['normal']!.shed).toBeGreaterThan(0);
      expect(s.lanes['batch']!.rejected_full + s.lanes['batch']!.shed).toBeGreaterThan(0);
      for (const t of [perLane.normal, perLane.batch]) {
        expect(Object.keys(t.failedByCode).every((c) => ['WEX_QUEUE_FULL', 'WEX_DEADLINE_EXCEEDED'].includes(c))).toBe(true);
      }
      // Queues within their bounds; memory bounded.
      expect(maxQueued['normal']).toBeLessThanOrEqual(400);
      expect(maxQueued['batch']).toBeLessThanOrEqual(200);
      // Memory is bounded: nothing is retained once the flood has passed, and the peak stays far
      // from what 10x the load kept in flight would take (the peak mostly is garbage not yet collected).
      expect(heapGrowthMb).toBeLessThan(30);
      expect(rssMax - rss0).toBeLessThan(800e6);
      expect(shedStatuses.length).toBeGreaterThan(0);
      expect(shedStatuses.every((r) => r.headers.get('retry-after') === '1')).toBe(true);
      expect(during[20]!.status).toBe(200);
      await sleep(100);
    } finally {
      await app.close();
    }
  });
});
