/**
 * Cost-aware lanes on a manual clock: two lanes of equal weight, one sending work that holds a
 * slot 10 ms (a "hybrid"), the other 1 ms (a "bm25"), both always backlogged, one slot. Counted
 * in requests the expensive lane takes ~10/11 of the server's time; counted in measured cost the
 * two lanes share it about evenly. Both runs are compared with each other, not with a clock.
 */
import { describe, expect, it } from 'vitest';
import { CostModel } from '../../src/engine/cost.ts';
import { resolveLanes } from '../../src/engine/lanes.ts';
import { Scheduler } from '../../src/engine/scheduler.ts';
import { FakeClock } from '../support/fake-clock.ts';

async function run(costAware: boolean) {
  const clock = new FakeClock();
  const scheduler = new Scheduler(resolveLanes({ heavy: { weight: 1 }, light: { weight: 1 } }, 1), 1, clock, { costAware });
  const busy = { heavy: 0, light: 0 };
  let stopped = false;
  const pending: Promise<unknown>[] = [];
  const submit = (lane: 'heavy' | 'light') => {
    const ms = lane === 'heavy' ? 10 : 1;
    const p = scheduler
      .submit(() => new Promise<void>((resolve) => clock.setTimeout(() => {
        busy[lane] += ms;
        resolve();
      }, ms)), { lane, deadlineAt: clock.now() + 1e9, costKey: lane === 'heavy' ? 'query:hybrid' : 'query:bm25' })
      .then(
        () => {
          if (!stopped) submit(lane);
        },
        () => undefined, // queued work rejected by close() at the end
      );
    pending.push(p);
  };
  for (let i = 0; i < 4; i++) {
    submit('heavy');
    submit('light');
  }
  await clock.advance(3000);
  stopped = true;
  const closed = scheduler.close({ timeoutMs: 100 });
  await clock.advance(1000);
  await closed;
  await Promise.allSettled(pending);
  return { heavyShare: busy.heavy / (busy.heavy + busy.light), costs: scheduler.costs() };
}

describe('cost-aware lanes', () => {
  it('lanes share server time, not request counts, when costAwareLanes is on', async () => {
    const counted = await run(false);
    const costed = await run(true);
    expect(counted.costs).toBeNull();
    expect(counted.heavyShare).toBeGreaterThan(0.85);
    expect(costed.heavyShare).toBeGreaterThan(0.35);
    expect(costed.heavyShare).toBeLessThan(0.65);
    expect(costed.costs!['query:hybrid']!.avg_ms).toBeCloseTo(10, 0);
    expect(costed.costs!['query:hybrid']!.cost / costed.costs!['query:bm25']!.cost).toBeCloseTo(10, 0);
  }, 60_000);

  it('CostModel: the mean kind costs 1; unknown kinds cost 1; costs are clamped', () => {
    const m = new CostModel(1);
    expect(m.cost('query:bm25')).toBe(1);
    m.observe('a', 1);
    expect(m.cost('a')).toBe(1); // one kind: nothing to compare with
    m.observe('b', 3);
    expect(m.cost('a')).toBeCloseTo(0.5);
    expect(m.cost('b')).toBeCloseTo(1.5);
    expect(m.cost('unknown')).toBe(1);
    // The cost is the windowed minimum: a wait every kind shares does not make kinds look alike.
    const q = new CostModel();
    for (let i = 0; i < 200; i++) {
      const wait = (i * 7919) % 30; // 0..29 ms of queueing, the same for both kinds
      q.observe('query:bm25', 1 + wait);
      q.observe('query:hybrid', 5 + wait);
    }
    expect(q.cost('query:hybrid') / q.cost('query:bm25')).toBeCloseTo(5, 5); // the averages' ratio is ~1.3
    expect(q.snapshot()['query:bm25']).toMatchObject({ min_ms: 1 });
    expect(q.snapshot()['query:bm25']!.avg_ms).toBeGreaterThan(5);
    const tiny = new CostModel(1);
    tiny.observe('free', 1e-9);
    tiny.observe('normal', 1);
    expect(tiny.cost('free')).toBe(0.05);
  });
});
