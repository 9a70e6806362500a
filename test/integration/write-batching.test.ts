/**
 * Write micro-batching on the real path: concurrent small inserts on a lane with `batchWrites`
 * reach the worker as fewer inserts (counted inside the worker), each caller gets the uuids of
 * its own objects, and Weaviate holds every object under the uuid its caller was given.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { silentLogger } from '../../src/log.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
const base = `http://${target.host}:${target.httpPort}`;
const COLLECTION = `WexBatch${process.pid}`;
let engine: Executor;

beforeAll(async () => {
  const r = await fetch(`${base}/v1/schema`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ class: COLLECTION, vectorizer: 'none', properties: [{ name: 'caller', dataType: ['int'] }, { name: 'i', dataType: ['int'] }] }),
  });
  expect(r.status).toBe(200);
  engine = await createExecutor(
    { weaviate: target, workers: 1, minConnections: 1, maxConnections: 1, maxStreamsPerConnection: 1, lanes: { write: { batchWrites: { maxObjects: 50, maxDelayMs: 20 } } }, logger: silentLogger },
    {},
  );
});
afterAll(async () => {
  await engine?.close();
  await fetch(`${base}/v1/schema/${COLLECTION}`, { method: 'DELETE' });
});

describe('write micro-batching', () => {
  it('concurrent small inserts go as fewer inserts; each caller gets its own uuids, all stored', async () => {
    const workerCompleted = async () => (await engine.stats()).workers.reduce((sum, w) => sum + w.completed, 0);
    const before = await workerCompleted();
    const sizes = Array.from({ length: 20 }, (_, k) => 1 + (k % 3));
    const results = await Promise.all(
      sizes.map((n, caller) =>
        engine.query({ kind: 'insertMany', collection: COLLECTION, objects: Array.from({ length: n }, (_, i) => ({ properties: { caller, i } })) }, { lane: 'write' }),
      ),
    );
    const ran = (await workerCompleted()) - before;
    const stats = (await engine.stats()).lanes['write']!;
    expect(stats.write_batches!.batches).toBe(ran);
    expect(ran).toBeLessThan(20);
    expect(stats.write_batches!.joined).toBe(20 - ran);
    results.forEach((r, caller) => {
      expect(r.errors).toEqual([]);
      expect(r.uuids).toHaveLength(sizes[caller]!);
      expect(r.inserted).toBe(sizes[caller]);
    });
    // Each uuid holds its caller's object, in the caller's order.
    for (const [caller, r] of results.entries()) {
      for (const [i, uuid] of r.uuids.entries()) {
        const o = (await (await fetch(`${base}/v1/objects/${COLLECTION}/${uuid}`)).json()) as { properties: { caller: number; i: number } };
        expect(o.properties).toEqual({ caller, i });
      }
    }
    // Lanes without batchWrites send their own inserts.
    expect((await engine.stats()).lanes['normal']!.write_batches).toBeUndefined();
  });
});
