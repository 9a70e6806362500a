/** Hedged reads (src/cluster/hedge.ts): budget, p95 delay, first answer wins, the loser is aborted. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { HEDGE_DEFAULTS, HedgeBudget, Hedger, MIN_SAMPLES, hedgeScope } from '../../src/cluster/hedge.ts';

const config = { ...HEDGE_DEFAULTS, lanes: ['normal'], maxExtraPercent: 50, minDelayMs: 1 };

/** An attempt that answers after `ms` unless its signal fires first (then it rejects with the reason). */
const answer = (ms: number, value: string, log: string[]) => (signal: AbortSignal) =>
  new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => resolve(value), ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      log.push(`${value} aborted`);
      reject(signal.reason as Error);
    }, { once: true });
  });

async function warm(h: Hedger, ms = 2): Promise<void> {
  for (let i = 0; i < MIN_SAMPLES; i++) await h.run('normal', config, new AbortController().signal, () => sleep(ms).then(() => 'x'));
}

describe('HedgeBudget', () => {
  it('allows hedges only while they stay under the share of reads', () => {
    const b = new HedgeBudget(5);
    for (let i = 0; i < 19; i++) b.onRead();
    expect(b.tryHedge()).toBe(false); // 1 > 19 x 5 %
    b.onRead();
    expect(b.tryHedge()).toBe(true); // 1 <= 20 x 5 %
    expect(b.tryHedge()).toBe(false);
    expect(b).toMatchObject({ reads: 20, hedges: 1, refused: 2 });
  });
});

describe('Hedger', () => {
  it('does not hedge before the lane has MIN_SAMPLES reads', async () => {
    const h = new Hedger();
    expect(h.delayFor('normal', config)).toBeUndefined();
    await warm(h);
    expect(h.delayFor('normal', config)).toBeGreaterThanOrEqual(1);
    expect(h.stats().hedges_started).toBe(0);
  });

  it('after the p95, a second copy; the first answer wins and the other copy is aborted', async () => {
    const h = new Hedger();
    await warm(h);
    const log: string[] = [];
    let calls = 0;
    const value = await h.run('normal', config, new AbortController().signal, (signal) => (++calls === 1 ? answer(500, 'slow', log) : answer(5, 'fast', log))(signal));
    expect(value).toBe('fast');
    expect(log).toEqual(['slow aborted']);
    expect(h.stats()).toMatchObject({ hedges_started: 1, hedges_won: 1 });
  });

  it('a first copy that fails before the hedge is due fails the read at once (the task runner decides on retries)', async () => {
    const h = new Hedger();
    await warm(h, 20);
    await expect(h.run('normal', config, new AbortController().signal, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await sleep(60);
    expect(h.stats().hedges_started).toBe(0);
  });

  it('the copies share one scope (the node choice reads it) and the caller aborting ends both', async () => {
    const h = new Hedger();
    await warm(h);
    const log: string[] = [];
    const caller = new AbortController();
    const scopes = new Set<unknown>();
    const run = h.run('normal', config, caller.signal, (signal) => {
      scopes.add(hedgeScope());
      return answer(1000, `copy${scopes.size}`, log)(signal);
    });
    await sleep(50);
    caller.abort(new Error('caller gave up'));
    await expect(run).rejects.toThrow('caller gave up');
    expect(scopes.size).toBe(1);
    expect(log.length).toBe(2);
  });
});
