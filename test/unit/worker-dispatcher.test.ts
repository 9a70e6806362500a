/** What a crash error says about why the worker died. */
import { describe, expect, it } from 'vitest';
import { deathReason } from '../../src/engine/worker-dispatcher.ts';

describe('deathReason', () => {
  it('keeps the exit code, and the name and code of an error whose message was lost crossing threads', () => {
    expect(deathReason(new Error('worker exited with code: 7'))).toBe('worker exited with code: 7');
    const lost = Object.assign(new Error(''), { name: 'DataCloneError', code: 'ERR_SOMETHING' });
    expect(deathReason(lost)).toBe('DataCloneError: ERR_SOMETHING');
    expect(deathReason(new Error(''))).toBe('the thread ended without an exit code or error');
    expect(deathReason({ reason: 'x' })).toBe('{"reason":"x"}');
  });
});
