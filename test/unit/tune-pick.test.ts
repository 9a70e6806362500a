/**
 * tune's pick (bench/tune.ts): which settings it re-measures before picking, and how repeats of
 * one setting pool into one figure. Pure logic on hand-made trials; no server.
 */
import { describe, expect, it } from 'vitest';
import { confirmationCandidates, lanesEnv, nextCandidates, pickBest, pooledTrial, positiveArg, recommendedPick, staticFallback, staticLadder, type Trial } from '../../bench/tune.ts';
import { judge, twinVerdicts, verdictFirmness, type Comparison } from '../../bench/adaptive.ts';
import { statedTarget, twinSummary } from '../../bench/firmness.ts';
import { headroomOutcome, tuneVsComparison } from '../../bench/headroom.ts';
import { encode, newHistogram, recordMs } from '../../src/stats/histogram.ts';

/** A trial of the normal lane capped at `cap` whose critical answers took `latenciesMs`. */
function trial(cap: number | undefined, normalServed: number, latenciesMs: number[], targetP99Ms: number, criticalErrors = 0): Trial {
  const h = newHistogram();
  for (const ms of latenciesMs) recordMs(h, ms);
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const p99 = sorted[Math.ceil(sorted.length * 0.99) - 1]!;
  return {
    setting: { workers: 1, connections: 8, lanes: { critical: { reserved: 1 }, normal: { maxQueue: 200, ...(cap === undefined ? {} : { maxConcurrency: cap }) } } },
    criticalP99Ms: p99, criticalP50Ms: sorted[Math.floor(sorted.length / 2)]!, normalServed, normalErrors: 0, criticalErrors,
    criticalHistogram: encode(h), meets: p99 <= targetP99Ms && criticalErrors === 0,
  };
}
const ms = (n: number, value: number) => Array.from({ length: n }, () => value);
const capOf = (t: Trial) => t.setting.lanes?.['normal']?.maxConcurrency;

describe('tune: pooled trials', () => {
  it('takes the p99 over all answers of the repeats, not the mean of their p99s, and the mean goodput', () => {
    const target = 30;
    // Two quiet trials (p99 20 ms) and one caught by a stall: 3 % of its answers took 900 ms.
    const quiet = [trial(2, 600, ms(100, 20), target), trial(2, 620, ms(100, 20), target)];
    const stalled = trial(2, 400, [...ms(97, 20), ...ms(3, 900)], target);
    expect(stalled.criticalP99Ms).toBe(900);
    const p = pooledTrial([...quiet, stalled], target);
    expect(p.pooled).toBe(3);
    // 3 slow answers of 300 are 1 %: the 99th percentile is the last fast one.
    expect(p.criticalP99Ms).toBeCloseTo(20, 1);
    expect(p.normalServed).toBeCloseTo((600 + 620 + 400) / 3, 6);
    expect(p.meets).toBe(true);
    // Four slow answers of 300 are more than 1 %: now the pooled p99 is the stall's.
    const worse = trial(2, 400, [...ms(96, 20), ...ms(4, 900)], target);
    expect(pooledTrial([...quiet, worse], target).criticalP99Ms).toBeCloseTo(900, 0);
    expect(pooledTrial([...quiet, worse], target).meets).toBe(false);
  });

  it('does not meet the target with a critical error in any repeat, and refuses no trials', () => {
    const ok = trial(1, 300, ms(100, 10), 30);
    expect(pooledTrial([ok, trial(1, 300, ms(100, 10), 30, 1)], 30).meets).toBe(false);
    expect(pooledTrial([ok], 30)).toMatchObject({ pooled: 1, meets: true });
    expect(() => pooledTrial([], 30)).toThrow(/no trials/);
  });
});

