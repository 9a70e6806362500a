/**
 * The lean query path (src/wire) against weaviate-client, on the real Weaviate: random specs
 * (fast-check) run through both must give equal results (objects, order, properties of every
 * type incl. dates, arrays and nested objects, metadata, vectors) and equal errors for requests
 * the server rejects. This is also the guard for upgrades of weaviate-client (pinned): the lean
 * path builds requests and reads replies as the client's 3.14 does, with its generated codecs.
 *
 * Path choice: a pooled client carries the lean path (asserted below, so nothing passes by
 * accident), a stock weaviate-client does not, and `executeSpec` takes whichever the client has.
 */
import fc from 'fast-check';
import weaviate, { type WeaviateClient } from 'weaviate-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDING_DIMENSIONS, SAMPLE_COLLECTION, embed, prng } from '../../src/data/sample.ts';
import { createExecutor } from '../../src/engine/executor.ts';
import { handedReplies } from '../../src/engine/reply-handoff.ts';
import { silentLogger } from '../../src/log.ts';
import { resolveTarget } from '../../src/pool/config.ts';
import { createPool, type WeaviatePool } from '../../src/pool/create.ts';
import { executeSpec } from '../../src/query/execute.ts';
import { METADATA_FIELDS, validateSpec, type FilterSpec, type QuerySpec } from '../../src/query/spec.ts';
import { leanPathOf } from '../../src/wire/lean-path.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = resolveTarget(sharedTarget());
/** A collection of this test only: every property type, two named vectors, two tenants. */
const EXTRA = `Lean_diff_${process.pid}`;
const TENANTS = ['t1', 't2'] as const;
const DIMS = { a: 8, b: 4 } as const;
const WORDS = ['alpha', 'beta', 'gamma', 'delta', 'omega', 'sigma', 'kappa', 'theta'];
const RUNS = Number(process.env['LEAN_DIFF_RUNS'] ?? 150);

let pool: WeaviatePool;
let stock: WeaviateClient;

async function lean(spec: QuerySpec): Promise<unknown> {
  return pool.withConnection((client) => {
    expect(leanPathOf(client)).toBeDefined();
    return executeSpec(client, spec, AbortSignal.timeout(20_000));
  });
}

function viaClient(spec: QuerySpec): Promise<unknown> {
  return executeSpec(stock, spec, AbortSignal.timeout(20_000));
}

/**
 * What may differ between two runs of one request at the server, whatever the client: BM25
 * sums floats in no fixed order (the last digits of a score move), Go prints map keys in random
 * order (error messages), and explainScore's text varies. So scores and distances are compared
 * within 1e-4, bracketed lists sorted, explainScore by presence; everything else (objects,
 * order, properties, vectors, error classes and messages) must be identical.
 */
const sortList = (text: string) => text.replace(/\[([^\]]*)\]/g, (_, l: string) => `[${l.split(' ').sort().join(' ')}]`);

function normalise(result: unknown, tolerant: boolean): unknown {
  const r = result as { value?: { objects: { metadata?: Record<string, unknown> }[] }; error?: { name: string; message: string } | string };
  const num = (x: number) => (tolerant ? expect.closeTo(x, 4) : x);
  if (typeof r.error === 'string') return r;
  if (r.error) return { error: { name: r.error.name, message: sortList(r.error.message) } };
  for (const o of r.value!.objects) {
    if (!o.metadata) continue;
    for (const k of ['score', 'distance', 'certainty']) if (typeof o.metadata[k] === 'number') o.metadata[k] = num(o.metadata[k]);
    // explainScore is not even stable for one client: the stock client alone got two texts for one
    // bm25 request ('배터리 수주' as one token group or two) in 20 runs. Only its presence is compared.
    if ('explainScore' in o.metadata) o.metadata['explainScore'] = typeof o.metadata['explainScore'];
  }
  return r;
}

