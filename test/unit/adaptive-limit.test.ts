/**
 * The adaptive limit (Gradient2) with a manual clock: windows close by sample count and time,
 * so each step below is one window: `windowSamples` samples, the last 100 ms after the first.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { AdaptiveLimit, resolveAdaptive, type AdaptiveLimitOptions } from '../../src/engine/adaptive-limit.ts';

function harness(options: AdaptiveLimitOptions = {}, slots = 16) {
  let now = 0;
  // Probing off unless a test turns it on: these tests drive Gradient2 itself.
  const limit = new AdaptiveLimit(resolveAdaptive('lanes.normal.adaptive', { probeSamples: 0, ...options }, slots), () => now);
  /** One window: `samples` requests of `rttMs`, the lane running `inFlight` (default: at its limit). */
  const window = (rttMs: number, inFlight = limit.limit, samples = 10, dropped = false) => {
    for (let i = 0; i < samples; i++) {
      if (i === samples - 1) now += 100; // the last sample closes the window
      limit.addSample(rttMs, inFlight, dropped && i === samples - 1);
    }
  };
  return { limit, window, advance: (ms: number) => (now += ms) };
}

describe('AdaptiveLimit (Gradient2)', () => {
  it('starts low (2) by default and grows from there, within [min, max]', () => {
    const { limit } = harness();
    expect(limit.limit).toBe(2);
    expect(limit.snapshot()).toMatchObject({ limit: 2, min_limit: 1, max_limit: 16, short_rtt_ms: null, changes: 0 });
    expect(harness({ initialLimit: 16 }).limit.limit).toBe(16);
    expect(harness({}, 1).limit.limit).toBe(1);
    expect(harness({ minLimit: 3 }).limit.limit).toBe(3);
  });

  it('falls when latency rises well above its long average, and says why in its changes', () => {
    const { limit, window } = harness({ initialLimit: 16 });
    for (let i = 0; i < 20; i++) window(5);
    expect(limit.limit).toBe(16);
    const trace: number[] = [];
    for (let i = 0; i < 30; i++) {
      window(50); // 10x the long RTT: gradient clamps at 0.5
      trace.push(limit.limit);
    }
    expect(trace.at(-1)!).toBeLessThan(6);
    // Monotone while the rise lasts (the long average moves slowly over 6000 windows).
    for (let i = 1; i < trace.length; i++) expect(trace[i]!).toBeLessThanOrEqual(trace[i - 1]!);
    const s = limit.snapshot();
    expect(s.gradient).toBe(0.5);
    expect(s.short_rtt_ms).toBe(50);
    expect(s.long_rtt_ms!).toBeLessThan(50);
    expect(s.changes).toBeGreaterThan(5);
    expect(s.recent_changes.at(-1)).toMatchObject({ reason: 'gradient', to: limit.limit });
    expect(s.recent_changes.length).toBeLessThanOrEqual(10);
  });

  it('told the protected lanes\' objective (guardTargetMs), cuts only on a clear RTT rise (tolerance 2); an explicit tolerance wins', () => {
    const rise = (options: AdaptiveLimitOptions) => {
      // The guard protects critical but sees none of its round trips: Gradient2 alone moves the limit.
      const { limit, window } = harness({ initialLimit: 8, protect: ['critical'], ...options });
      for (let i = 0; i < 20; i++) window(5);
      for (let i = 0; i < 20; i++) window(8); // 1.6x the long RTT
      return limit;
    };
    // 1.6x is over 1.25x: Gradient2 cuts without a told objective...
    expect(rise({}).limit).toBeLessThan(8);
    // ...and holds with one: 2 x long >= short.
    const told = rise({ guardTargetMs: 30 });
    expect(told.limit).toBeGreaterThanOrEqual(8);
    expect(told.snapshot().gradient).toBe(1);
    expect(rise({ guardTargetMs: 30, tolerance: 1.25 }).limit).toBeLessThan(8);
    // A clear rise still cuts with one.
    const { limit, window } = harness({ initialLimit: 8, protect: ['critical'], guardTargetMs: 30 });
    for (let i = 0; i < 20; i++) window(5);
    for (let i = 0; i < 20; i++) window(25);
    expect(limit.limit).toBeLessThan(8);
    const resolved = (o: AdaptiveLimitOptions) => resolveAdaptive('lanes.normal.adaptive', o, 8);
    expect(resolved({ protect: ['critical'] }).tolerance).toBe(1.25);
    expect(resolved({ protect: ['critical'], guardTargetMs: 30 }).tolerance).toBe(2);
    expect(resolved({ protect: ['critical'], guardTargetMs: 0 }).tolerance).toBe(1.25);
    // No lane to protect (the guard off, e.g. a node's limit): the objective is nobody's, the defaults stay.
    expect(resolved({ protect: [], guardTargetMs: 30 })).toMatchObject({ tolerance: 1.25, guardLevelSamples: 0 });
  });

  it('grows back up to max (and no further) while latency stays stable', () => {
    const { limit, window } = harness({ initialLimit: 2 });
    expect(limit.limit).toBe(2);
    const trace: number[] = [];
    for (let i = 0; i < 200; i++) {
      window(5);
      trace.push(limit.limit);
    }
    expect(trace.at(-1)).toBe(16);
    expect(Math.max(...trace)).toBe(16);
    for (let i = 1; i < trace.length; i++) expect(trace[i]!).toBeGreaterThanOrEqual(trace[i - 1]!);
  });

  it('never goes below min, however bad latency gets', () => {
    const { limit, window } = harness({ minLimit: 3 });
    for (let i = 0; i < 10; i++) window(1);
    for (let i = 0; i < 300; i++) window(1000 * (i + 1));
    expect(limit.limit).toBe(3);
    const dropped = harness({ minLimit: 2 });
    for (let i = 0; i < 100; i++) dropped.window(5, dropped.limit.limit, 10, true);
    expect(dropped.limit.limit).toBe(2);
  });

  it('does not grow while the lane uses less than half its limit (app-limited)', () => {
    const { limit, window } = harness({ initialLimit: 8 });
    for (let i = 0; i < 100; i++) window(5, 3); // 3 < 8 / 2
    expect(limit.limit).toBe(8);
    expect(limit.snapshot().app_limited_windows).toBe(100);
    window(5, 4); // 4 = 8 / 2: it may grow now
    expect(limit.snapshot().estimate).toBeGreaterThan(8);
  });

  it('cuts by the AIMD factor when a window saw a drop', () => {
    const { limit, window } = harness({ initialLimit: 16 });
    window(5, 16, 10, true);
    expect(limit.snapshot().estimate).toBeCloseTo(16 * 0.9, 5);
    expect(limit.snapshot().recent_changes.at(-1)).toMatchObject({ reason: 'drop', from: 16, to: 14 });
  });

  it('new bounds that move the limit are a change (reason `bounds`); bounds that leave it alone are not', () => {
    const { limit, advance } = harness({ initialLimit: 16 });
    advance(500);
    limit.setBounds(1, 6); // resize down: 16 -> 6
    expect(limit.limit).toBe(6);
    expect(limit.snapshot()).toMatchObject({ changes: 1, max_limit: 6 });
    expect(limit.snapshot().recent_changes.at(-1)).toMatchObject({ at_ms: 500, from: 16, to: 6, reason: 'bounds' });
    limit.setBounds(1, 32); // a larger max: the limit may climb there, it does not jump
    expect(limit.limit).toBe(6);
    expect(limit.snapshot().changes).toBe(1);
    limit.setBounds(8, 32); // a larger min lifts it
    expect(limit.snapshot()).toMatchObject({ limit: 8, changes: 2 });
    expect(limit.snapshot().recent_changes.at(-1)).toMatchObject({ from: 6, to: 8, reason: 'bounds' });
    // With the tail guard, its ceiling is clamped too: the limit in force is what is recorded.
    const guarded = harness({ protect: ['critical'], initialLimit: 10 });
    guarded.limit.setBounds(1, 4);
    expect(guarded.limit.snapshot()).toMatchObject({ limit: 4, guard_ceiling: 4, changes: 1 });
    expect(guarded.limit.snapshot().recent_changes).toMatchObject([{ from: 10, to: 4, reason: 'bounds' }]);
  });

  it('a window closes only after enough samples and enough time', () => {
    const { limit, advance } = harness();
    for (let i = 0; i < 50; i++) limit.addSample(5, 16); // no time passed
    expect(limit.snapshot().windows).toBe(0);
    advance(100);
    limit.addSample(5, 16);
    expect(limit.snapshot().windows).toBe(1);
  });

  it('a no-load probe (Envoy) lets a lane that starts flooded cut; without it, Gradient2 takes the flood as normal', async () => {
    // A server at its knee: 5 ms up to 3 requests at once, proportionally more above.
    const rtt = (inFlight: number) => 5 * Math.max(1, inFlight / 3);
    const drive = (h: ReturnType<typeof harness>, windows: number) => {
      for (let i = 0; i < windows; i++) h.window(rtt(h.limit.limit), h.limit.limit);
    };
    const pure = harness({ probeSamples: 0, initialLimit: 16 });
    drive(pure, 100);
    expect(pure.limit.limit).toBe(16); // flooded from the start: gradient 1 throughout

    const probed = harness({ probeSamples: 20, probeIntervalMs: 60_000, probeLimit: 3, initialLimit: 16 });
    expect(probed.limit.limit).toBe(3); // pinned while probing
    expect(probed.limit.snapshot()).toMatchObject({ probing: true, probes: 0, no_load_rtt_ms: null });
    drive(probed, 2);
    expect(probed.limit.snapshot()).toMatchObject({ probing: false, probes: 1, no_load_rtt_ms: 5 });
    drive(probed, 100);
    expect(probed.limit.limit).toBeLessThan(16);
    expect(probed.limit.limit).toBeGreaterThanOrEqual(3);
    // Probes again once the interval has passed.
    probed.advance(60_000);
    probed.limit.addSample(5, 3);
    expect(probed.limit.snapshot().probing).toBe(true);
    expect(probed.limit.limit).toBe(3);
    // Samples of requests that started above the pin (before the probe) do not count.
    for (let i = 0; i < 30; i++) probed.limit.addSample(500, 10);
    expect(probed.limit.snapshot().probing).toBe(true);
    for (let i = 0; i < 20; i++) probed.limit.addSample(6, 2);
    expect(probed.limit.snapshot()).toMatchObject({ probing: false, probes: 2 });
    expect(probed.limit.snapshot().no_load_rtt_ms!).toBeLessThan(7);
  });

  describe('the tail guard (`protect`)', () => {
    /** A guarded limit whose probe (10 own samples at 5 ms, 50 protected ones: 49 at 10 ms, one at 12) ended: base p99 12 ms, target 15. */
    function probed(options: AdaptiveLimitOptions = {}) {
      const h = harness({ protect: ['critical'], initialLimit: 8, probeSamples: 10, guardProbeSamples: 50, guardMinSamples: 40, guardWindowMs: 3000, ...options });
      h.advance(10);
      h.limit.addGuardSample(10); // the protected lane is active: the probe will wait for 50
      for (let i = 0; i < 10; i++) h.limit.addSample(5, 1);
      expect(h.limit.snapshot().probing).toBe(true);
      h.advance(5);
      h.limit.addGuardSample(60); // started before the probe pinned the lane: left out
      for (let i = 0; i < 48; i++) {
        h.advance(20);
        h.limit.addGuardSample(10);
      }
      h.advance(20);
      h.limit.addGuardSample(12);
      return h;
    }
    /** One second of the protected lane: 50 round trips, 20 ms apart, the first `slow` of them at `slowMs`, the rest at 10 ms. */
    const second = (h: ReturnType<typeof harness>, slow: number, slowMs: number) => {
      for (let i = 0; i < 50; i++) {
        h.advance(20);
        h.limit.addGuardSample(i < slow ? slowMs : 10);
      }
    };

    /** Good seconds (no slow protected requests) until the limit reaches `to`; returns how many it took. */
    const climb = (h: ReturnType<typeof harness>, to: number) => {
      let k = 0;
      while (h.limit.limit < to && k < 100) {
        second(h, 0, 0);
        k++;
      }
      return k;
    };

    it('with guardClimbSamples climbs only on that many round trips since the last change, and still cuts on guardMinSamples', () => {
      // 40 samples (guardMinSamples) come in 0.8 s: by default one slot per decision, one a second.
      const h = probed({ guardClimbSamples: 120 });
      expect(h.limit.limit).toBe(1);
      // 120 since the last change take 2.4 s: each step waits for the third decision after it.
      const steps = climb(h, 4);
      expect(steps).toBe(9);
      expect(climb(probed(), 4)).toBe(3);
      // A tail over the target still cuts at once (2 of 50 over it), not after 120.
      second(h, 2, 30);
      expect(h.limit.limit).toBeLessThan(4);
      expect(h.limit.snapshot().guard_cuts).toBe(1);
      expect(() => resolveAdaptive('lanes.normal.adaptive', { guardClimbSamples: -1 }, 8)).toThrow(/lanes\.normal\.adaptive\.guardClimbSamples/);
      expect(resolveAdaptive('lanes.normal.adaptive', {}, 8).guardClimbSamples).toBe(0);
    });

    it('with guardLevelSamples does not cut to a level that measured no lower a p99 (a tail this lane does not make), and still cuts to one that did', () => {
      /** At the level now: 48 round trips at 10 ms then 2 at 30 ms, and a second at 10 ms: the decision due in it sees 2 over the target of 50 or more (not an early cut on a few). */
      const slowAtEnd = (h: ReturnType<typeof harness>) => {
        for (let i = 0; i < 50; i++) {
          h.advance(20);
          h.limit.addGuardSample(i < 48 ? 10 : 30);
        }
        second(h, 0, 0);
      };
      const run = (options: AdaptiveLimitOptions, slowAtOne: boolean) => {
        // A told target, as bench:adaptive gives it (15 ms after the margin): the base (the tail at
        // 1 slot) does not move it.
        const h = probed({ initialLimit: 2, maxLimit: 2, guardTargetMs: 20, guardMargin: 0.75, ...options });
        expect(h.limit.limit).toBe(1);
        // At 1 slot: 3 seconds with 2 of 50 at 30 ms (over the target, nothing to cut), or none.
        for (let k = 0; k < 3; k++) second(h, slowAtOne ? 2 : 0, 30);
        climb(h, 2);
        expect(h.limit.limit).toBe(2);
        slowAtEnd(h);
        return h.limit;
      };
      // The same tail at 1 slot as at 2: the cut would not lower it; the level is kept.
      const kept = run({ guardLevelSamples: 400 }, true);
      expect(kept.limit).toBe(2);
      expect(kept.snapshot()).toMatchObject({ guard_kept: 1 });
      // 1 slot measured lower: the cut is taken.
      const cut = run({ guardLevelSamples: 400 }, false);
      expect(cut.limit).toBe(1);
      expect(cut.snapshot()).toMatchObject({ guard_kept: 0 });
      // Told a target, it is on by default (TOLD_TARGET_DEFAULTS): the same run keeps the level.
      const told = run({}, true);
      expect(told.limit).toBe(2);
      expect(told.snapshot()).toMatchObject({ guard_kept: 1 });
      // Off: each level judged on its own round trips, the cut taken either way.
      const off = run({ guardLevelSamples: 0 }, true);
      expect(off.limit).toBe(1);
      expect(off.snapshot().guard_kept).toBeUndefined();
      expect(() => resolveAdaptive('lanes.normal.adaptive', { guardLevelSamples: -1 }, 8)).toThrow(/lanes\.normal\.adaptive\.guardLevelSamples/);
      // Off without a told target (the guard's relative target), on with one; given, it wins.
      expect(resolveAdaptive('lanes.normal.adaptive', {}, 8).guardLevelSamples).toBe(0);
      expect(resolveAdaptive('lanes.normal.adaptive', { protect: ['critical'], guardTargetMs: 30 }, 8).guardLevelSamples).toBe(500);
      expect(resolveAdaptive('lanes.normal.adaptive', { protect: ['critical'], guardTargetMs: 30, guardLevelSamples: 0 }, 8).guardLevelSamples).toBe(0);
    });

    it('with guardSkipMs does not try a level whose memory measured a p99 over the target, and tries it once that memory is older than guardSkipMs', () => {
      /** Seconds at 10 ms until the limit moves or `max` seconds pass: how many. */
      const until = (h: ReturnType<typeof harness>, max: number) => {
        const from = h.limit.limit;
        let k = 0;
        while (h.limit.limit === from && k < max) {
          second(h, 0, 0);
          k++;
        }
        return k;
      };
      const run = (options: AdaptiveLimitOptions, early = false) => {
        // Told a target (15 ms after the margin): the per-level memory is on by default.
        const h = probed({ initialLimit: 2, maxLimit: 2, guardTargetMs: 20, guardMargin: 0.75, ...options });
        expect(h.limit.limit).toBe(1);
        climb(h, 2);
        // At 2: 48 round trips at 10 ms, then 2 at 30: the p99 of its 50 is 30, over 15; cut to 1,
        // whose memory measured 10. Early: 10 at 10 ms and one at 30, which the early cut ends
        // (the p99 of guardMinSamples, 40, is their highest): 11 in level 2's memory.
        const n = early ? 11 : 50;
        for (let i = 0; i < n; i++) {
          h.advance(20);
          h.limit.addGuardSample(i < n - (early ? 1 : 2) ? 10 : 30);
        }
        if (early) expect(h.limit.limit).toBe(1);
        second(h, 0, 0);
        expect(h.limit.limit).toBe(1);
        return h;
      };
      // Off: tried again after the 5 s retry wait.
      const off = run({ guardSkipMs: 0 });
      expect(until(off, 30)).toBeLessThanOrEqual(7);
      expect(off.limit.limit).toBe(2);
      expect(off.limit.snapshot().guard_skipped).toBeUndefined();
      // On: the step after the wait is not tried (counted, and the wait doubles: 10 s); the next
      // one, 10 s later, when level 2's memory is older than 12 s, is.
      const on = run({ guardSkipMs: 12_000 });
      const waited = until(on, 40);
      expect(on.limit.limit).toBe(2);
      expect(waited).toBeGreaterThanOrEqual(14);
      expect(on.limit.snapshot()).toMatchObject({ guard_skipped: 1 });
      // A try the early cut ended, with fewer round trips there than guardMinSamples, counts too.
      const onEarly = run({ guardSkipMs: 12_000 }, true);
      expect(until(onEarly, 40)).toBeGreaterThanOrEqual(14);
      expect(onEarly.limit.snapshot()).toMatchObject({ guard_skipped: 1 });
      // Without the memory there is nothing to skip on.
      const noMemory = run({ guardSkipMs: 15_000, guardLevelSamples: 0 });
      expect(until(noMemory, 30)).toBeLessThanOrEqual(7);
      expect(noMemory.limit.snapshot().guard_skipped).toBe(0);
      expect(() => resolveAdaptive('lanes.normal.adaptive', { guardSkipMs: -1 }, 8)).toThrow(/lanes\.normal\.adaptive\.guardSkipMs/);
      expect(resolveAdaptive('lanes.normal.adaptive', {}, 8).guardSkipMs).toBe(0);
      // Told a target, it is on by default (a minute), and an explicit 0 turns it off.
      const told = run({});
      expect(until(told, 40)).toBe(40);
      expect(told.limit.limit).toBe(1);
      expect(told.limit.snapshot().guard_skipped).toBeGreaterThanOrEqual(2);
      expect(resolveAdaptive('lanes.normal.adaptive', { protect: ['critical'], guardTargetMs: 30 }, 8).guardSkipMs).toBe(60_000);
      expect(resolveAdaptive('lanes.normal.adaptive', { protect: [], guardTargetMs: 30 }, 8).guardSkipMs).toBe(0);
    });

    it('learns its base from the probe, starts at the probe\'s limit, climbs one slot per decision within target and cuts on the protected p99 while the lane\'s own RTT stays flat', () => {
      const h = probed();
      expect(h.limit.snapshot()).toMatchObject({ probing: false, no_load_rtt_ms: 5, guard_base_ms: 12, guard_target_ms: 15, guard_tail_ms: null, guard_ceiling: 1 });
      expect(h.limit.limit).toBe(1);
      // One slot per decision (one a second here) while the tail is within target, up to Gradient2's 8.
      expect(climb(h, 8)).toBe(7);
      second(h, 0, 0);
      // The ceiling stops one slot above the limit it no longer holds.
      expect(h.limit.snapshot().guard_ceiling).toBe(9);
      expect(h.limit.limit).toBe(8);
      // 2 of 50 at 30 ms: the p50 stays at 10 ms, a p90 too; the p99 is 30 ms, above 15.
      second(h, 2, 30);
      expect(h.limit.limit).toBe(6); // 8 x 0.75
      expect(h.limit.snapshot()).toMatchObject({ guard_tail_ms: 30, guard_cuts: 1 });
      expect(h.limit.snapshot().recent_changes.at(-1)).toMatchObject({ from: 8, to: 6, reason: 'guard' });
      for (let k = 0; k < 10; k++) second(h, 2, 30);
      expect(h.limit.limit).toBe(1);
      // Gradient2 on the lane's own RTT, flat at 5 ms, would hold it.
      for (let w = 0; w < 20; w++) h.window(5, 8);
      expect(h.limit.limit).toBe(1);
      expect(h.limit.snapshot().estimate).toBeGreaterThanOrEqual(8);
    });

    it('with guardSlowStart multiplies the ceiling per step (and lifts Gradient2\'s estimate) until the first decision over the target, which goes back to the last level that held', () => {
      const h = probed({ guardSlowStart: 2 });
      expect(h.limit.snapshot()).toMatchObject({ guard_ceiling: 1, guard_slow_start: true });
      // 1, 2, 4, 8, 16: four decisions, past Gradient2's 8 (without it, one slot each, stopping at 8).
      expect(climb(h, 16)).toBe(4);
      expect(h.limit.snapshot()).toMatchObject({ guard_ceiling: 16, guard_slow_start: true });
      expect(h.limit.snapshot().estimate).toBeGreaterThanOrEqual(16);
      // 16 is over the target: back to 8, where the last step came from (not 16 x 0.75 = 12).
      second(h, 2, 30);
      expect(h.limit.limit).toBe(8);
      expect(h.limit.snapshot()).toMatchObject({ guard_cuts: 1, guard_slow_start: false });
      expect(h.limit.snapshot().guard_retry_in_ms).toBeGreaterThan(4000);
      // Then one slot per step, after the retry wait.
      expect(climb(h, 9)).toBeLessThanOrEqual(6);
      second(h, 0, 0);
      expect(h.limit.limit).toBe(10);
      const off = probed();
      expect(climb(off, 8)).toBe(7);
      expect(off.limit.snapshot().guard_slow_start).toBeUndefined();
      // A factor of 4, capped at maxLimit: 1, 4, then 12 (not 16); 12 over the target goes back to 4.
      const capped = probed({ guardSlowStart: 4, maxLimit: 12 });
      expect(climb(capped, 4)).toBe(1);
      second(capped, 0, 0);
      expect(capped.limit.limit).toBe(12);
      second(capped, 2, 30);
      expect(capped.limit.limit).toBe(4);
      expect(resolveAdaptive('lanes.normal.adaptive', {}, 8).guardSlowStart).toBe(1);
      expect(() => resolveAdaptive('lanes.normal.adaptive', { guardSlowStart: 0.5 }, 8)).toThrow(/lanes\.normal\.adaptive\.guardSlowStart/);
    });

    it('with guardSlowStart and guardSkipMs ends the slow start at a level its memory measured over the target (after a resize brought the ceiling below it), without a try', () => {
      // In slow start the ceiling only rises until a cut, so a level above it can only have been
      // measured before a resize lowered the ceiling (setBounds) without a cut.
      const run = (options: AdaptiveLimitOptions, upTo: number) => {
        // Told a target (15 ms after the margin): per-level memory and guardSkipMs are on. A
        // decision every 5 s, so that the resize can come between two.
        const h = probed({ guardSlowStart: 2, guardTargetMs: 20, guardMargin: 0.75, guardIntervalMs: 5000, ...options });
        expect(climb(h, upTo)).toBeGreaterThan(0);
        expect(h.limit.limit).toBe(upTo);
        // Within a second of the step: guardMinSamples round trips at 10 ms, then 2 over the target
        // (the early cut waits for the decision once there are guardMinSamples). The level's memory
        // holds them; the resize comes before the decision (and bounds reset what it judges).
        for (let i = 0; i < 40; i++) {
          h.advance(1);
          h.limit.addGuardSample(10);
        }
        h.limit.addGuardSample(30);
        h.limit.addGuardSample(30);
        expect(h.limit.limit).toBe(upTo);
        h.limit.setBounds(1, upTo / 2);
        h.limit.setBounds(1, 16);
        expect(h.limit.snapshot()).toMatchObject({ guard_ceiling: upTo / 2, guard_slow_start: true });
        // The next decision, with headroom (6 s: one decision).
        for (let k = 0; k < 6; k++) second(h, 0, 0);
        return h.limit;
      };
      // From 1 the slow start's step and the one-slot step are both 2: skipped, as a known failure.
      const one = run({}, 2);
      expect(one.snapshot()).toMatchObject({ guard_ceiling: 1, guard_skipped: 1, guard_slow_start: false });
      // From 2 the slow start would go to 4, known to fail: it ends there, and 3 is tried (the
      // ceiling: the resize also brought Gradient2's estimate down to 2, and it is not lifted).
      const two = run({}, 4);
      expect(two.snapshot()).toMatchObject({ guard_ceiling: 3, guard_skipped: 0, guard_slow_start: false });
      expect(two.limit).toBe(2);
      // Without the memory nothing is known: the slow start doubles on, to 4, estimate and all.
      const blind = run({ guardSkipMs: 0 }, 4);
      expect(blind.snapshot()).toMatchObject({ guard_ceiling: 4, guard_slow_start: true });
      expect(blind.limit).toBe(4);
    });

    it('after a cut waits guardRetryMs before one slot more, doubling per cut in a row, back to guardRetryMs once the cut level holds', () => {
      const h = probed();
      climb(h, 4);
      second(h, 2, 30); // cut 4 -> 3; no step up for 5 s
      expect(h.limit.limit).toBe(3);
      expect(h.limit.snapshot().guard_retry_in_ms).toBeGreaterThan(4000);
      for (let k = 0; k < 4; k++) second(h, 0, 0);
      expect(h.limit.limit).toBe(3); // within target, but the wait holds it
      expect(climb(h, 4)).toBeLessThanOrEqual(2);
      second(h, 2, 30); // 4 failed again: cut, and now 10 s
      expect(h.limit.limit).toBe(3);
      for (let k = 0; k < 9; k++) second(h, 0, 0);
      expect(h.limit.limit).toBe(3);
      expect(climb(h, 4)).toBeLessThanOrEqual(2);
      // 4 holds three decisions: the next cut waits 5 s again, not 20.
      for (let k = 0; k < 3; k++) second(h, 0, 0);
      expect(h.limit.limit).toBeGreaterThanOrEqual(4);
      const at = h.limit.limit;
      second(h, 2, 30);
      expect(h.limit.limit).toBe(Math.max(1, Math.min(at - 1, Math.floor(at * 0.75))));
      expect(h.limit.snapshot().guard_retry_in_ms).toBeLessThanOrEqual(5000);
      expect(climb(h, at)).toBeLessThanOrEqual(7);
      // At the probe's limit there is nothing to cut: its round trips feed the base (the p99 of the
      // probe's and these, 2 of 100 at 30 ms), and the tail is judged against that.
      const low = probed();
      low.advance(100);
      second(low, 2, 30);
      expect(low.limit.snapshot()).toMatchObject({ guard_base_ms: 30, guard_tail_ms: 30, guard_cuts: 0, guard_retry_in_ms: 0 });
      expect(low.limit.limit).toBe(2);
    });

    it('with guardTargetMs (the protected lanes\' objective) holds the tail to it instead of 1.25x the base', () => {
      const h = probed({ guardTargetMs: 40, guardMargin: 1, guardHeadroom: 0.8 });
      expect(h.limit.snapshot()).toMatchObject({ guard_base_ms: 12, guard_target_ms: 40 });
      h.advance(100);
      // 30 ms is 2.5x the base but within the objective: the lane climbs.
      for (let k = 0; k < 4; k++) second(h, 2, 30);
      expect(h.limit.limit).toBe(5);
      // Within the objective but above 0.8 of it (guardHeadroom): hold.
      const decisions = h.limit.snapshot().guard_decisions!;
      second(h, 2, 35);
      expect(h.limit.snapshot()).toMatchObject({ guard_tail_ms: 35, guard_decisions: decisions + 1, guard_cuts: 0 });
      expect(h.limit.limit).toBe(5);
      second(h, 2, 50);
      expect(h.limit.limit).toBe(3); // min(4, floor(5 x 0.75))
      expect(h.limit.snapshot()).toMatchObject({ guard_tail_ms: 50, guard_cuts: 1 });
      expect(() => resolveAdaptive('lanes.normal.adaptive', { guardTargetMs: -1 }, 8)).toThrow(/lanes\.normal\.adaptive\.guardTargetMs/);
    });

    it('with guardMargin steers to that fraction of the objective: a tail within the objective but above the margin is cut', () => {
      // By default the guard steers to 0.9 of the objective.
      expect(probed({ guardTargetMs: 40 }).limit.snapshot()).toMatchObject({ guard_target_ms: 36 });
      const h = probed({ guardTargetMs: 40, guardMargin: 0.8 });
      expect(h.limit.snapshot()).toMatchObject({ guard_target_ms: 32 });
      h.advance(100);
      for (let k = 0; k < 3; k++) second(h, 2, 30);
      expect(h.limit.limit).toBe(4);
      // 35 ms: within the objective (the test above holds there), above 0.8 of it: cut.
      second(h, 2, 35);
      expect(h.limit.limit).toBe(3); // min(3, floor(4 x 0.75))
      expect(h.limit.snapshot()).toMatchObject({ guard_tail_ms: 35, guard_cuts: 1 });
      // The margin is of a stated objective; the relative target (base x guardTolerance) has its own knob.
      const relative = probed({ guardMargin: 0.5 });
      expect(relative.limit.snapshot()).toMatchObject({ guard_base_ms: 12, guard_target_ms: 15 });
      expect(() => resolveAdaptive('lanes.normal.adaptive', { guardMargin: 1.2 }, 8)).toThrow(/lanes\.normal\.adaptive\.guardMargin/);
    });

    it('cuts as soon as enough round trips since the last change are over the target to put the p99 of guardMinSamples over it', () => {
      const h = probed({ guardMinSamples: 100 });
      // 100 per decision: two seconds per step.
      climb(h, 3);
      expect(h.limit.limit).toBe(3);
      const { guard_cuts: cuts, guard_decisions: decisions } = h.limit.snapshot();
      for (let i = 0; i < 5; i++) {
        h.advance(20);
        h.limit.addGuardSample(10); // started after the step up
      }
      h.advance(20);
      h.limit.addGuardSample(30); // one over 15 ms: the p99 of 100 may still be within
      for (let i = 0; i < 10; i++) {
        h.advance(20);
        h.limit.addGuardSample(10);
      }
      expect(h.limit.limit).toBe(3);
      expect(h.limit.snapshot().guard_decisions).toBe(decisions);
      h.advance(20);
      h.limit.addGuardSample(30); // two of 100 would make it 30 ms: cut now, after 17 round trips, not 100
      expect(h.limit.limit).toBe(2);
      expect(h.limit.snapshot()).toMatchObject({ guard_cuts: cuts! + 1, guard_decisions: decisions! + 1, guard_tail_ms: 30 });
      // At the lowest limit there is nothing to cut: no early decision, the usual pace. (Each
      // started after the last change: 30 ms round trips 40 ms apart.)
      h.advance(40);
      h.limit.addGuardSample(30);
      h.advance(40);
      h.limit.addGuardSample(30);
      expect(h.limit.limit).toBe(1);
      const atMin = h.limit.snapshot();
      for (let i = 0; i < 5; i++) {
        h.advance(40);
        h.limit.addGuardSample(30);
      }
      expect(h.limit.snapshot()).toMatchObject({ guard_cuts: atMin.guard_cuts, guard_decisions: atMin.guard_decisions });
    });

    it('judges only requests that started after the limit changed, at most once per interval', () => {
      const h = probed();
      climb(h, 4);
      const cuts = h.limit.snapshot().guard_cuts;
      second(h, 2, 30);
      expect(h.limit.limit).toBe(3);
      const decisions = h.limit.snapshot().guard_decisions;
      // Slow answers to requests that started before the cut (the cut came with the first slow
      // answer, under 1 s ago; these started 2 s before they end): not judged, no second cut.
      for (let i = 0; i < 45; i++) {
        h.advance(20);
        h.limit.addGuardSample(2000);
      }
      // (The decision due a second after the cut judged the 10 ms answers since: within target.)
      expect(h.limit.snapshot()).toMatchObject({ guard_cuts: cuts! + 1, guard_tail_ms: 10 });
      expect(h.limit.snapshot().guard_decisions).toBeLessThanOrEqual(decisions! + 1);
      expect(h.limit.limit).toBe(3);
    });

    it('a probe waits for protected samples only while the protected lane is active, and at most guardProbeMaxMs', () => {
      const quiet = harness({ protect: ['critical'], probeSamples: 10 });
      for (let i = 0; i < 10; i++) quiet.limit.addSample(5, 1);
      expect(quiet.limit.snapshot()).toMatchObject({ probing: false, guard_base_ms: null });
      // No base: the guard stays off.
      for (let k = 0; k < 3; k++) second(quiet, 10, 1000);
      expect(quiet.limit.snapshot()).toMatchObject({ guard_decisions: 0, guard_tail_ms: null });
      const slow = harness({ protect: ['critical'], probeSamples: 10 });
      slow.advance(10);
      slow.limit.addGuardSample(10);
      for (let i = 0; i < 10; i++) slow.limit.addSample(5, 1);
      expect(slow.limit.snapshot().probing).toBe(true);
      slow.advance(3001);
      slow.limit.addSample(5, 1);
      // Ended at the bound; 1 protected sample is fewer than a probe needs (40): no base.
      expect(slow.limit.snapshot()).toMatchObject({ probing: false, guard_base_ms: null });
      expect(harness({ probeSamples: 10 }).limit.snapshot().guard_ceiling).toBeUndefined();
      // A probe whose own lane has no traffic keeps only the last guardProbeSamples protected round trips.
      const idle = harness({ protect: ['critical'], probeSamples: 10, guardProbeSamples: 50 });
      for (let i = 0; i < 5000; i++) {
        idle.advance(20);
        idle.limit.addGuardSample(i < 4950 ? 1000 : 10);
      }
      for (let i = 0; i < 10; i++) idle.limit.addSample(5, 1);
      expect(idle.limit.snapshot()).toMatchObject({ probing: false, guard_base_ms: 10 });
    });
  });

  it('rejects bad options with a ConfigError naming them', () => {
    expect(() => resolveAdaptive('lanes.normal.adaptive', { minLimit: 0 }, 8)).toThrow(ConfigError);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { minLimit: 9 }, 8)).toThrow(/minLimit <= initialLimit <= maxLimit/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { smoothing: 2 }, 8)).toThrow(/lanes\.normal\.adaptive\.smoothing/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { bogus: 1 } as never, 8)).toThrow(/bogus/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { protect: 'critical' } as never, 8)).toThrow(/lanes\.normal\.adaptive\.protect/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { guardMinSamples: 0 }, 8)).toThrow(/lanes\.normal\.adaptive\.guardMinSamples/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { guardBackoff: 1 }, 8)).toThrow(/guardBackoff/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { guardTolerance: 0.9 }, 8)).toThrow(/guardTolerance/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { guardRetryMs: 9000, guardRetryMaxMs: 8000 }, 8)).toThrow(/guardRetryMs <= guardRetryMaxMs/);
  });
});