describe('tune: confirmation candidates', () => {
  const target = 25;
  it('re-measures the pick, the near miss that served more, and the next setting meeting the target', () => {
    const trials = [
      trial(undefined, 900, ms(100, 80), target), // far over the target
      trial(4, 800, ms(100, 29), target), // near miss (29 <= 1.25 x 25), serves more
      trial(3, 700, ms(100, 40), target), // over 1.25x: not a near miss
      trial(2, 600, ms(100, 24), target), // the sweep's pick
      trial(1, 400, ms(100, 18), target), // the fallback
    ];
    expect(capOf(pickBest(trials))).toBe(2);
    expect(confirmationCandidates(trials, target).map(capOf)).toEqual([2, 4, 1]);
  });

  it('with nothing meeting the target, re-measures the lowest and second-lowest critical p99', () => {
    const trials = [trial(4, 800, ms(100, 60), target), trial(2, 600, ms(100, 40), target), trial(1, 400, ms(100, 33), target)];
    // Nothing served more than the pick within 1.25x the target: no near miss.
    expect(confirmationCandidates(trials, target).map(capOf)).toEqual([1, 2]);
  });

  it('lists each setting once and the pick first', () => {
    const a = trial(2, 600, ms(100, 20), target);
    const again = { ...trial(2, 650, ms(100, 20), target) };
    const c = confirmationCandidates([a, again], target);
    expect(c.map((t) => lanesEnv(t.setting))).toEqual([lanesEnv(a.setting)]);
    expect(c[0]).toBe(again); // the one that served more is the pick
  });
});

describe('tune: descending when no re-measured setting met the target', () => {
  const target = 25;
  const sweep = [
    trial(4, 800, ms(100, 60), target),
    trial(3, 700, ms(100, 24), target), // the sweep's pick, then missed on re-measure
    trial(2, 600, ms(100, 22), target),
    trial(1, 400, ms(100, 18), target),
    trial(8, 900, ms(100, 30), target),
  ];
  it('goes on with the settings that met the target in the sweep, most goodput first, two at a time', () => {
    const missed = [{ ...sweep[1]!, criticalP99Ms: 29, meets: false }];
    expect(nextCandidates(sweep, missed, 5).map(capOf)).toEqual([2, 1]);
    // Then the lowest critical p99 among those that did not meet it.
    expect(nextCandidates(sweep, [...missed, sweep[2]!, sweep[3]!], 5).map(capOf)).toEqual([8, 4]);
  });

  it('stops at the bound', () => {
    expect(nextCandidates(sweep, [], 1)).toHaveLength(1);
    expect(nextCandidates(sweep, [], 0)).toEqual([]);
    expect(nextCandidates(sweep, sweep, 5)).toEqual([]);
  });
});

