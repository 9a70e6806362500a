/**
 * Coalescing identical reads on the real path: a burst of one bm25 read on a lane with
 * `coalesce` reaches the worker fewer times than it was asked (counted inside the worker, not by
 * the coalescer), every caller gets the same answer, and reads that differ are never joined.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { silentLogger } from '../../src/log.ts';
import { sharedTarget } from '../support/weaviate.ts';

let engine: Executor;
beforeAll(async () => {
  engine = await createExecutor(
    { weaviate: sharedTarget(), workers: 1, minConnections: 1, maxConnections: 1, maxStreamsPerConnection: 1, lanes: { normal: { coalesce: true } }, logger: silentLogger },
    {},
  );
});
afterAll(() => engine?.close());

const workerCompleted = async () => (await engine.stats()).workers.reduce((sum, w) => sum + w.completed, 0);

describe('coalescing identical reads', () => {
  it('a burst of one read runs fewer times than asked; every caller gets the answer; hits are counted', async () => {
    const before = await workerCompleted();
    const spec = { kind: 'bm25' as const, collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 5, returnProperties: ['title', 'company'] };
    const results = await Promise.all(Array.from({ length: 20 }, () => engine.query(spec, { lane: 'normal' })));
    const ran = (await workerCompleted()) - before;
    const stats = await engine.stats();
    const coalesced = stats.lanes['normal']!.coalesced!;
    expect(coalesced).toBeGreaterThan(0);
    expect(ran + coalesced).toBe(20);
    expect(ran).toBeLessThan(20);
    for (const r of results) expect(r.objects.map((o) => o.uuid)).toEqual(results[0]!.objects.map((o) => o.uuid));
    expect(results[1]).not.toBe(results[0]);
    // The critical lane has no coalescing.
    expect(stats.lanes['critical']!.coalesced).toBe(0);
  });

  it('reads that differ are never joined', async () => {
    const before = await workerCompleted();
    const hits = (await engine.stats()).lanes['normal']!.coalesced!;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: i + 1 }, { lane: 'normal' })),
    );
    expect(results.map((r) => r.objects.length)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect((await workerCompleted()) - before).toBe(10);
    expect((await engine.stats()).lanes['normal']!.coalesced).toBe(hits);
  });
});
