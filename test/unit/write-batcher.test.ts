/**
 * Write micro-batching on a manual clock: the "server" is a function the test answers by hand.
 */
import { describe, expect, it } from 'vitest';
import { AbortError, DeadlineExceededError, QueryError } from '../../src/errors.ts';
import { WriteBatcher, resolveWriteBatch, splitInsertResult } from '../../src/engine/write-batcher.ts';
import type { InsertManySpec, InsertResult } from '../../src/query/spec.ts';
import { FakeClock, flush } from '../support/fake-clock.ts';

const spec = (n: number, tag: string, collection = 'c'): InsertManySpec => ({
  kind: 'insertMany', collection, objects: Array.from({ length: n }, (_, i) => ({ properties: { tag, i } })),
});

function harness(options = {}) {
  const clock = new FakeClock();
  const sent: { spec: InsertManySpec; deadlineAt: number; resolve: (r: InsertResult) => void; reject: (e: unknown) => void }[] = [];
  const batcher = new WriteBatcher(
    resolveWriteBatch('lanes.write.batchWrites', { maxObjects: 10, maxDelayMs: 5, ...options }),
    (s, deadlineAt) => new Promise((resolve, reject) => sent.push({ spec: s, deadlineAt, resolve, reject })),
    clock,
  );
  /** Answer a sent batch: every object gets uuid `<tag>-<i>` unless its index is in `failing`. */
  const answer = (k: number, failing: number[] = []) => {
    const s = sent[k]!;
    const uuids: string[] = [];
    s.spec.objects.forEach((o, i) => {
      if (!failing.includes(i)) uuids.push(`${String(o.properties['tag'])}-${String(o.properties['i'])}`);
    });
    s.resolve({ inserted: uuids.length, uuids, errors: failing.map((index) => ({ index, message: `bad ${index}` })) });
  };
  return { clock, batcher, sent, answer, own: () => ({ deadlineAt: clock.now() + 1000 }) };
}

describe('WriteBatcher', () => {
  it('writes arriving within maxDelayMs go as one insert; each caller gets its own uuids and errors', async () => {
    const { clock, batcher, sent, answer, own } = harness();
    const a = batcher.add(spec(2, 'a'), own());
    const b = batcher.add(spec(3, 'b'), own());
    const c = batcher.add(spec(1, 'c'), own());
    expect(sent).toHaveLength(0);
    await clock.advance(5);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.spec.objects).toHaveLength(6);
    answer(0, [1, 3]); // a's second object and b's second object fail
    expect(await a).toEqual({ inserted: 1, uuids: ['a-0'], errors: [{ index: 1, message: 'bad 1' }] });
    expect(await b).toEqual({ inserted: 2, uuids: ['b-0', 'b-2'], errors: [{ index: 1, message: 'bad 3' }] });
    expect(await c).toEqual({ inserted: 1, uuids: ['c-0'], errors: [] });
    expect(batcher.counts).toEqual({ batches: 1, joined: 2 });
  });

  it('a batch is sent at once when full; other collections and large writes go apart', async () => {
    const { clock, batcher, sent, own } = harness();
    void batcher.add(spec(6, 'a'), own());
    void batcher.add(spec(4, 'b'), own()); // 10 = maxObjects: sent now
    expect(sent).toHaveLength(1);
    void batcher.add(spec(3, 'x', 'other'), own());
    void batcher.add(spec(12, 'big'), own()); // alone, at once
    expect(sent).toHaveLength(2);
    expect(sent[1]!.spec.objects).toHaveLength(12);
    void batcher.add(spec(8, 'c'), own());
    void batcher.add(spec(5, 'd'), own()); // would overflow: the open batch (c) goes first
    expect(sent).toHaveLength(3);
    await clock.advance(5);
    expect(sent.map((s) => s.spec.objects.length).sort((x, y) => x - y)).toEqual([3, 5, 8, 10, 12]);
    expect(new Set(sent.map((s) => s.spec.collection))).toEqual(new Set(['c', 'other']));
  });

  it('a caller that aborts or runs out of time before the send is taken out of the batch', async () => {
    const { clock, batcher, sent, answer } = harness();
    const controller = new AbortController();
    const a = batcher.add(spec(2, 'a'), { deadlineAt: clock.now() + 1000, signal: controller.signal });
    const b = batcher.add(spec(2, 'b'), { deadlineAt: clock.now() + 2 });
    const c = batcher.add(spec(2, 'c'), { deadlineAt: clock.now() + 1000 });
    const aOut = a.catch((e: unknown) => e);
    const bOut = b.catch((e: unknown) => e);
    controller.abort(new Error('user left'));
    await clock.advance(5);
    expect(await aOut).toBeInstanceOf(AbortError);
    expect(await bOut).toBeInstanceOf(DeadlineExceededError);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.spec.objects.map((o) => o.properties['tag'])).toEqual(['c', 'c']);
    answer(0);
    expect(await c).toEqual({ inserted: 2, uuids: ['c-0', 'c-1'], errors: [] });
  });

  it('a failure of the whole call reaches every caller of the batch; the batch carries the latest deadline', async () => {
    const { clock, batcher, sent } = harness();
    const a = batcher.add(spec(1, 'a'), { deadlineAt: clock.now() + 100 });
    const b = batcher.add(spec(1, 'b'), { deadlineAt: clock.now() + 900 });
    await clock.advance(5);
    expect(sent[0]!.deadlineAt).toBe(900);
    sent[0]!.reject(new QueryError('collection gone', {}));
    await expect(a).rejects.toBeInstanceOf(QueryError);
    await expect(b).rejects.toBeInstanceOf(QueryError);
    await flush();
  });

  it('splitInsertResult maps uuids back by index', () => {
    expect(splitInsertResult({ inserted: 3, uuids: ['u0', 'u2', 'u3'], errors: [{ index: 1, message: 'x' }] }, [2, 2])).toEqual([
      { inserted: 1, uuids: ['u0'], errors: [{ index: 1, message: 'x' }] },
      { inserted: 2, uuids: ['u2', 'u3'], errors: [] },
    ]);
  });
});
