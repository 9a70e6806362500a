/**
 * An adaptive lane in the scheduler, on a manual clock, against a model server whose latency
 * grows with the work it runs (5 ms up to 4 requests at once, then proportionally more: a
 * server at its knee). The same flood runs with and without `adaptive` on the normal lane; the
 * comparison is between the two runs, never against a fixed figure.
 */
import { describe, expect, it } from 'vitest';
import { adaptiveBounds, parseLanesEnv, resolveLanes, type LaneOptions } from '../../src/engine/lanes.ts';
import { Scheduler } from '../../src/engine/scheduler.ts';
import { FakeClock } from '../support/fake-clock.ts';

const SLOTS = 16;
/** Flood length in 10 ms steps: 8 s, the length of a bench:adaptive --quick trial (the default limit starts at 2 and grows ~1 slot a second). */
const FLOOD_STEPS = 800;

async function flood(normalLane: LaneOptions, { lightFirst = true } = {}) {
  const clock = new FakeClock();
  const scheduler = new Scheduler(resolveLanes({ normal: normalLane }, SLOTS), SLOTS, clock);
  // Latency fixed when the work starts, from how much runs at that moment.
  const work = () => new Promise<void>((resolve) => clock.setTimeout(resolve, 5 * Math.max(1, scheduler.inFlight / 4)));
  const pending: Promise<void>[] = [];
  const submitNormal = (n: number) => {
    for (let i = 0; i < n; i++) pending.push(scheduler.submit(work, { lane: 'normal', deadlineAt: clock.now() + 600_000 }).catch(() => {}));
  };
  // Light load first (4 at a time, the server's knee): the long RTT learns the unloaded latency.
  for (let step = 0; step < (lightFirst ? 100 : 0); step++) {
    const lane = scheduler.stats().find((l) => l.name === 'normal')!;
    submitNormal(Math.max(0, 4 - lane.in_flight - lane.queued));
    await clock.advance(10);
  }
  // Then a flood of normal work.
  submitNormal(12_000);
  let overCap = 0;
  for (let step = 0; step < FLOOD_STEPS; step++) {
    await clock.advance(10);
    const lane = scheduler.stats().find((l) => l.name === 'normal')!;
    if (lane.adaptive && lane.in_flight > lane.adaptive.limit + 0) overCap = Math.max(overCap, lane.in_flight - lane.adaptive.limit);
  }
  // A critical request in the middle of the flood: its time to answer.
  const submitted = clock.now();
  let answeredAt = Number.NaN;
  const critical = scheduler.submit(work, { lane: 'critical', deadlineAt: clock.now() + 600_000 }).then(() => (answeredAt = clock.now()));
  while (Number.isNaN(answeredAt)) await clock.advance(1);
  await critical;
  const normal = scheduler.stats().find((l) => l.name === 'normal')!;
  const result = { criticalMs: answeredAt - submitted, normalInFlight: normal.in_flight, adaptive: normal.adaptive, completed: normal.completed, overCap };
  const closed = scheduler.close({ timeoutMs: 0 });
  await clock.advance(100_000);
  await closed;
  await Promise.all(pending);
  return result;
}