/** Both paths, one after the other, settled: values or errors (class name and message). */
async function both(spec: QuerySpec): Promise<[unknown, unknown]> {
  const settle = (p: Promise<unknown>) =>
    p.then(
      (value) => ({ value }),
      (e: unknown) => ({ error: { name: (e as Error).name, message: (e as Error).message } }),
    );
  const a = await settle(lean(spec));
  const b = await settle(viaClient(spec));
  return [normalise(a, false), normalise(b, true)];
}

/**
 * `a` (the lean path's answer) equals `b` (the stock client's); except where the server itself
 * answers one request differently from call to call: a hybrid whose fused scores tie within
 * float32 noise (alpha 1.37e-7 on the sample collection: 25 objects scored 0.99999988-1, and six
 * calls of the stock client alone returned six orders, 2026-11-27; where the tied group is larger
 * than the limit, which of them come back varies too). When the stock client, asked again up to 5
 * times, gets two different answers itself, the choice and order among ties is the server's: the
 * lean answer must then hold as many objects, and each of them that a stock answer also holds must
 * equal it (properties, vectors, metadata). When the stock client answers steadily, any difference
 * is the lean path's and fails.
 */
async function expectSame(spec: QuerySpec, a: unknown, b: unknown): Promise<void> {
  try {
    expect(a).toStrictEqual(b);
    return;
  } catch (difference) {
    const objectsOf = (r: unknown) => (r as { value?: { objects: { uuid?: string }[] } }).value?.objects ?? [];
    const order = (r: unknown) => JSON.stringify(objectsOf(r).map((o) => o.uuid));
    const answers = [b];
    const seen = new Set([order(b)]);
    for (let i = 0; i < 5 && seen.size < 2; i++) {
      const again = await viaClient(spec).then((value) => normalise({ value }, true), () => undefined);
      if (again === undefined) continue;
      answers.push(again);
      seen.add(order(again));
    }
    if (seen.size < 2) throw difference;
    const stockCopy = new Map(answers.flatMap((r) => objectsOf(r).map((o) => [o.uuid, o] as const)));
    expect(objectsOf(a)).toHaveLength(objectsOf(b).length);
    let compared = 0;
    for (const o of objectsOf(a)) {
      const copy = stockCopy.get(o.uuid);
      if (copy === undefined) continue;
      expect(o).toStrictEqual(copy);
      compared++;
    }
    if (objectsOf(a).length > 0) expect(compared).toBeGreaterThan(0);
  }
}

function extraObject(i: number, rand: () => number) {
  const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const maybe = <T,>(v: T) => (rand() < 0.15 ? undefined : v); // nulls too
  const day = (n: number) => new Date(Date.UTC(2020, 0, 1) + n * 86_400_000 + Math.floor(rand() * 86_400) * 1000);
  const props: Record<string, unknown> = {
    title: `${pick(WORDS)} ${pick(WORDS)} ${i}`,
    count: maybe(Math.floor(rand() * 100) - 20),
    price: maybe(Math.round(rand() * 10_000) / 100),
    active: maybe(rand() < 0.5),
    born: maybe(day(i * 3)),
    tags: maybe([pick(WORDS), pick(WORDS)]),
    counts: maybe([Math.floor(rand() * 10), -Math.floor(rand() * 10), 2 ** 40 + i]),
    prices: maybe([rand() * 3, -rand(), 1e-7 * i]),
    flags: maybe([rand() < 0.5, true, false]),
    dates: maybe([day(i), day(i + 400)]),
    ref_id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    info: maybe({ label: pick(WORDS), score: rand() * 5, inner: { n: i }, items: [{ k: pick(WORDS) }, { k: pick(WORDS) }] }),
  };
  for (const k of Object.keys(props)) if (props[k] === undefined) delete props[k];
  const vec = (n: number) => Array.from({ length: n }, () => rand() * 2 - 1);
  return { properties: props, vectors: { a: vec(DIMS.a), b: vec(DIMS.b) } };
}