describe('tune: the setting it recommends, with headroom under the target', () => {
  const target = 25;
  const headroom = 0.8; // 0.8 x 25 = 20
  // The sweep: cap 4 serves the most and misses; cap 3 meets at 24 ms (no room), cap 2 at 19.5 ms, cap 1 at 15 ms.
  const sweep = [trial(4, 800, ms(100, 40), target), trial(3, 700, ms(100, 24), target), trial(2, 600, ms(100, 19.5), target), trial(1, 400, ms(100, 15), target)];
  it('is the most goodput whose critical p99 came in at most the headroom x the target, below the pick that merely met it', () => {
    const confirmed = [pooledTrial([sweep[1]!, trial(3, 690, ms(100, 24), target)], target), pooledTrial([sweep[2]!, trial(2, 610, ms(100, 19.5), target)], target)];
    const best = pickBest(confirmed);
    expect(capOf(best)).toBe(3);
    const r = recommendedPick({ best, confirmed, trials: sweep, targetP99Ms: target }, headroom);
    expect(r.withHeadroom).toBe(true);
    expect(capOf(r.trial)).toBe(2);
    expect(r.trial).toBe(confirmed[1]); // its pooled figures, not its sweep trial
    // Headroom 1: the pick itself.
    expect(recommendedPick({ best, confirmed, trials: sweep, targetP99Ms: target }, 1)).toEqual({ trial: best, withHeadroom: true });
    // A tighter headroom (0.7 x 25 = 17.5) steps down to cap 1.
    expect(capOf(recommendedPick({ best, confirmed, trials: sweep, targetP99Ms: target }, 0.7).trial)).toBe(1);
  });
  it('judges a re-measured setting by its pooled figures: a sweep trial within the headroom that read higher again does not count', () => {
    const cap2Higher = pooledTrial([sweep[2]!, trial(2, 600, ms(100, 23), target)], target);
    expect(cap2Higher.criticalP99Ms).toBeGreaterThan(20);
    const best = pooledTrial([sweep[1]!], target);
    expect(capOf(recommendedPick({ best, confirmed: [best, cap2Higher], trials: sweep, targetP99Ms: target }, headroom).trial)).toBe(1);
    // And the other way round: a setting over the headroom in the sweep that came in under it pooled counts.
    const cap3Lower = pooledTrial([sweep[1]!, trial(3, 700, ms(10_000, 12), target), trial(3, 700, ms(10_000, 12), target)], target); // its 100 answers at 24 ms are 0.5 % of all
    expect(cap3Lower.criticalP99Ms).toBeLessThanOrEqual(20);
    expect(recommendedPick({ best: cap3Lower, confirmed: [cap3Lower], trials: sweep, targetP99Ms: target }, headroom).trial).toBe(cap3Lower);
  });
  it('never serves more than the pick, passes over a setting with a critical error, and without headroom takes the most room that met the target', () => {
    // The uncapped setting came in fast, but served more than the pick: tune did not pick it (e.g. it missed when re-measured elsewhere).
    const fastUncapped = trial(undefined, 900, ms(100, 10), target);
    const erring = trial(2, 650, ms(100, 10), target, 1);
    const best = pooledTrial([sweep[1]!], target);
    const r = recommendedPick({ best, confirmed: [best], trials: [fastUncapped, sweep[1]!, erring], targetP99Ms: target }, headroom);
    expect(r).toEqual({ trial: best, withHeadroom: false });
    // Nothing within the headroom, two settings below the pick meeting the target: the one with the most room.
    const tight = [trial(3, 700, ms(100, 24), target), trial(2, 600, ms(100, 21), target), trial(1, 400, ms(100, 22), target)];
    const tightBest = pooledTrial([tight[0]!], target);
    const r2 = recommendedPick({ best: tightBest, confirmed: [tightBest], trials: tight, targetP99Ms: target }, headroom);
    expect(r2.withHeadroom).toBe(false);
    expect(capOf(r2.trial)).toBe(2);
    // Nothing met the target at all: the pick (the lowest p99) and no headroom.
    const missing = [trial(2, 600, ms(100, 30), target), trial(1, 400, ms(100, 28), target)];
    const lowest = pickBest(missing);
    expect(recommendedPick({ best: lowest, trials: missing, targetP99Ms: target }, headroom)).toEqual({ trial: lowest, withHeadroom: false });
  });
});

describe('bench:adaptive: the static fallback run beside tune\'s pick', () => {
  const target = 25;
  const sweep = [trial(4, 800, ms(100, 60), target), trial(3, 700, ms(100, 24), target), trial(2, 600, ms(100, 22), target), trial(1, 400, ms(100, 18), target)];
  it('is the re-measured setting that met the target with the most goodput below the pick', () => {
    const confirmed = [pooledTrial([sweep[1]!, trial(3, 690, ms(100, 24), target)], target), pooledTrial([sweep[2]!, trial(2, 610, ms(100, 23), target)], target)];
    expect(capOf(staticFallback({ best: confirmed[0]!, confirmed, trials: sweep })!)).toBe(2);
  });
  it('else the sweep\'s, leaving out settings re-measured that missed', () => {
    const pick = pooledTrial([sweep[1]!], target);
    const cap2Missed = pooledTrial([sweep[2]!, trial(2, 600, ms(100, 40), target)], target);
    expect(cap2Missed.meets).toBe(false);
    expect(capOf(staticFallback({ best: pick, confirmed: [pick, cap2Missed], trials: sweep })!)).toBe(1);
    expect(capOf(staticFallback({ best: pick, trials: sweep })!)).toBe(2); // a run with no confirmation recorded
  });
  it('steps the cap down: a setting with the pick\'s cap and another queue bound or reservation is passed over', () => {
    const sameCap = (queue: number, reserved: number, served: number) => {
      const t = trial(3, served, ms(100, 24), target);
      return { ...t, setting: { ...t.setting, lanes: { critical: { reserved }, normal: { maxQueue: queue, maxConcurrency: 3 } } } };
    };
    const pick = pooledTrial([sweep[1]!], target);
    const confirmed = [pick, pooledTrial([sameCap(1000, 1, 695)], target), pooledTrial([sameCap(200, 2, 690)], target)];
    expect(confirmed.every((t) => t.meets)).toBe(true);
    expect(capOf(staticFallback({ best: pick, confirmed, trials: sweep })!)).toBe(2); // from the sweep
    // An uncapped pick: any capped setting is a step down.
    const uncapped = trial(undefined, 900, ms(100, 24), target);
    expect(capOf(staticFallback({ best: uncapped, confirmed: [uncapped], trials: sweep })!)).toBe(3);
  });
  it('is none when the pick did not meet the target, or nothing below it did', () => {
    expect(staticFallback({ best: sweep[0]!, confirmed: [sweep[0]!], trials: sweep })).toBeUndefined();
    expect(staticFallback({ best: sweep[3]!, confirmed: [sweep[3]!], trials: sweep })).toBeUndefined();
  });
});

