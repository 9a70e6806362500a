import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type WeaviatePool } from '../../src/pool/create.ts';
import { DEFAULT_SAMPLE_SIZE, SAMPLE_COLLECTION, embed } from '../../src/data/sample.ts';
import { httpGet } from '../../src/launcher/http-probe.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
let pool: WeaviatePool;
beforeAll(async () => {
  pool = await createPool({ weaviate: target, minConnections: 1, maxConnections: 2 });
});
afterAll(() => pool.close());

describe('sample data (real Weaviate)', () => {
  it('is stored as M_asset_schema with the Korean tokenizer and self-provided vectors', async () => {
    const schema = JSON.parse((await httpGet(`http://${target.host}:${target.httpPort}/v1/schema`, 5000)).body) as {
      classes: { class: string; properties: { name: string; tokenization?: string }[]; vectorConfig?: unknown }[];
    };
    const cls = schema.classes.find((c) => c.class === 'M_asset_schema');
    expect(cls).toBeDefined();
    expect(cls!.properties.find((p) => p.name === 'title')?.tokenization).toBe('kagome_kr');
    expect(cls!.properties.find((p) => p.name === 'content')?.tokenization).toBe('kagome_kr');
    const count = await pool.withConnection((c) => c.collections.use(SAMPLE_COLLECTION).aggregate.overAll());
    expect(count.totalCount).toBe(DEFAULT_SAMPLE_SIZE);
  });

  it("runs the note's example: hybrid search for 삼성전자, limit 5, returns Samsung Electronics first", async () => {
    const result = await pool.withConnection((client) =>
      client.collections.use('m_asset_schema').query.hybrid('삼성전자', { vector: embed('삼성전자'), limit: 5 }),
    );
    expect(result.objects).toHaveLength(5);
    expect(result.objects.map((o) => o.properties['company'])).toEqual(Array(5).fill('삼성전자'));
  });

  it('bm25 with the Korean tokenizer finds a company by name inside Korean sentences', async () => {
    const result = await pool.withConnection((client) =>
      client.collections.use(SAMPLE_COLLECTION).query.bm25('SK하이닉스 HBM', { limit: 5, returnProperties: ['company', 'title'] }),
    );
    expect(result.objects[0]?.properties['company']).toBe('SK하이닉스');
  });
});
