/**
 * Bad input, property-based (fast-check): specs and HTTP bodies, good and bad interleaved.
 * Every bad case gets a typed ValidationError naming its field; none crashes a worker, poisons a
 * connection or stalls a lane; every good case succeeds. 10,000 specs per run (more with
 * FAULTS_LONG=1).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { SAMPLE_COLLECTION, embed } from '../../src/data/sample.ts';
import { isExecutorError } from '../../src/errors.ts';
import { silentLogger } from '../../src/log.ts';
import type { QuerySpec } from '../../src/query/spec.ts';
import { startServer } from '../../src/server/http.ts';
import { Tracker, reportFault } from '../support/tracker.ts';
import { sharedTarget } from '../support/weaviate.ts';

const LONG = process.env['FAULTS_LONG'] === '1';
const target = sharedTarget();
let engine: Executor;
beforeAll(async () => {
  engine = await createExecutor({ weaviate: target, workers: 2, minConnections: 2, maxConnections: 4, logger: silentLogger }, {});
});
afterAll(() => engine?.close());

const COMPANIES = ['삼성전자', '현대차', '카카오', 'NAVER'];
const text = fc.constantFrom(...COMPANIES, 'HBM 실적', 'x');
const goodFilter = fc.oneof(
  fc.record({ property: fc.constant('company'), operator: fc.constantFrom('equal', 'notEqual', 'like'), value: fc.constantFrom(...COMPANIES) }),
  fc.record({ property: fc.constant('target_price'), operator: fc.constantFrom('greaterThan', 'lessThanEqual', 'equal'), value: fc.integer({ min: 0, max: 600_000 }) }),
  fc.record({ property: fc.constant('published_at'), operator: fc.constantFrom('greaterThan', 'lessThan'), value: fc.constantFrom('2023-01-01T00:00:00Z', '2025-06-30T00:00:00Z') }),
);
const good: fc.Arbitrary<QuerySpec> = fc.oneof(
  fc.record({ kind: fc.constant('bm25' as const), collection: fc.constant(SAMPLE_COLLECTION), query: text, limit: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ kind: fc.constant('nearVector' as const), collection: fc.constant(SAMPLE_COLLECTION), vector: text.map((t) => embed(t)), limit: fc.integer({ min: 1, max: 20 }), filters: goodFilter }),
  fc.record({ kind: fc.constant('hybrid' as const), collection: fc.constant(SAMPLE_COLLECTION), query: text, vector: text.map((t) => embed(t)), alpha: fc.double({ min: 0, max: 1, noNaN: true }), limit: fc.integer({ min: 1, max: 10 }) }),
  fc.record({ kind: fc.constant('fetchObjects' as const), collection: fc.constant(SAMPLE_COLLECTION), limit: fc.integer({ min: 1, max: 10 }), filters: goodFilter }),
);
/** Break one field of a good spec (or replace it with garbage). */
const bad: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(good, fc.constantFrom('limit', 'offset', 'alpha', 'vector', 'collection', 'kind', 'query', 'filters', 'returnProperties', 'returnMetadata', 'distance', 'extra'), fc.oneof(
    fc.constant(Number.NaN), fc.constant(-1), fc.constant(0), fc.constant(1e12), fc.constant(''), fc.constant(null), fc.constant([]),
    fc.constant([1, 2, 3]), fc.constant({ property: 'ghost', operator: 'equal', value: 1 }), fc.constant({ and: [] }),
    fc.constant(['no_such_property']), fc.constant(['vibes']), fc.string(), fc.object(),
  )).map(([spec, field, value]) => ({ ...spec, [field]: value })),
  fc.anything(),
);

function isInvalid(spec: unknown): Promise<boolean> {
  return engine.query(spec as QuerySpec).then(() => false, (e: unknown) => {
    if (isExecutorError(e) && e.code === 'WEX_VALIDATION' && typeof e.details['field'] === 'string' && e.message.length > 0) return true;
    throw e;
  });
}

