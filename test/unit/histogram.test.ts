import { describe, expect, it } from 'vitest';
import { prng } from '../../src/data/sample.ts';
import { encode, merge, newHistogram, recordMs, summarize } from '../../src/stats/histogram.ts';

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

  it('summaries of an empty histogram are zeros', () => {
    expect(summarize(newHistogram())).toEqual({ count: 0, mean_us: 0, p50_us: 0, p90_us: 0, p99_us: 0, p999_us: 0, max_us: 0 });
  });
});
