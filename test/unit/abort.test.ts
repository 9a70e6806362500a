import { describe, expect, it } from 'vitest';
import { raceAbort } from '../../src/abort.ts';

describe('raceAbort', () => {
  it('settles as the promise does while the signal is quiet', async () => {
    const signal = new AbortController().signal;
    await expect(raceAbort(Promise.resolve(7), signal)).resolves.toBe(7);
    await expect(raceAbort(Promise.reject(new Error('boom')), signal)).rejects.toThrow('boom');
  });

  it("rejects with the signal's reason when it fires first, and swallows the loser's later rejection", async () => {
    const controller = new AbortController();
    let fail!: (e: Error) => void;
    const slow = new Promise<never>((_, reject) => (fail = reject));
    const raced = raceAbort(slow, controller.signal);
    controller.abort(new Error('deadline'));
    await expect(raced).rejects.toThrow('deadline');
    fail(new Error('late')); // must not become an unhandled rejection (vitest would report it)
    const pre = new AbortController();
    pre.abort(new Error('already'));
    await expect(raceAbort(Promise.reject(new Error('x')), pre.signal)).rejects.toThrow('already');
  });
});
