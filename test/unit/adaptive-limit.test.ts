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

  it('with `protect`, a protected lane whose tail rises cuts the limit while the lane\'s own RTT stays flat', () => {
    const probeThen = (h: ReturnType<typeof harness>) => {
      for (let i = 0; i < 10; i++) h.limit.addSample(5, 1); // the probe, pinned at 1: 5 ms
    };
    const guarded = harness({ protect: ['critical'], initialLimit: 8, probeSamples: 10 });
    const plain = harness({ initialLimit: 8, probeSamples: 10 });
    probeThen(guarded);
    probeThen(plain);
    expect(plain.limit.snapshot().probing).toBe(false);
    expect(guarded.limit.snapshot().probing).toBe(true); // waits for the protected lane's samples
    guarded.limit.addGuardSample(40); // started before the pin (40 ms ago, at 0): left out
    guarded.advance(50);
    guarded.limit.addGuardSample(60); // also started before the probe
    for (let i = 0; i < 20; i++) guarded.limit.addGuardSample(8 + (i % 5)); // p90 = 12
    expect(guarded.limit.snapshot()).toMatchObject({ probing: false, guard_base_ms: 12, no_load_rtt_ms: 5 });
    for (let w = 0; w < 30; w++) {
      for (let i = 0; i < 5; i++) guarded.limit.addGuardSample(30); // the protected tail: 2.5x
      guarded.window(5);
      plain.window(5);
    }
    expect(plain.limit.limit).toBeGreaterThanOrEqual(8); // its own RTT says nothing is wrong
    expect(guarded.limit.limit).toBeLessThan(3);
    const s = guarded.limit.snapshot();
    expect(s).toMatchObject({ guard_rtt_ms: 30, guard_base_ms: 12, guard_gradient: 0.5, gradient: 0.5 });
    expect(s.recent_changes.at(-1)).toMatchObject({ reason: 'guard' });
    expect(plain.limit.snapshot().guard_rtt_ms).toBeUndefined();
    // Once the protected tail is back to its probe value the limit grows again.
    for (let w = 0; w < 60; w++) {
      for (let i = 0; i < 5; i++) guarded.limit.addGuardSample(12);
      guarded.window(5);
    }
    expect(guarded.limit.limit).toBeGreaterThanOrEqual(3);
  });

  it('a probe waits at most 1 s for protected samples; without them the guard stays off', () => {
    const h = harness({ protect: ['critical'], initialLimit: 8, probeSamples: 10 });
    for (let i = 0; i < 10; i++) h.limit.addSample(5, 1);
    expect(h.limit.snapshot().probing).toBe(true);
    h.advance(1001);
    h.limit.addSample(5, 1);
    expect(h.limit.snapshot()).toMatchObject({ probing: false, guard_base_ms: null });
    for (let w = 0; w < 20; w++) {
      for (let i = 0; i < 5; i++) h.limit.addGuardSample(1000);
      h.window(5);
    }
    expect(h.limit.limit).toBeGreaterThanOrEqual(8);
  });

  it('rejects bad options with a ConfigError naming them', () => {
    expect(() => resolveAdaptive('lanes.normal.adaptive', { minLimit: 0 }, 8)).toThrow(ConfigError);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { minLimit: 9 }, 8)).toThrow(/minLimit <= initialLimit <= maxLimit/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { smoothing: 2 }, 8)).toThrow(/lanes\.normal\.adaptive\.smoothing/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { bogus: 1 } as never, 8)).toThrow(/bogus/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { protect: 'critical' } as never, 8)).toThrow(/lanes\.normal\.adaptive\.protect/);
    expect(() => resolveAdaptive('lanes.normal.adaptive', { guardSamples: 2 }, 8)).toThrow(/guardSamples/);
  });
});