describe('bench:adaptive: the ladder of lower caps run beside tune\'s pick', () => {
  const target = 25;
  /** A trial at `cap` with another critical reservation (a second setting at the same cap). */
  const reserved2 = (cap: number, served: number, p99: number) => {
    const t = trial(cap, served, ms(100, p99), target);
    return { ...t, setting: { ...t.setting, lanes: { critical: { reserved: 2 }, normal: { maxQueue: 200, maxConcurrency: cap } } } };
  };
  const reservedOf = (t: Trial) => t.setting.lanes?.['critical']?.reserved;
  const sweep = [
    trial(8, 900, ms(100, 40), target), trial(4, 800, ms(100, 24), target), trial(3, 700, ms(100, 24), target), reserved2(3, 650, 23),
    trial(2, 600, ms(100, 30), target), reserved2(2, 560, 27), trial(1, 400, ms(100, 18), target), reserved2(1, 420, 19),
  ];
  it('is the fallback, then the best setting at each lower cap tune swept, down to 1', () => {
    const pick = pooledTrial([sweep[1]!], target);
    const ladder = staticLadder({ best: pick, confirmed: [pick], trials: sweep });
    expect(ladder.map(capOf)).toEqual([3, 2, 1]);
    expect(ladder[0]).toBe(staticFallback({ best: pick, confirmed: [pick], trials: sweep }));
    // Cap 2: nothing met the target in tune, so the lower critical p99 (reserved 2, 27 ms).
    expect(reservedOf(ladder[1]!)).toBe(2);
    // Cap 1: both met it; the one with more goodput.
    expect(ladder[2]!.normalServed).toBe(420);
  });
  it('keeps the caps between the pick and a fallback that skipped them (more goodput in tune by noise), highest first', () => {
    // 2026-11-27 11:42Z: the pick at cap 8, caps 4 and 3 served less than cap 2 in tune.
    const skipped = [trial(8, 900, ms(100, 24), target), trial(4, 600, ms(100, 24), target), trial(3, 650, ms(100, 24), target), trial(2, 700, ms(100, 20), target), trial(1, 400, ms(100, 18), target)];
    const pick = pooledTrial([skipped[0]!], target);
    expect(capOf(staticFallback({ best: pick, confirmed: [pick], trials: skipped })!)).toBe(2);
    expect(staticLadder({ best: pick, confirmed: [pick], trials: skipped }).map(capOf)).toEqual([2, 4, 3, 1]);
  });
  it('prefers the re-measured figures, and leaves out a setting that met the target once and missed when re-measured', () => {
    const pick = pooledTrial([sweep[1]!], target);
    const cap1Missed = pooledTrial([sweep[7]!, reserved2(1, 420, 40)], target);
    expect(cap1Missed.meets).toBe(false);
    const ladder = staticLadder({ best: pick, confirmed: [pick, cap1Missed], trials: sweep });
    expect(ladder.at(-1)!.normalServed).toBe(400);
    expect(reservedOf(ladder.at(-1)!)).toBe(1);
  });
  it('starts below the pick when there is no fallback, and is empty at the lowest cap', () => {
    // The pick missed in tune: no fallback, every lower cap.
    const missed = pooledTrial([sweep[0]!], target);
    expect(staticFallback({ best: missed, confirmed: [missed], trials: sweep })).toBeUndefined();
    expect(staticLadder({ best: missed, confirmed: [missed], trials: sweep }).map(capOf)).toEqual([4, 3, 2, 1]);
    const atOne = pooledTrial([sweep[6]!], target);
    expect(staticLadder({ best: atOne, confirmed: [atOne], trials: sweep })).toEqual([]);
    // A fallback at cap 1 is the whole ladder.
    const pick2 = pooledTrial([reserved2(2, 610, 20)], target);
    expect(staticLadder({ best: pick2, confirmed: [pick2], trials: sweep }).map(capOf)).toEqual([1]);
  });
});