beforeAll(async () => {
  pool = await createPool({ weaviate: target, minConnections: 1, maxConnections: 2 });
  stock = await weaviate.connectToCustom({ httpHost: target.host, httpPort: target.httpPort, grpcHost: target.grpcHost, grpcPort: target.grpcPort, skipInitChecks: true });
  await stock.collections.delete(EXTRA).catch(() => {});
  const coll = await stock.collections.create({
    name: EXTRA,
    properties: [
      { name: 'title', dataType: 'text' },
      { name: 'count', dataType: 'int' },
      { name: 'price', dataType: 'number' },
      { name: 'active', dataType: 'boolean' },
      { name: 'born', dataType: 'date' },
      { name: 'tags', dataType: 'text[]' },
      { name: 'counts', dataType: 'int[]' },
      { name: 'prices', dataType: 'number[]' },
      { name: 'flags', dataType: 'boolean[]' },
      { name: 'dates', dataType: 'date[]' },
      { name: 'ref_id', dataType: 'uuid' },
      {
        name: 'info',
        dataType: 'object',
        nestedProperties: [
          { name: 'label', dataType: 'text' },
          { name: 'score', dataType: 'number' },
          { name: 'inner', dataType: 'object', nestedProperties: [{ name: 'n', dataType: 'int' }] },
          { name: 'items', dataType: 'object[]', nestedProperties: [{ name: 'k', dataType: 'text' }] },
        ],
      },
    ],
    vectorizers: [weaviate.configure.vectors.selfProvided({ name: 'a' }), weaviate.configure.vectors.selfProvided({ name: 'b' })],
    multiTenancy: weaviate.configure.multiTenancy({ enabled: true }),
    invertedIndex: weaviate.configure.invertedIndex({ indexNullState: true }),
  });
  await coll.tenants.create(TENANTS.map((name) => ({ name })));
  for (const [t, tenant] of TENANTS.entries()) {
    const rand = prng(7 + t);
    const objects = Array.from({ length: 40 }, (_, i) => extraObject(i + t * 100, rand));
    const res = await coll.withTenant(tenant).data.insertMany(objects as never);
    expect(res.hasErrors).toBe(false);
  }
});

afterAll(async () => {
  await stock?.collections.delete(EXTRA).catch(() => {});
  await stock?.close();
  await pool?.close();
});

// ---- arbitraries ---------------------------------------------------------------------------------

const word = fc.constantFrom(...WORDS);
const vector = (n: number) => fc.array(fc.float({ min: -1, max: 1, noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });
const isoDay = fc.integer({ min: 0, max: 800 }).map((d) => new Date(Date.UTC(2020, 0, 1) + d * 86_400_000).toISOString());
const metadata = fc.option(fc.subarray([...METADATA_FIELDS], { minLength: 1 }), { nil: undefined });
const page = fc.record(
  { limit: fc.option(fc.integer({ min: 1, max: 25 }), { nil: undefined }), offset: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }) },
  { requiredKeys: [] },
);
const ordered = fc.constantFrom('equal', 'notEqual', 'lessThan', 'lessThanEqual', 'greaterThan', 'greaterThanEqual') as fc.Arbitrary<'equal'>;

function tree(leaf: fc.Arbitrary<FilterSpec>): fc.Arbitrary<FilterSpec> {
  return fc.oneof(
    { weight: 4, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(leaf, { minLength: 1, maxLength: 3 }).map((and) => ({ and })) },
    { weight: 1, arbitrary: fc.array(leaf, { minLength: 1, maxLength: 3 }).map((or) => ({ or })) },
    { weight: 1, arbitrary: leaf.map((not) => ({ not })) },
  );
}

