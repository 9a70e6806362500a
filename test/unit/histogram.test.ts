import { describe, expect, it } from 'vitest';
import { prng } from '../../src/data/sample.ts';
import { encode, HIGHEST_TRACKABLE_US, meanOf, merge, newHistogram, recordMs, summarize } from '../../src/stats/histogram.ts';

describe('HDR histograms across threads', () => {
  it('a merge of encoded per-thread histograms equals one histogram of the same values (within HDR precision)', () => {
    const rand = prng(7);
    const single = newHistogram();
    const parts = [newHistogram(), newHistogram(), newHistogram(), newHistogram()];
    for (let i = 0; i < 50_000; i++) {
      // A long-tailed latency distribution, 0.05 ms to ~2 s.
      const ms = 0.05 + -Math.log(1 - rand()) * (i % 100 === 0 ? 400 : 4);
      recordMs(single, ms);
      recordMs(parts[i % parts.length]!, ms);
    }
    const merged = merge(parts.map(encode));
    const a = summarize(merged);
    const b = summarize(single);
    expect(a.count).toBe(b.count);
    for (const key of ['p50_us', 'p90_us', 'p99_us', 'p999_us', 'mean_us'] as const) {
      // 3 significant digits: relative error at most 0.1 %.
      expect(Math.abs(a[key] - b[key]) / b[key]).toBeLessThanOrEqual(0.001);
    }
    expect(Math.abs(a.max_us - b.max_us) / b.max_us).toBeLessThanOrEqual(0.001);
  });

  it('meanOf (one loop over the counts) gives the library\'s own mean exactly, from the first bucket to the last', () => {
    const rand = prng(11);
    const cases: number[][] = [
      [0],
      [0.001, 0.002, 1.5], // the first bucket (below 2,048 µs)
      [HIGHEST_TRACKABLE_US / 1000], // the highest trackable value
      Array.from({ length: 20_000 }, (_, i) => 0.05 + -Math.log(1 - rand()) * (i % 100 === 0 ? 400 : 4)),
      Array.from({ length: 5_000 }, () => rand() * 3_600_000),
    ];
    for (const values of cases) {
      const h = newHistogram();
      for (const ms of values) recordMs(h, ms);
      expect(meanOf(h)).toBe(h.mean);
      expect(summarize(h).mean_us).toBe(Math.round(h.mean));
    }
    expect(meanOf(newHistogram())).toBe(0);
    // A merged (decoded) histogram is the same kind of histogram.
    const parts = [newHistogram(), newHistogram()];
    for (let i = 0; i < 1000; i++) recordMs(parts[i % 2]!, rand() * 50);
    const merged = merge(parts.map(encode));
    expect(meanOf(merged)).toBe(merged.mean);
  });

  it('summaries of an empty histogram are zeros', () => {
    expect(summarize(newHistogram())).toEqual({ count: 0, mean_us: 0, p50_us: 0, p90_us: 0, p99_us: 0, p999_us: 0, max_us: 0 });
  });
});