describe('bench:adaptive: the verdict (judge)', () => {
  const target = 25;
  const run = (rep: number, kind: string, t: Trial) => ({ rep, kind, trial: t });
  const statics = ['static', 'static fallback'];
  it('judges against tune\'s pick while it holds the target in the comparison', () => {
    const runs: Comparison['runs'] = [
      run(1, 'static', trial(3, 700, ms(100, 22), target)), run(1, 'static fallback', trial(2, 600, ms(100, 20), target)), run(1, 'adaptive', trial(undefined, 640, ms(100, 23), target)),
      run(2, 'adaptive', trial(undefined, 660, ms(100, 23), target)), run(2, 'static fallback', trial(2, 600, ms(100, 20), target)), run(2, 'static', trial(3, 700, ms(100, 24), target)),
    ];
    const v = judge(runs, statics, 'adaptive', target);
    expect(v.yardstick).toEqual({ kind: 'static', held: true, goodput: 700 });
    expect(v.goodputRatio).toBeCloseTo(650 / 700, 9);
    expect(v.met).toBe(true);
    expect(v.vsPick).toEqual({ goodputRatio: v.goodputRatio, met: true });
  });
  it('judges against the fallback when the pick misses over all its answers, and says how it fares against the pick', () => {
    const runs: Comparison['runs'] = [
      run(1, 'static', trial(3, 700, ms(100, 22), target)), run(2, 'static', trial(3, 700, [...ms(97, 22), ...ms(3, 40)], target)),
      run(1, 'static fallback', trial(2, 600, ms(100, 20), target)), run(2, 'static fallback', trial(2, 600, ms(100, 21), target)),
      run(1, 'adaptive', trial(undefined, 560, ms(100, 23), target)), run(2, 'adaptive', trial(undefined, 560, ms(100, 24), target)),
    ];
    // Each of the pick's trials alone: the first met the target; pooled, 3 of 200 answers over it is more than 1 %.
    expect(runs[0]!.trial.meets).toBe(true);
    const v = judge(runs, statics, 'adaptive', target);
    expect(v.yardstick).toEqual({ kind: 'static fallback', held: true, goodput: 600 });
    expect(v.goodputRatio).toBeCloseTo(560 / 600, 9);
    expect(v.met).toBe(true);
    expect(v.vsPick.goodputRatio).toBeCloseTo(560 / 700, 9);
    expect(v.vsPick.met).toBe(false);
    // The adaptive lane still has to hold the target itself.
    const slow = runs.map((r) => (r.kind === 'adaptive' ? run(r.rep, r.kind, trial(undefined, 560, ms(100, 30), target)) : r));
    expect(judge(slow, statics, 'adaptive', target)).toMatchObject({ goodputMet: true, latencyMet: false, met: false });
  });
  it('judges against the highest step of the ladder that held the target when the pick and the fallback missed', () => {
    const ladder = [...statics, 'static cap 1'];
    const runs: Comparison['runs'] = [
      run(1, 'static', trial(3, 700, ms(100, 30), target)), run(1, 'static fallback', trial(2, 600, ms(100, 28), target)),
      run(1, 'static cap 1', trial(1, 420, ms(100, 21), target)), run(1, 'adaptive', trial(undefined, 500, ms(100, 24), target)),
    ];
    const v = judge(runs, ladder, 'adaptive', target);
    expect(v.yardstick).toEqual({ kind: 'static cap 1', held: true, goodput: 420 });
    expect(v).toMatchObject({ latencyMet: true, goodputMet: true, met: true });
    expect(v.vsPick.met).toBe(false);
    // Less than 90 % of the step that held: not met.
    const low = runs.map((r) => (r.kind === 'adaptive' ? run(1, 'adaptive', trial(undefined, 370, ms(100, 24), target)) : r));
    expect(judge(low, ladder, 'adaptive', target)).toMatchObject({ goodputMet: false, met: false });
  });
  it('falls back to tune\'s pick when no static contender held the target, and refuses a comparison with none', () => {
    const runs: Comparison['runs'] = [
      run(1, 'static', trial(3, 700, ms(100, 30), target)), run(1, 'static fallback', trial(2, 600, ms(100, 28), target)), run(1, 'adaptive', trial(undefined, 500, ms(100, 24), target)),
    ];
    const v = judge(runs, statics, 'adaptive', target);
    expect(v.yardstick).toEqual({ kind: 'static', held: false, goodput: 700 });
    expect(v).toMatchObject({ latencyMet: true, goodputMet: false, met: false });
    // A critical error fails the latency half even with a fast p99.
    const erred = [...runs.slice(0, 2), run(1, 'adaptive', trial(undefined, 700, ms(100, 20), target, 1))];
    expect(judge(erred, statics, 'adaptive', target).latencyMet).toBe(false);
    expect(() => judge(runs.filter((r) => r.kind === 'adaptive'), statics, 'adaptive', target)).toThrow(/no static contender/);
  });
});

