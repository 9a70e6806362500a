/**
 * The main thread's schema knowledge stays fresh: a collection created a moment ago is found
 * (a spec naming an unknown collection waits for a schema read that started after it arrived),
 * and the vector length of a collection first seen empty is checked once vectors appear.
 */
import { describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
import { silentLogger } from '../../src/log.ts';
import { rejectionOf } from '../support/rejection.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);

describe('schema freshness', () => {
  it('a collection created by a task is known to query() at once; its vector length is checked once vectors were written', async () => {
    await using engine = await createExecutor({ weaviate: target, workers: 1, maxConnections: 2, taskModule: tasks, logger: silentLogger, workerLogLevel: 'silent' }, {});
    const name = `Fresh_${process.pid}_${Date.now()}`;
    // The schema was read at start (and is read again for misses): a query now warms the cache.
    expect((await rejectionOf(engine.query({ kind: 'bm25', collection: name, query: 'x', limit: 1 }))).code).toBe('WEX_VALIDATION');
    await engine.run('createCollection', { name });
    try {
      const r = await engine.query({ kind: 'bm25', collection: name, query: 'x', limit: 1 });
      expect('objects' in r && r.objects).toEqual([]);
      // First seen empty: no dimensions known. Vectors written through the engine teach them.
      const vector = (seed: number, n: number) => Array.from({ length: n }, (_, i) => Math.sin(seed + i));
      await engine.query({ kind: 'insertMany', collection: name, objects: [{ properties: { title: 'a' }, vector: vector(1, 8) }] });
      const wrong = await rejectionOf(engine.query({ kind: 'nearVector', collection: name, vector: vector(2, 4), limit: 1 }));
      expect(wrong.code).toBe('WEX_VALIDATION');
      expect(wrong.message).toMatch(/8-dimensional/);
      const right = await engine.query({ kind: 'nearVector', collection: name, vector: vector(2, 8), limit: 1 });
      expect('objects' in right && right.objects.length).toBe(1);
      await engine.refreshSchema();
    } finally {
      await engine.run('deleteCollection', { name });
    }
  });
});