describe('adaptive lanes in the scheduler', () => {
  it('a flooded adaptive lane lowers its own limit, so critical work meets a less loaded server', async () => {
    const fixed = await flood({});
    const adaptive = await flood({ adaptive: true });
    expect(fixed.adaptive).toBeNull();
    expect(fixed.normalInFlight).toBe(SLOTS - 1); // one slot reserved for critical
    expect(adaptive.adaptive).not.toBeNull();
    expect(adaptive.adaptive!.limit).toBeLessThan(SLOTS - 1);
    expect(adaptive.adaptive!.limit).toBeGreaterThanOrEqual(1);
    expect(adaptive.adaptive!.changes).toBeGreaterThan(0);
    expect(adaptive.adaptive!.short_rtt_ms).not.toBeNull();
    // The lane never ran more than its limit allowed when it was sampled (a fall below what
    // already runs is allowed to drain, hence the lag of at most a window's worth).
    expect(adaptive.normalInFlight).toBeLessThanOrEqual(adaptive.adaptive!.limit + 1);
    expect(adaptive.criticalMs).toBeLessThan(fixed.criticalMs);
    // Normal work still moves: in this model the server's throughput is flat past its knee, so
    // capping normal work costs it (almost) nothing.
    expect(adaptive.completed).toBeGreaterThan(fixed.completed * 0.9);
  }, 60_000);

  it('a lane flooded from its first request learns no-load latency from its probe and cuts all the same', async () => {
    const fixed = await flood({}, { lightFirst: false });
    const adaptive = await flood({ adaptive: true }, { lightFirst: false });
    const pure = await flood({ adaptive: { probeSamples: 0, initialLimit: SLOTS } }, { lightFirst: false });
    expect(adaptive.adaptive!.probes).toBe(1);
    expect(adaptive.adaptive!.no_load_rtt_ms).toBe(5);
    expect(adaptive.adaptive!.limit).toBeLessThan(SLOTS - 1);
    expect(adaptive.criticalMs).toBeLessThan(fixed.criticalMs);
    // Starting at 2 and growing ~1 slot a second, its first ~2 s run below the model's knee (4): 88 % of
    // the uncapped lane's throughput over these 8 s (the lane of the first test, warmed up, keeps > 90 %).
    expect(adaptive.completed).toBeGreaterThan(fixed.completed * 0.85);
    // Gradient2 alone takes the flood's latency as normal: it stays at its max, every slot the lane
    // can get (all but the one critical reserves, as the uncapped lane).
    expect(pure.adaptive!.limit).toBe(SLOTS - 1);
    expect(pure.adaptive!.max_limit).toBe(fixed.normalInFlight);
    expect(pure.criticalMs).toBe(fixed.criticalMs);
  }, 60_000);

  it('by default (a critical lane exists) the scheduler feeds critical round trips to the tail guard: probe base, then the guard', async () => {
    const clock = new FakeClock();
    const scheduler = new Scheduler(resolveLanes({ normal: { adaptive: { probeSamples: 5, guardProbeSamples: 5, guardMinSamples: 5 } } }, 8), 8, clock);
    const work = (ms: number) => () => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
    const submit = (lane: string, ms: number) => scheduler.submit(work(ms), { lane, deadlineAt: clock.now() + 60_000 });
    const normalDone = Promise.all(Array.from({ length: 5 }, () => submit('normal', 2))); // the probe: pinned at 1, one after another
    await clock.advance(1);
    const criticalDone = Promise.all(Array.from({ length: 5 }, () => submit('critical', 7)));
    await clock.advance(50);
    await Promise.all([normalDone, criticalDone]);
    const a = () => scheduler.stats().find((l) => l.name === 'normal')!.adaptive!;
    // The guard starts at the probe's limit and climbs on evidence: critical round trips at 7 ms are within 1.25 x 7.
    expect(a()).toMatchObject({ probing: false, probes: 1, no_load_rtt_ms: 2, guard_base_ms: 7, guard_target_ms: 8.75, guard_tail_ms: null, limit: 1 });
    const good = Promise.all(Array.from({ length: 5 }, () => submit('critical', 7)));
    await clock.advance(20);
    await good;
    expect(a()).toMatchObject({ guard_tail_ms: 7, guard_cuts: 0, guard_decisions: 1, limit: 2 });
    await clock.advance(1000);
    // Then critical round trips at 9 ms (above the target) cut the limit; a failed one is not a sample.
    await scheduler.submit(() => Promise.reject(new Error('boom')), { lane: 'critical', deadlineAt: clock.now() + 60_000 }).catch(() => undefined);
    const more = Promise.all(Array.from({ length: 5 }, () => submit('critical', 9)));
    await clock.advance(20);
    await more;
    expect(a()).toMatchObject({ guard_tail_ms: 9, guard_cuts: 1, guard_decisions: 2, limit: 1 });
    expect(a().recent_changes.at(-1)).toMatchObject({ from: 2, to: 1, reason: 'guard' });
    const closed = scheduler.close({ timeoutMs: 0 });
    await clock.advance(100);
    await closed;
  });

  it('adaptiveBounds: the max is the slots the lane can use (a given maxLimit kept, capped by them), the min at most the max', () => {
    const lane = (options: LaneOptions) => resolveLanes({ normal: options }, 16).find((l) => l.name === 'normal')!;
    const fromSlots = lane({ adaptive: true });
    // 16 slots less critical's 1 reserved: the resolved max is what the scheduler's bounds give.
    expect(fromSlots).toMatchObject({ adaptive: { maxLimit: 15 }, adaptiveMaxFromSlots: true });
    expect(adaptiveBounds(fromSlots, 16)).toEqual({ minLimit: 1, maxLimit: 16 });
    expect(adaptiveBounds(fromSlots, 64)).toEqual({ minLimit: 1, maxLimit: 64 });
    expect(adaptiveBounds(fromSlots, 4)).toEqual({ minLimit: 1, maxLimit: 4 });
    expect(adaptiveBounds(fromSlots, 64, 8)).toEqual({ minLimit: 1, maxLimit: 8 }); // dedicated workers' slots
    const given = lane({ adaptive: { maxLimit: 20, minLimit: 6, initialLimit: 6 } });
    expect(given).toMatchObject({ adaptive: { maxLimit: 20 }, adaptiveMaxFromSlots: false });
    expect(adaptiveBounds(given, 64)).toEqual({ minLimit: 6, maxLimit: 20 });
    expect(adaptiveBounds(given, 16)).toEqual({ minLimit: 6, maxLimit: 16 });
    expect(adaptiveBounds(given, 4)).toEqual({ minLimit: 4, maxLimit: 4 });
    expect(adaptiveBounds(given, 64)).toEqual({ minLimit: 6, maxLimit: 20 }); // back up: the given values again
    // maxConcurrency caps it as at start.
    expect(adaptiveBounds(lane({ adaptive: true, maxConcurrency: 3 }), 64)).toEqual({ minLimit: 1, maxLimit: 3 });
    expect(adaptiveBounds(lane({}), 16)).toBeUndefined();
    // Slots the other lanes reserve are not the lane's: they are never lent.
    expect(adaptiveBounds(fromSlots, 16, Number.POSITIVE_INFINITY, 1)).toEqual({ minLimit: 1, maxLimit: 15 });
    expect(adaptiveBounds(given, 16, Number.POSITIVE_INFINITY, 3)).toEqual({ minLimit: 6, maxLimit: 13 });
    expect(adaptiveBounds(given, 64, Number.POSITIVE_INFINITY, 3)).toEqual({ minLimit: 6, maxLimit: 20 });
    expect(adaptiveBounds(fromSlots, 16, 8, 1)).toEqual({ minLimit: 1, maxLimit: 8 });
  });

  it('an adaptive lane\'s max leaves out the slots other lanes reserve: the lane can never run on them, even while those lanes are idle', async () => {
    const clock = new FakeClock();
    const lanes = resolveLanes({
      critical: { reserved: 2 },
      bulk: { reserved: 1 },
      normal: { adaptive: { probeSamples: 0, initialLimit: 8, protect: [] } },
    }, 8);
    const scheduler = new Scheduler(lanes, 8, clock);
    const normal = () => scheduler.stats().find((l) => l.name === 'normal')!;
    // 8 slots, 3 of them reserved by critical and bulk: the limit's max is 5, and the clamp from
    // the initial 8 is recorded as a change.
    expect(normal().adaptive).toMatchObject({ min_limit: 1, max_limit: 5, limit: 5, changes: 1 });
    expect(normal().adaptive!.recent_changes).toMatchObject([{ from: 8, to: 5, reason: 'bounds' }]);
    // With every other lane idle, the scheduler still runs at most 5 of normal: the max is what it can get.
    const work = () => new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
    const done = Array.from({ length: 10 }, () => scheduler.submit(work, { lane: 'normal', deadlineAt: clock.now() + 60_000 }));
    await clock.advance(1);
    expect(normal()).toMatchObject({ in_flight: 5, queued: 5 });
    expect(scheduler.stats().reduce((sum, l) => sum + l.in_flight, 0)).toBe(5);
    await clock.advance(100);
    await Promise.all(done);
    // A resize keeps the reservations out: 12 slots, 9 for normal.
    scheduler.resize(12);
    expect(normal().adaptive).toMatchObject({ max_limit: 9 });
    const closed = scheduler.close({ timeoutMs: 0 });
    await clock.advance(100);
    await closed;
  });

  it('resize(): an adaptive lane\'s max follows the slots up and down (a given maxLimit still caps it), a limit above a smaller max comes down, and dispatch follows', async () => {
    const clock = new FakeClock();
    const lanes = resolveLanes({
      normal: { adaptive: { probeSamples: 0, initialLimit: 16, protect: [] } },
      bulk: { adaptive: { probeSamples: 0, maxLimit: 40, initialLimit: 12, protect: [] } },
    }, 16);
    const scheduler = new Scheduler(lanes, 16, clock);
    const a = (name: string) => scheduler.stats().find((l) => l.name === name)!.adaptive!;
    const bounds = () => ['normal', 'bulk'].map((n) => [a(n).min_limit, a(n).max_limit, a(n).limit]);
    // A given maxLimit above the lane's slots is capped by them from the start: 16 slots less the
    // one critical reserves (never lent to another lane).
    expect(bounds()).toEqual([[1, 15, 15], [1, 15, 12]]);
    scheduler.resize(64);
    expect(bounds()).toEqual([[1, 63, 15], [1, 40, 12]]); // a larger max lets the limit climb; it does not jump
    scheduler.resize(4);
    expect(bounds()).toEqual([[1, 3, 3], [1, 3, 3]]);
    scheduler.resize(8);
    expect(bounds()).toEqual([[1, 7, 3], [1, 7, 3]]);
    // Dispatch follows the limit brought down (not the old 15): 3 of normal run at 8 slots (one reserved for critical).
    const work = () => new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
    const done = Array.from({ length: 8 }, () => scheduler.submit(work, { lane: 'normal', deadlineAt: clock.now() + 60_000 }));
    await clock.advance(1);
    expect(scheduler.stats().find((l) => l.name === 'normal')).toMatchObject({ in_flight: 3, queued: 5 });
    await clock.advance(100);
    await Promise.all(done);
    // A lane cap (dedicated workers) bounds it too, and its removal gives the slots back.
    scheduler.setSlotCaps(new Map([['bulk', 2]]));
    expect(a('bulk')).toMatchObject({ max_limit: 2, limit: 2 });
    scheduler.setSlotCaps(new Map());
    expect(a('bulk')).toMatchObject({ max_limit: 7, limit: 2 });
    const closed = scheduler.close({ timeoutMs: 0 });
    await clock.advance(100);
    await closed;
  });

  it('VECTOR_STORE_LANES takes adaptive=1, and lanes without it have no limit', () => {
    const lanes = resolveLanes(parseLanesEnv('normal:adaptive=1;batch:adaptive=0,concurrency=4'), 8);
    // 8 slots less critical's 1 reserved (never lent): the max the lane can reach, as the scheduler applies it.
    expect(lanes.find((l) => l.name === 'normal')!.adaptive).toMatchObject({ minLimit: 1, maxLimit: 7, initialLimit: 2, queueSize: 0.5, tolerance: 1.25, probeLimit: 1 });
    expect(resolveLanes({ normal: { adaptive: true }, critical: { reserved: 3 }, batch: { reserved: 1 } }, 8).find((l) => l.name === 'normal')!.adaptive!.maxLimit).toBe(4);
    expect(resolveLanes({ critical: { adaptive: true, reserved: 3 } }, 8).find((l) => l.name === 'critical')!.adaptive!.maxLimit).toBe(8);
    // A given initial or min limit above it keeps the resolved max at the slots: the scheduler clamps
    // them at start, and a min limit comes back when the slots grow.
    expect(resolveLanes({ normal: { adaptive: { minLimit: 6, initialLimit: 6 } }, critical: { reserved: 3 } }, 8).find((l) => l.name === 'normal')!.adaptive).toMatchObject({ minLimit: 6, maxLimit: 8 });
    expect(lanes.find((l) => l.name === 'batch')!.adaptive).toBeUndefined();
    expect(lanes.find((l) => l.name === 'critical')!.adaptive).toBeUndefined();
    // A static cap bounds the adaptive one.
    expect(resolveLanes({ normal: { adaptive: true, maxConcurrency: 3 } }, 8).find((l) => l.name === 'normal')!.adaptive!.maxLimit).toBe(3);
    expect(() => parseLanesEnv('normal:adaptive=maybe')).toThrow(/VECTOR_STORE_LANES \(normal\.adaptive\)/);
    expect(() => resolveLanes({ normal: { adaptive: { protect: ['critcal'] } } }, 8)).toThrow(/protect` names `critcal`, which is not a lane \(lanes: critical, normal\)/);
    expect(() => resolveLanes({ normal: { adaptive: { protect: ['normal'] } } }, 8)).toThrow(/the lane itself/);
    expect(resolveLanes({ normal: { adaptive: { protect: ['critical'] } } }, 8).find((l) => l.name === 'normal')!.adaptive!.protect).toEqual(['critical']);
    // The tail guard is on by default for an adaptive lane other than critical; `protect: []` turns it off.
    expect(lanes.find((l) => l.name === 'normal')!.adaptive!.protect).toEqual(['critical']);
    expect(lanes.find((l) => l.name === 'normal')!.adaptive).toMatchObject({ guardTolerance: 1.25, guardWindowMs: 10_000, guardMinSamples: 100, guardBackoff: 0.75 });
    expect(resolveLanes({ normal: { adaptive: { protect: [] } } }, 8).find((l) => l.name === 'normal')!.adaptive!.protect).toEqual([]);
    expect(resolveLanes({ critical: { adaptive: true } }, 8).find((l) => l.name === 'critical')!.adaptive!.protect).toEqual([]);
    expect(() => resolveLanes({ normal: { adaptive: 'yes' as never } }, 8)).toThrow(/lanes\.normal\.adaptive/);
  });
});
