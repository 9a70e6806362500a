/**
 * insertMany on a pooled connection (src/weaviate/insert.ts: weaviate-client's own per-object
 * serializer in one pass, without its 500 ms poll) against weaviate-client's
 * `collection.data.insertMany` on the same connection: the same objects stored, the same
 * per-object errors at the same indexes. Also the guard for upgrades of weaviate-client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import weaviate, { type WeaviateClient } from 'weaviate-client';
import { silentLogger } from '../../src/log.ts';
import { createPool, type WeaviatePool } from '../../src/pool/create.ts';
import { inserterOf, type InsertObject } from '../../src/weaviate/insert.ts';
import { sharedTarget } from '../support/weaviate.ts';

const LEAN = `Insert_lean_${process.pid}`;
const STOCK = `Insert_stock_${process.pid}`;
let pool: WeaviatePool;

const properties = [
  { name: 'title', dataType: 'text' as const },
  { name: 'n', dataType: 'int' as const },
  { name: 'price', dataType: 'number' as const },
  { name: 'listed', dataType: 'boolean' as const },
  { name: 'at', dataType: 'date' as const },
  { name: 'tags', dataType: 'text[]' as const },
  { name: 'counts', dataType: 'int[]' as const },
  { name: 'issuer', dataType: 'object' as const, nestedProperties: [{ name: 'name', dataType: 'text' as const }, { name: 'shares', dataType: 'int' as const }] },
];

beforeAll(async () => {
  pool = await createPool({ weaviate: sharedTarget(), minConnections: 1, maxConnections: 1, logger: silentLogger }, {});
  await pool.withConnection(async (c) => {
    for (const name of [LEAN, STOCK]) {
      await c.collections.create({ name, properties, vectorizers: weaviate.configure.vectors.selfProvided() });
    }
  });
});
afterAll(async () => {
  await pool?.withConnection(async (c) => {
    await c.collections.delete(LEAN);
    await c.collections.delete(STOCK);
  });
  await pool?.close();
});

function objects(offset: number): InsertObject[] {
  return Array.from({ length: 40 }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(offset + i).padStart(12, '0')}`,
    properties: {
      title: `삼성전자 보고서 ${i}`,
      n: i,
      price: i * 1.25,
      listed: i % 2 === 0,
      at: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
      tags: ['반도체', `t${i}`],
      counts: [i, i + 1],
      issuer: { name: `발행사 ${i}`, shares: i * 10 },
    },
    vectors: Array.from({ length: 8 }, (_, d) => Math.sin(i + d)),
  }));
}

async function stored(c: WeaviateClient, name: string) {
  const res = await c.collections.use(name).query.fetchObjects({ limit: 100, includeVector: true });
  return res.objects
    .map((o) => ({ id: o.uuid, properties: o.properties, vectors: o.vectors }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

describe('insertMany on a pooled connection', () => {
  it('stores what weaviate-client stores and reports the same per-object errors', async () => {
    await pool.withConnection(async (c) => {
      const insert = inserterOf(c);
      expect(insert, 'a pooled client registers the inserter').toBeTypeOf('function');
      const good = objects(0);
      // Index 3: a text where an int belongs; index 7: a vector of the wrong length.
      const withBad = good.map((o) => ({ ...o, properties: { ...o.properties } }));
      withBad[3]!.properties['n'] = 'not a number';
      withBad[7] = { ...withBad[7]!, vectors: [1, 2, 3] };

      const lean = await insert!(LEAN, withBad, {});
      const stock = await c.collections.use(STOCK).data.insertMany(withBad as never);
      expect(Object.keys(lean.errors).map(Number).sort((a, b) => a - b)).toEqual(Object.keys(stock.errors).map(Number).sort((a, b) => a - b));
      expect(Object.keys(lean.errors).length).toBeGreaterThanOrEqual(1);
      // The same cause per object: the message's last clause (the path before it names the
      // collection, internal doc ids and the HNSW levels the server happened to walk).
      const norm = (m: string) => m.slice(m.lastIndexOf(': ') + 2);
      for (const [index, error] of Object.entries(stock.errors)) {
        expect(norm(lean.errors[Number(index)]!.message)).toBe(norm(error.message));
      }
      expect(lean.uuids).toEqual(stock.uuids);

      const [a, b] = [await stored(c, LEAN), await stored(c, STOCK)];
      // (Weaviate keeps an object whose vector failed to index: what is stored is compared, not counted.)
      expect(a.length).toBeGreaterThanOrEqual(40 - Object.keys(stock.errors).length);
      expect(a).toEqual(b);
    });
  });
});