describe('tune and bench:adaptive: positive number arguments', () => {
  it('reads a positive number, is undefined when not given, and names the flag and the value otherwise', () => {
    expect(positiveArg('critical-p99', '35', 'ms')).toBe(35);
    expect(positiveArg('critical-p99', '27.5', 'ms')).toBe(27.5);
    expect(positiveArg('critical-p99', undefined, 'ms')).toBeUndefined();
    for (const bad of ['0', '-3', 'abc', '', 'Infinity']) {
      expect(() => positiveArg('critical-rate', bad, 'req/s')).toThrow(`--critical-rate must be a positive number (req/s), got ${bad}`);
    }
  });
});

describe('bench:adaptive: how firm a verdict is (verdictFirmness)', () => {
  const target = 25;
  const run = (rep: number, kind: string, t: Trial) => ({ rep, kind, trial: t });
  const statics = ['static'];
  /** 4 reps; the lane's rep 4 had 3 of its 100 critical answers over the target. */
  const runs: Comparison['runs'] = [1, 2, 3, 4].flatMap((rep) => [
    run(rep, 'static', trial(2, 600, ms(100, 20), target)),
    run(rep, 'adaptive', trial(undefined, 600, rep === 4 ? [...ms(97, 22), ...ms(3, 40)] : ms(100, 22), target)),
  ]);
  it('is the share of the resamples of the reps (with replacement) in which the criterion is met', () => {
    // As run: 3 slow answers of 400 are under 1 %: met.
    expect(judge(runs, statics, 'adaptive', target).met).toBe(true);
    // Rep 4 drawn twice or more (6 slow of 400) misses: 1 - (3/4)^4 - 4 (1/4) (3/4)^3 = 67/256 of the draws.
    expect(verdictFirmness(runs, statics, 'adaptive', target)).toEqual({ met: 189 / 256, draws: 256 });
  });
  it('is 1 or 0 when no rep decides, and refuses what it cannot enumerate', () => {
    const calm = runs.filter((r) => r.rep !== 4);
    expect(verdictFirmness(calm, statics, 'adaptive', target)).toEqual({ met: 1, draws: 27 });
    const starved = calm.map((r) => (r.kind === 'adaptive' ? run(r.rep, r.kind, trial(undefined, 500, ms(100, 22), target)) : r));
    expect(verdictFirmness(starved, statics, 'adaptive', target).met).toBe(0);
    expect(() => verdictFirmness([], statics, 'adaptive', target)).toThrow(/no runs/);
    const many = Array.from({ length: 9 }, (_, k) => runs.map((r) => ({ ...r, rep: r.rep + 4 * k }))).flat();
    expect(() => verdictFirmness(many, statics, 'adaptive', target)).toThrow(/more than the 6/);
  });
});

