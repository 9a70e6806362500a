/**
 * Writes through the engine: insertMany specs on a `write` lane that has its own worker (and so
 * its own connections: the note's "separate read and write connections"), validated like reads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import weaviate from 'weaviate-client';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { embed } from '../../src/data/sample.ts';
import { silentLogger } from '../../src/log.ts';
import { createPool } from '../../src/pool/create.ts';
import type { InsertResult, QueryResult } from '../../src/query/spec.ts';
import { rejectionOf } from '../support/rejection.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
const COLLECTION = `Write_test_${process.pid}`;
let engine: Executor;

beforeAll(async () => {
  const pool = await createPool({ weaviate: target, minConnections: 1, maxConnections: 1, logger: silentLogger }, {});
  await pool.withConnection((c) =>
    c.collections.create({
      name: COLLECTION,
      properties: [{ name: 'title', dataType: 'text' }, { name: 'n', dataType: 'int' }],
      vectorizers: weaviate.configure.vectors.selfProvided(),
    }),
  );
  await pool.close();
  engine = await createExecutor(
    { weaviate: target, workers: 2, minConnections: 2, maxConnections: 4, lanes: { write: { dedicatedWorkers: 1, maxQueue: 100 } }, logger: silentLogger },
    {},
  );
});
afterAll(async () => {
  await engine?.close();
  const pool = await createPool({ weaviate: target, minConnections: 1, maxConnections: 1, logger: silentLogger }, {});
  await pool.withConnection((c) => c.collections.delete(COLLECTION));
  await pool.close();
});

describe('writes (real Weaviate)', () => {
  it('insertMany on the write lane stores the objects, on the write lane its own worker and connections', async () => {
    const objects = Array.from({ length: 50 }, (_, n) => ({ properties: { title: `문서 ${n}`, n }, vector: embed(`문서 ${n}`) }));
    const inserted = (await engine.query({ kind: 'insertMany', collection: COLLECTION, objects }, { lane: 'write' })) as InsertResult;
    expect(inserted).toMatchObject({ inserted: 50, errors: [] });
    expect(inserted.uuids).toHaveLength(50);
    const read = (await engine.query({ kind: 'fetchObjects', collection: COLLECTION, limit: 100, filters: { property: 'n', operator: 'greaterThanEqual', value: 25 } })) as QueryResult;
    expect(read.objects).toHaveLength(25);
    const stats = await engine.stats();
    const writer = stats.workers.find((w) => w.index === 0)!;
    const reader = stats.workers.find((w) => w.index === 1)!;
    expect(writer.completed).toBe(1); // only the write ran there
    expect(reader.completed).toBeGreaterThanOrEqual(1);
    expect(writer.pool!.total_connections).toBeGreaterThanOrEqual(1);
    expect(reader.pool!.total_connections).toBeGreaterThanOrEqual(1);
  });

  it('bad objects are refused before anything is written, naming the field', async () => {
    const error = await rejectionOf(engine.query({ kind: 'insertMany', collection: COLLECTION, objects: [{ properties: { title: 'ok' }, vector: embed('ok') }, { properties: { nope: 1 } }] }, { lane: 'write' }));
    expect(error).toMatchObject({ code: 'WEX_VALIDATION', details: { field: 'objects[1].properties.nope' } });
    const count = (await engine.query({ kind: 'fetchObjects', collection: COLLECTION, limit: 1000 })) as QueryResult;
    expect(count.objects).toHaveLength(50);
  });
});