describe('fault: bad input (property-based)', () => {
  it(`${LONG ? 50_000 : 10_000} query specs, bad ones interleaved with good ones`, async () => {
    const tracker = new Tracker();
    let goodRuns = 0;
    let badRuns = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 1, arbitrary: good.map((s) => ({ good: true, spec: s as unknown })) }, { weight: 9, arbitrary: bad.map((s) => ({ good: false, spec: s })) }), async ({ good: isGood, spec }) => {
        if (isGood) {
          goodRuns++;
          const r = (await tracker.track(engine.query(spec as QuerySpec, { deadlineMs: 10_000 }), 10_000)) as { objects: unknown[] } | undefined;
          return r !== undefined && Array.isArray(r.objects);
        }
        badRuns++;
        // A mutation can happen to leave the spec valid (e.g. limit replaced by another good value): then it must succeed.
        try {
          const invalid = await isInvalid(spec);
          tracker.sent++;
          if (invalid) tracker.failedByCode['WEX_VALIDATION'] = (tracker.failedByCode['WEX_VALIDATION'] ?? 0) + 1;
          else tracker.succeeded++;
          return true;
        } catch {
          return false; // untyped, or a worker/connection failure: the property fails
        }
      }),
      { numRuns: LONG ? 50_000 : 10_000, seed: 42 },
    );
    const s = await engine.stats();
    reportFault(tracker.row(`fuzzed specs (${goodRuns} good, ${badRuns} bad)`, await tracker.hung(), null, `worker crashes ${s.counters.worker_crashes}`));
    expect(s.counters.worker_crashes).toBe(0);
    expect(Object.values(s.lanes).every((l) => l.queued === 0 && l.in_flight === 0)).toBe(true);
    expect(s.workers.every((w) => w.pool?.dead_connections_detected === 0)).toBe(true);
    expect(goodRuns).toBeGreaterThan(500);
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: COMPANIES[i % 4]!, limit: 1 })));
    expect(after.every((r) => 'objects' in r && r.objects.length === 1)).toBe(true);
  });

  it(`${LONG ? 10_000 : 2_000} random HTTP bodies: always a JSON answer with a 2xx/4xx/503 status, never a crash`, async () => {
    const { app, url } = await startServer(engine, { port: 0, logLevel: 'silent' }, {});
    const statuses: Record<number, number> = {};
    try {
      const bodies = fc.sample(fc.oneof(
        good.map((s) => JSON.stringify(s)),
        bad.map((s) => { try { return JSON.stringify(s) ?? 'null'; } catch { return '{}'; } }),
        fc.string(),
        fc.json(),
        fc.constant('{"kind": "hybrid", "collection":'),
      ), { numRuns: LONG ? 10_000 : 2_000, seed: 7 });
      for (let i = 0; i < bodies.length; i += 20) {
        await Promise.all(bodies.slice(i, i + 20).map(async (body) => {
          const r = await fetch(`${url}/vector-store/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          statuses[r.status] = (statuses[r.status] ?? 0) + 1;
          const json = (await r.json()) as { success: boolean; error?: { code: string } };
          expect(typeof json.success).toBe('boolean');
          if (r.status >= 400) expect(json.error?.code).toMatch(/^WEX_/);
        }));
      }
    } finally {
      await app.close();
    }
    const t = new Tracker();
    t.sent = Object.values(statuses).reduce((a, b) => a + b, 0);
    t.succeeded = statuses[200] ?? 0;
    for (const [code, n] of Object.entries(statuses)) if (code !== '200') t.failedByCode[`HTTP ${code}`] = n;
    reportFault(t.row('fuzzed HTTP search bodies', 0, null));
    expect(Object.keys(statuses).every((code) => ['200', '400', '413', '503'].includes(code))).toBe(true);
    expect((await engine.stats()).counters.worker_crashes).toBe(0);
  });
});