describe('bench:firmness: the criterion\'s noise floor (twinVerdicts)', () => {
  const target = 25;
  const run = (rep: number, kind: string, t: Trial) => ({ rep, kind, trial: t });
  const statics = ['static', 'static cap 1'];
  it('finds the yardstick in one half of the reps and judges its twin and the lane in the other, over every split', () => {
    // The pick (cap 2) served 600 but held the target only in reps 1-2; cap 1 held throughout with
    // 400. The lane served 560 in reps 1-2 and 380 in reps 3-4, always within the target.
    const runs: Comparison['runs'] = [1, 2, 3, 4].flatMap((rep) => [
      run(rep, 'static', trial(2, 600, ms(100, rep <= 2 ? 20 : 30), target)),
      run(rep, 'static cap 1', trial(1, 400, ms(100, 18), target)),
      run(rep, 'adaptive', trial(undefined, rep <= 2 ? 560 : 380, ms(100, 22), target)),
    ]);
    const t = twinVerdicts(runs, statics, 'adaptive', target);
    // 6 ordered splits of 4 reps into halves of 2.
    expect(t.splits).toBe(6);
    // First half {1,2}: the pick (600) is the yardstick; its twin in {3,4} misses the target, the
    // lane serves 380 < 540. First half {3,4}: cap 1 (400); its twin in {1,2} meets, and so does
    // the lane (560). Mixed halves ({1,3}, {1,4}, {2,3}, {2,4}): the pick missed (one rep over 1 %),
    // so cap 1; its twin meets, the lane (470) meets.
    // Tune's pick meets in the second half only where it held the target there: {1,2} (600 against
    // cap 1's 400).
    expect(t).toEqual({ twin: 5, pick: 1, lane: 5, splits: 6 });
    // A lane that serves too little everywhere meets in no split, while the twin still does.
    const starved = runs.map((r) => (r.kind === 'adaptive' ? run(r.rep, r.kind, trial(undefined, 300, ms(100, 22), target)) : r));
    expect(twinVerdicts(starved, statics, 'adaptive', target)).toEqual({ twin: 5, pick: 1, lane: 0, splits: 6 });
  });
  it('takes halves of floor(n/2) reps, refuses what it cannot split or enumerate, and sums up', () => {
    const three: Comparison['runs'] = [1, 2, 3].flatMap((rep) => [run(rep, 'static', trial(2, 600, ms(100, 20), target)), run(rep, 'adaptive', trial(undefined, 600, ms(100, 20), target))]);
    expect(twinVerdicts(three, ['static'], 'adaptive', target)).toEqual({ twin: 6, pick: 6, lane: 6, splits: 6 });
    expect(() => twinVerdicts(three.filter((r) => r.rep === 1), ['static'], 'adaptive', target)).toThrow(/at least 2 reps, got 1/);
    const many = Array.from({ length: 7 }, (_, k) => three.map((r) => ({ ...r, rep: r.rep + 3 * k }))).flat();
    expect(() => twinVerdicts(many, ['static'], 'adaptive', target)).toThrow(/more than the 6/);
    expect(twinSummary([{ twin: 6, pick: 0, lane: 3, splits: 6 }, { twin: 3, pick: 3, lane: 3, splits: 6 }])).toBe(
      'Over 2 reports, split into halves: the yardstick\'s twin met the criterion in 75 % of the splits, tune\'s pick in 25 %, the adaptive lane in 50 %; the lane met it at least as often as the twin in 1 of 2; the lane minus the twin -25.0 ± 49.0 points, minus tune\'s pick +25.0 ± 49.0 (per report, mean ± 1.96 standard errors).',
    );
    expect(twinSummary([], 'reports with a stated target')).toBe('No reports with a stated target had the reps to split.');
    // A target is tune's rule when it is 1.5x the idle critical p99 (as recorded, to the hundredth); otherwise it was stated.
    const c = (targetP99Ms: number, idleCriticalP99Ms: number) => ({ tune: { targetP99Ms, idleCriticalP99Ms } }) as unknown as Comparison;
    expect(statedTarget(c(20.59, 13.727))).toBe(false);
    expect(statedTarget(c(40, 14.97))).toBe(true);
  });
});

