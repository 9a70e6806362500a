/**
 * Soak: ~70 % of capacity for a while; RSS, open handles and sockets do not grow. Short form
 * here (15 s); `npm run soak` runs it for 5 minutes (SOAK_MS to change).
 */
import { describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
import { silentLogger } from '../../src/log.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { closedLoad, read } from '../support/load.ts';
import { Tracker, reportFault } from '../support/tracker.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
const SOAK_MS = Number(process.env['SOAK_MS'] ?? 15_000);

describe('fault: soak', () => {
  it(`~70 % load for ${SOAK_MS / 1000} s: RSS, handles and sockets do not grow`, async () => {
    await using engine = await createExecutor({ weaviate: target, workers: 1, minConnections: 2, maxConnections: 4, logger: silentLogger }, {});
    let n = 0;
    const t0 = performance.now();
    await closedLoad(16, () => performance.now() - t0 > 1500, async (i) => {
      await engine.query(read(i));
      n++;
    });
    const rate = (n / 1.5) * 0.7;
    const tracker = new Tracker();
    // Handles: sockets, pipes, ports, servers... (timers come and go with in-flight requests).
    const samples: { at: number; rss: number; handles: number; sockets: number; heap: number }[] = [];
    const gc = (globalThis as { gc?: () => void }).gc;
    // The live heap after a full collection (--expose-gc), not whatever garbage waits to be collected.
    const sample = () => {
      gc?.();
      samples.push({ at: performance.now(), rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed, handles: process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'Immediate').length, sockets: countEstablished(target.grpcPort!) });
    };
    const sampler = setInterval(sample, 1000);
    const start = performance.now();
    let sent = 0;
    const pending = new Set<Promise<unknown>>();
    await new Promise<void>((resolve) => {
      const pump = setInterval(() => {
        const elapsed = performance.now() - start;
        const due = Math.floor((elapsed / 1000) * rate);
        while (sent < due) {
          const p = tracker.track(engine.query(read(sent++), { deadlineMs: 5000 }), 5000);
          pending.add(p);
          void p.finally(() => pending.delete(p));
        }
        if (elapsed >= SOAK_MS) {
          clearInterval(pump);
          resolve();
        }
      }, 5);
    });
    clearInterval(sampler);
    await Promise.all(pending);
    const hung = await tracker.hung();
    // Compare the second quarter with the last (the first warms caches and JIT).
    const q = samples.filter((s) => s.at - start > SOAK_MS / 4 && s.at - start <= SOAK_MS / 2);
    const last = samples.filter((s) => s.at - start > (SOAK_MS * 3) / 4);
    const avg = (xs: typeof samples, f: (s: (typeof samples)[number]) => number) => xs.reduce((a, s) => a + f(s), 0) / Math.max(1, xs.length);
    const rssGrowthMb = (avg(last, (s) => s.rss) - avg(q, (s) => s.rss)) / 1e6;
    const heapGrowthMb = (avg(last, (s) => s.heap) - avg(q, (s) => s.heap)) / 1e6;
    const handleGrowth = Math.max(...last.map((s) => s.handles)) - Math.max(...q.map((s) => s.handles));
    const socketGrowth = Math.max(...last.map((s) => s.sockets)) - Math.max(...q.map((s) => s.sockets));
    reportFault(tracker.row(`soak at ${Math.round(rate)} req/s (~70 %) for ${SOAK_MS / 1000} s`, hung, null,
      `live heap ${heapGrowthMb >= 0 ? '+' : ''}${heapGrowthMb.toFixed(1)} MB, RSS ${rssGrowthMb >= 0 ? '+' : ''}${rssGrowthMb.toFixed(1)} MB, handles ${handleGrowth >= 0 ? '+' : ''}${handleGrowth}, sockets ${socketGrowth >= 0 ? '+' : ''}${socketGrowth}`));
    expect(hung).toBe(0);
    expect(tracker.succeeded).toBeGreaterThan(tracker.sent * 0.99);
    expect(gc).toBeDefined();
    // The live heap is what a leak grows; RSS only loosely follows it (the allocator keeps pages).
    expect(heapGrowthMb).toBeLessThan(10);
    expect(rssGrowthMb).toBeLessThan(150);
    expect(handleGrowth).toBeLessThanOrEqual(2);
    expect(socketGrowth).toBeLessThanOrEqual(0);
  });
});
