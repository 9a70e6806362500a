/**
 * WaitQueue (src/wait-queue.ts): the FIFO of bounded waiters the connection pool and the node
 * slots share. Each waiter settles once, by whichever comes first, and leaves nothing behind.
 */
import { describe, expect, it } from 'vitest';
import { WaitQueue, type WaitQueueOptions } from '../../src/wait-queue.ts';
import { FakeClock } from '../support/fake-clock.ts';

const opts = (extra: Partial<WaitQueueOptions<string>> = {}): WaitQueueOptions<string> => ({
  timeoutMs: 100,
  onTimeout: () => new Error('timed out'),
  onAbort: (signal) => new Error(`aborted: ${String(signal.reason)}`),
  ...extra,
});

describe('WaitQueue', () => {
  it('keeps arrival order; dequeue takes a waiter out (timer and listener cleared) for its owner to settle', async () => {
    const clock = new FakeClock();
    const q = new WaitQueue<string, string>(clock);
    const ac = new AbortController();
    const a = q.wait('a', opts({ signal: ac.signal }));
    const b = q.wait('b', opts());
    expect([q.size, q.at(0), q.at(1), q.at(2)]).toEqual([2, 'a', 'b', undefined]);
    q.dequeue(0)!.resolve('served a');
    expect(await a).toBe('served a');
    ac.abort('late'); // a has left: its abort does nothing
    q.dequeue(0)!.reject(new Error('no b'));
    await expect(b).rejects.toThrow('no b');
    expect(q.dequeue(0)).toBeUndefined();
    expect([q.size, clock.pending, q.timeouts]).toEqual([0, 0, 0]);
  });

  it('a time-out rejects with onTimeout\'s error (counted), or follows the promise it gives; the others stay', async () => {
    const clock = new FakeClock();
    const q = new WaitQueue<string, number>(clock);
    const a = q.wait(1, opts({ timeoutMs: 50 })).catch((e: Error) => e.message);
    const b = q.wait(2, opts({ timeoutMs: 80, onTimeout: () => Promise.resolve('fallback') }));
    const c = q.wait(3, opts({ timeoutMs: 1000 }));
    await clock.advance(60);
    expect(await a).toBe('timed out');
    expect([q.size, q.at(0), q.timeouts]).toEqual([2, 2, 1]);
    await clock.advance(30);
    expect(await b).toBe('fallback');
    expect([q.size, q.at(0), q.timeouts]).toEqual([1, 3, 2]);
    q.dequeue(0)!.resolve('c');
    expect(await c).toBe('c');
    await clock.advance(2000); // c's timer was cleared: nothing fires
    expect([q.timeouts, clock.pending]).toEqual([2, 0]);
  });

  it('an abort removes the waiter at once with onAbort\'s error; an aborted signal never enqueues; rejectAll fails the rest', async () => {
    const clock = new FakeClock();
    const q = new WaitQueue<string, string>(clock);
    const ac = new AbortController();
    const a = q.wait('a', opts({ signal: ac.signal }));
    const b = q.wait('b', opts());
    ac.abort('gave up');
    await expect(a).rejects.toThrow('aborted: gave up');
    expect([q.size, q.at(0)]).toEqual([1, 'b']);
    await expect(q.wait('c', opts({ signal: ac.signal }))).rejects.toThrow('aborted: gave up');
    expect(q.size).toBe(1);
    q.rejectAll(new Error('closed'));
    await expect(b).rejects.toThrow('closed');
    expect([q.size, clock.pending, q.timeouts]).toEqual([0, 0, 0]);
  });
});