const extraFilter = tree(
  fc.oneof(
    fc.record({ property: fc.constant('count'), operator: ordered, value: fc.integer({ min: -25, max: 100 }) }),
    fc.record({ property: fc.constant('price'), operator: ordered, value: fc.double({ min: 0, max: 100, noNaN: true }) }),
    fc.record({ property: fc.constant('active'), operator: fc.constantFrom('equal', 'notEqual') as fc.Arbitrary<'equal'>, value: fc.boolean() }),
    fc.record({ property: fc.constant('born'), operator: ordered, value: isoDay }),
    fc.record({ property: fc.constant('tags'), operator: fc.constantFrom('containsAny', 'containsAll') as fc.Arbitrary<'containsAny'>, value: fc.array(word, { minLength: 1, maxLength: 3 }) }),
    fc.record({ property: fc.constant('counts'), operator: fc.constant('containsAny') as fc.Arbitrary<'containsAny'>, value: fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 1, maxLength: 3 }) }),
    fc.record({ property: fc.constant('title'), operator: fc.constant('like') as fc.Arbitrary<'like'>, value: word.map((w) => `${w}*`) }),
    fc.record({ property: fc.constantFrom('count', 'born', 'info', 'tags'), operator: fc.constant('isNull') as fc.Arbitrary<'isNull'>, value: fc.boolean() }),
  ),
);

const SAMPLE_PROPS = ['title', 'content', 'company', 'ticker', 'sector', 'doc_type', 'rating', 'broker', 'target_price', 'doc_id', 'published_at'];
const sampleFilter = tree(
  fc.oneof(
    fc.record({ property: fc.constantFrom('target_price', 'doc_id'), operator: ordered, value: fc.integer({ min: 0, max: 200_000 }) }),
    fc.record({ property: fc.constant('published_at'), operator: ordered, value: isoDay }),
    fc.record({ property: fc.constantFrom('sector', 'doc_type'), operator: fc.constantFrom('equal', 'notEqual') as fc.Arbitrary<'equal'>, value: fc.constantFrom('반도체', '자동차', '바이오', 'report', 'news') }),
    fc.record({ property: fc.constant('company'), operator: fc.constant('containsAny') as fc.Arbitrary<'containsAny'>, value: fc.subarray(['삼성전자', 'SK하이닉스', '현대차', 'NAVER'], { minLength: 1 }) }),
  ),
);

const extraSpec: fc.Arbitrary<QuerySpec> = fc
  .record({
    kind: fc.constantFrom('hybrid', 'bm25', 'nearVector', 'fetchObjects'),
    tenant: fc.constantFrom(...TENANTS),
    targetVector: fc.constantFrom('a', 'b') as fc.Arbitrary<'a' | 'b'>,
    page,
    filters: fc.option(extraFilter, { nil: undefined }),
    returnProperties: fc.option(fc.subarray(['title', 'count', 'price', 'active', 'born', 'tags', 'counts', 'prices', 'flags', 'dates', 'ref_id', 'info'], { minLength: 1 }), { nil: undefined }),
    returnMetadata: metadata,
    includeVector: fc.boolean(),
    query: fc.array(word, { minLength: 1, maxLength: 2 }).map((w) => w.join(' ')),
    alpha: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    seed: fc.integer(),
    sort: fc.option(fc.record({ property: fc.constantFrom('count', 'price', 'born', 'title'), ascending: fc.option(fc.boolean(), { nil: undefined }) }), { nil: undefined }),
  })
  .chain((r) => vector(DIMS[r.targetVector]).map((v) => ({ ...r, v })))
  .map((r) => {
    const base = { collection: EXTRA, tenant: r.tenant, ...r.page, ...(r.filters ? { filters: r.filters } : {}), ...(r.returnProperties ? { returnProperties: r.returnProperties } : {}), ...(r.returnMetadata ? { returnMetadata: r.returnMetadata } : {}), ...(r.includeVector ? { includeVector: true } : {}), targetVector: r.targetVector };
    switch (r.kind) {
      case 'hybrid':
        return { ...base, kind: 'hybrid', query: r.query, vector: r.v, ...(r.alpha !== undefined ? { alpha: r.alpha } : {}) } as QuerySpec;
      case 'bm25':
        return { ...base, kind: 'bm25', query: r.query } as QuerySpec;
      case 'nearVector':
        return { ...base, kind: 'nearVector', vector: r.v } as QuerySpec;
      default:
        return { ...base, kind: 'fetchObjects', ...(r.sort ? { sort: r.sort.ascending === undefined ? { property: r.sort.property } : r.sort } : {}) } as QuerySpec;
    }
  });

