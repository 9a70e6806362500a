/**
 * Coalescing of identical in-flight reads, on a manual clock with hand-settled reads.
 */
import { describe, expect, it } from 'vitest';
import { Coalescer, coalesceKey } from '../../src/engine/coalesce.ts';
import { AbortError, DeadlineExceededError, QueryError } from '../../src/errors.ts';
import { FakeClock, flush } from '../support/fake-clock.ts';

function harness() {
  const clock = new FakeClock();
  const c = new Coalescer(clock);
  const started: { resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  const start = () => new Promise<unknown>((resolve, reject) => started.push({ resolve, reject }));
  return { clock, c, started, start };
}

describe('Coalescer', () => {
  it('keys ignore key order but not values, and lanes stay apart', () => {
    expect(coalesceKey('normal', { kind: 'bm25', query: 'a', limit: 5 })).toBe(coalesceKey('normal', { limit: 5, query: 'a', kind: 'bm25' }));
    expect(coalesceKey('normal', { kind: 'bm25', query: 'a', limit: 5 })).not.toBe(coalesceKey('normal', { kind: 'bm25', query: 'a', limit: 6 }));
    expect(coalesceKey('normal', { kind: 'bm25', query: 'a' })).not.toBe(coalesceKey('critical', { kind: 'bm25', query: 'a' }));
    expect(coalesceKey('n', { filters: { b: 1, a: [3, 2] } })).toBe(coalesceKey('n', { filters: { a: [3, 2], b: 1 } }));
    expect(coalesceKey('n', { vector: [1, 2] })).not.toBe(coalesceKey('n', { vector: [2, 1] }));
  });

  it('identical reads in flight run once; each caller gets its own copy; hits are counted', async () => {
    const { clock, c, started, start } = harness();
    const own = { deadlineAt: clock.now() + 1000 };
    const a = c.run('normal', 'k', start, own);
    const b = c.run('normal', 'k', start, own);
    const d = c.run('normal', 'k', start, own);
    expect(started).toHaveLength(1);
    expect(c.hits('normal')).toBe(2);
    started[0]!.resolve({ objects: [{ id: 1 }] });
    const [ra, rb, rd] = await Promise.all([a, b, d]);
    expect(rb).toEqual(ra);
    expect(rb).not.toBe(ra);
    expect(rd).not.toBe(rb);
    // Once answered, the next identical read runs again.
    expect(c.size).toBe(0);
    void c.run('normal', 'k', start, own);
    expect(started).toHaveLength(2);
  });

  it('a failure about the read reaches every caller', async () => {
    const { clock, c, started, start } = harness();
    const own = { deadlineAt: clock.now() + 1000 };
    const a = c.run('normal', 'k', start, own);
    const b = c.run('normal', 'k', start, own);
    started[0]!.reject(new QueryError('bad filter', {}));
    await expect(a).rejects.toBeInstanceOf(QueryError);
    await expect(b).rejects.toBeInstanceOf(QueryError);
  });

  it('a joined caller keeps its own deadline and signal', async () => {
    const { clock, c, started, start } = harness();
    const leader = c.run('normal', 'k', start, { deadlineAt: clock.now() + 10_000 });
    const short = c.run('normal', 'k', start, { deadlineAt: clock.now() + 100 });
    const controller = new AbortController();
    const aborted = c.run('normal', 'k', start, { deadlineAt: clock.now() + 10_000, signal: controller.signal });
    const shortOutcome = short.catch((e: unknown) => e);
    const abortedOutcome = aborted.catch((e: unknown) => e);
    await clock.advance(100);
    expect(await shortOutcome).toBeInstanceOf(DeadlineExceededError);
    controller.abort(new Error('user left'));
    await flush();
    expect(await abortedOutcome).toBeInstanceOf(AbortError);
    started[0]!.resolve('answer');
    expect(await leader).toBe('answer');
    expect(started).toHaveLength(1);
  });

  it("when the leader ends by its own deadline or abort, joined callers with time left run the read themselves", async () => {
    const { clock, c, started, start } = harness();
    const leader = c.run('normal', 'k', start, { deadlineAt: clock.now() + 50 });
    const j1 = c.run('normal', 'k', start, { deadlineAt: clock.now() + 10_000 });
    const j2 = c.run('normal', 'k', start, { deadlineAt: clock.now() + 10_000 });
    started[0]!.reject(new DeadlineExceededError('leader deadline', { phase: 'running' }));
    await expect(leader).rejects.toBeInstanceOf(DeadlineExceededError);
    await flush();
    expect(started).toHaveLength(2); // one of the two leads now, the other joins it
    started[1]!.resolve('second');
    expect(await j1).toBe('second');
    expect(await j2).toBe('second');
  });
});