describe('bench:headroom: tune\'s figures against the comparison\'s, and the recommended setting there', () => {
  const target = 25;
  // tune: cap 3 met at 24 ms (re-measured: 23.5), cap 2 at 19 ms, cap 1 at 15 ms; the comparison ran cap 3 (the pick) and cap 1 (the fallback).
  const sweep = [trial(3, 700, ms(100, 24), target), trial(2, 600, ms(100, 19), target), trial(1, 400, ms(100, 15), target)];
  const pick = pooledTrial([sweep[0]!, trial(3, 700, ms(100, 23), target)], target);
  const comparison = (pickThere: Trial, fallbackThere: Trial) => ({
    tune: { targetP99Ms: target, best: pick, confirmed: [pick], trials: sweep },
    staticPooled: pickThere,
    fallback: { setting: fallbackThere.setting, mean: { goodput: fallbackThere.normalServed, criticalP99Ms: fallbackThere.criticalP99Ms }, pooled: fallbackThere },
  }) as unknown as Comparison;
  const c = comparison(trial(3, 650, ms(100, 30), target), trial(1, 380, ms(100, 20), target));
  it('pairs each static contender with tune\'s figure for the same setting (pooled where re-measured)', () => {
    const pairs = tuneVsComparison(c);
    expect(pairs.map((p) => p.kind)).toEqual(['pick', 'fallback']);
    expect(pairs[0]).toMatchObject({ tuneP99Ms: pick.criticalP99Ms, comparisonP99Ms: 30, tuneGoodput: 700, comparisonGoodput: 650 });
    expect(pairs[1]).toMatchObject({ tuneP99Ms: 15, comparisonP99Ms: 20 });
  });
  it('finds the recommended setting among the comparison\'s contenders, by setting, else by cap, else not run', () => {
    // Headroom 1: the pick, which missed there.
    expect(headroomOutcome(c, 1)).toMatchObject({ measured: 'setting', held: false, p99Ms: 30, vsBestHeld: 650 / 380 });
    // 0.8 (20 ms): cap 2, which the comparison did not run.
    expect(headroomOutcome(c, 0.8)).toMatchObject({ measured: 'no', withHeadroom: true });
    // 0.7 (17.5 ms): cap 1, run there as the fallback, which held and is the best that held.
    expect(headroomOutcome(c, 0.7)).toMatchObject({ measured: 'setting', held: true, vsBestHeld: 1 });
    // The comparison ran another cap-1 setting (another queue bound): matched by its cap.
    const other = trial(1, 380, ms(100, 20), target);
    const otherQueue = { ...other, setting: { ...other.setting, lanes: { critical: { reserved: 1 }, normal: { maxQueue: 1000, maxConcurrency: 1 } } } };
    expect(headroomOutcome(comparison(trial(3, 650, ms(100, 30), target), otherQueue), 0.7)).toMatchObject({ measured: 'cap', held: true });
    // Nothing held: no ratio.
    expect(headroomOutcome(comparison(trial(3, 650, ms(100, 30), target), trial(1, 380, ms(100, 26), target)), 0.7).vsBestHeld).toBeUndefined();
  });
});