const sampleSpec: fc.Arbitrary<QuerySpec> = fc
  .record({
    kind: fc.constantFrom('hybrid', 'bm25', 'nearVector', 'fetchObjects'),
    page,
    filters: fc.option(sampleFilter, { nil: undefined }),
    returnProperties: fc.option(fc.subarray(SAMPLE_PROPS, { minLength: 1 }), { nil: undefined }),
    returnMetadata: metadata,
    includeVector: fc.boolean(),
    query: fc.constantFrom('삼성전자', 'SK하이닉스 HBM', '배터리 수주', '전기차', 'AI 클라우드'),
    alpha: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    queryProperties: fc.option(fc.subarray(['title', 'content'], { minLength: 1 }), { nil: undefined }),
    sort: fc.option(fc.record({ property: fc.constantFrom('target_price', 'doc_id', 'published_at', 'company'), ascending: fc.boolean() }), { nil: undefined }),
    distance: fc.option(fc.double({ min: 0.2, max: 1.5, noNaN: true }), { nil: undefined }),
  })
  .map((r) => {
    const base = { collection: SAMPLE_COLLECTION, ...r.page, ...(r.filters ? { filters: r.filters } : {}), ...(r.returnProperties ? { returnProperties: r.returnProperties } : {}), ...(r.returnMetadata ? { returnMetadata: r.returnMetadata } : {}), ...(r.includeVector ? { includeVector: true } : {}) };
    const qp = r.queryProperties ? { queryProperties: r.queryProperties } : {};
    switch (r.kind) {
      case 'hybrid':
        return { ...base, kind: 'hybrid', query: r.query, vector: embed(r.query), ...qp, ...(r.alpha !== undefined ? { alpha: r.alpha } : {}) } as QuerySpec;
      case 'bm25':
        return { ...base, kind: 'bm25', query: r.query, ...qp } as QuerySpec;
      case 'nearVector':
        return { ...base, kind: 'nearVector', vector: embed(r.query), ...(r.distance !== undefined ? { distance: r.distance } : {}) } as QuerySpec;
      default:
        return { ...base, kind: 'fetchObjects', ...(r.sort ? { sort: r.sort } : {}) } as QuerySpec;
    }
  });

// ---- properties ----------------------------------------------------------------------------------

describe('lean path = weaviate-client (real Weaviate, random specs)', () => {
  it('the pooled client takes the lean path, the stock client does not', () => {
    expect(leanPathOf(stock)).toBeUndefined();
  });

  it('sample collection: bm25, nearVector, hybrid, fetchObjects with filters, metadata, vectors, sort, offset', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(sampleSpec, async (spec) => {
        validateSpec(spec);
        const [a, b] = await both(spec);
        await expectSame(spec, a, b);
        if ((a as { value?: { objects: unknown[] } }).value?.objects.length) nonEmpty++;
      }),
      // The first spec whose answers the server orders at random (CI, 2026-11-27, seed 1642715199).
      { numRuns: RUNS, examples: [[{ collection: SAMPLE_COLLECTION, kind: 'hybrid', query: '삼성전자', vector: embed('삼성전자'), queryProperties: ['title'], alpha: 1.3705953967851286e-7 } as QuerySpec]] },
    );
    expect(nonEmpty).toBeGreaterThan(RUNS / 3); // the comparison is about real answers, not empty ones
  });

  it('every property type, named vectors, tenants: the same objects, values and vectors', async () => {
    let nonEmpty = 0;
    let withNested = 0;
    await fc.assert(
      fc.asyncProperty(extraSpec, async (spec) => {
        validateSpec(spec);
        const [a, b] = await both(spec);
        await expectSame(spec, a, b);
        const objects = (a as { value?: { objects: { properties: Record<string, unknown> }[] } }).value?.objects ?? [];
        if (objects.length) nonEmpty++;
        if (objects.some((o) => typeof o.properties['info'] === 'object' && o.properties['dates'] instanceof Array)) withNested++;
      }),
      { numRuns: RUNS },
    );
    expect(nonEmpty).toBeGreaterThan(RUNS / 3);
    expect(withNested).toBeGreaterThan(0);
  });

  it('a full object reads back equal through both paths, with dates, 64-bit ints, arrays and nested objects', async () => {
    const spec: QuerySpec = { kind: 'fetchObjects', collection: EXTRA, tenant: 't1', limit: 40, includeVector: true, returnMetadata: ['creationTime', 'updateTime'], targetVector: 'a' };
    const [a, b] = await both(spec);
    expect(a).toStrictEqual(b);
    const objects = (a as { value: { objects: { properties: Record<string, unknown>; vector?: unknown }[] } }).value.objects;
    expect(objects).toHaveLength(40);
    const full = objects.find((o) => o.properties['info'] && o.properties['dates'] && o.properties['counts'])!;
    expect(full.properties['born'] ?? full.properties['dates']).toBeDefined();
    expect((full.properties['dates'] as unknown[])[0]).toBeInstanceOf(Date);
    expect((full.properties['counts'] as number[])[2]).toBeGreaterThan(2 ** 40 - 1);
    expect(full.vector).toEqual({ a: expect.any(Array) });
  });

  it.each(['bytes', 'objects'] as const)('through the engine with a worker (results cross a thread, replyHandoff %s): the same answers as weaviate-client', async (replyHandoff) => {
    const engine = await createExecutor({ weaviate: target, workers: 1, minConnections: 1, maxConnections: 1, replyHandoff, logger: silentLogger }, {});
    const decodedBefore = handedReplies.decoded;
    try {
      const specs = fc.sample(fc.oneof(sampleSpec, extraSpec), { numRuns: 40, seed: 42 });
      let compared = 0;
      for (const spec of specs) {
        const viaEngine = await engine.query(spec).then(
          (value) => ({ value }),
          (e: { code?: string }) => ({ error: e.code }),
        );
        const direct = await viaClient(spec).then(
          (value) => ({ value }),
          () => ({ error: 'WEX_QUERY_FAILED' }), // how the task runner classifies weaviate-client's errors
        );
        expect(normalise(viaEngine, false)).toStrictEqual(normalise(direct, true));
        if ('value' in viaEngine) compared++;
      }
      expect(compared).toBeGreaterThan(30);
      // bytes: every answered read was decoded on this thread from the worker's reply bytes; objects: none.
      expect(handedReplies.decoded - decodedBefore).toBe(replyHandoff === 'bytes' ? compared : 0);
    } finally {
      await engine.close();
    }
  });

  it('requests the server rejects fail the same way on both paths (bad property, bad vector length, unknown target vector)', async () => {
    const bad: QuerySpec[] = [
      { kind: 'fetchObjects', collection: SAMPLE_COLLECTION, filters: { property: 'no_such_property', operator: 'equal', value: 'x' } },
      { kind: 'nearVector', collection: SAMPLE_COLLECTION, vector: Array(EMBEDDING_DIMENSIONS + 3).fill(0.1) },
      { kind: 'hybrid', collection: SAMPLE_COLLECTION, query: '삼성전자', vector: [0.1, 0.2, 0.3] },
      { kind: 'nearVector', collection: EXTRA, tenant: 't1', vector: Array(DIMS.a).fill(0.5), targetVector: 'zzz' },
      { kind: 'bm25', collection: EXTRA, query: 'alpha' }, // multi-tenant collection without a tenant
      { kind: 'bm25', collection: 'No_such_collection_lean', query: 'x' },
    ];
    for (const spec of bad) {
      const [a, b] = await both(spec);
      expect(a).toHaveProperty('error');
      expect(a).toStrictEqual(b);
    }
  });
});
