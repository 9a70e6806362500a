/**
 * Latency histograms: HDR (hdr-histogram-js, plain JS, no WebAssembly so nothing needs
 * destroy()), microseconds, 3 significant digits, up to one hour. Workers send theirs encoded
 * (compressed base64); the main thread decodes and adds them. Snapshots copy, so reading stats
 * never blocks or disturbs recording.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

export const HIGHEST_TRACKABLE_US = 3_600_000_000; // one hour
const SIGNIFICANT_DIGITS = 3;

export interface LatencySummary {
  count: number;
  mean_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
}

export function newHistogram(): Histogram {
  return build({
    bitBucketSize: 64,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_TRACKABLE_US,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    useWebAssembly: false,
  });
}

/** Record a duration given in milliseconds (fractional) as whole microseconds, clamped to range. */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(Math.min(HIGHEST_TRACKABLE_US, Math.max(0, us)));
}

/** The plain-JS histogram's (useWebAssembly: false; a Float64Histogram for bitBucketSize 64) buckets. */
interface Buckets {
  readonly _counts: Float64Array;
  readonly subBucketHalfCount: number;
  readonly unitMagnitude: number;
  countsArrayIndex(value: number): number;
}

/**
 * The mean, µs: the figure of the library's `h.mean` (each count at its bucket's median-equivalent
 * value), in one loop over the counts up to the highest recorded bucket. `h.mean` walks them with
 * an iterator object per recorded value: 2.2-2.4 ms per call on these histograms (23,552 buckets),
 * measured, on the main thread; the lanes' stats summarize two histograms per lane, and a bench
 * trace reading them every 100 ms blocked the event loop ~10 ms in every 100 (2026-11-26).
 * Within a bucket every index has the same width, so the loop sums count and count x sub-bucket
 * per bucket and multiplies once: with a per-index valueFromIndex (a division, a modulo and a
 * power of two each) it took 0.12-0.17 ms, most of a summary's 0.15, now 0.017-0.027 ms (50,000
 * values of 1-540 ms, 2026-11-26 23:15Z, on this 2-core machine under load); a bench trace
 * summarizes four to six histograms every 100 ms.
 * The sums stay integers below 2^53 for any histogram a process records, so the result is exact.
 * test/unit/histogram.test.ts checks it against `h.mean` (and so that the fields read here exist).
 */
export function meanOf(h: Histogram): number {
  if (h.totalCount === 0) return 0;
  const b = h as unknown as Buckets;
  const counts = b._counts;
  const half = b.subBucketHalfCount;
  const end = Math.min(counts.length - 1, b.countsArrayIndex(h.maxValue)) + 1;
  let total = 0;
  // Bucket 0 spans indexes 0 .. 2 x half - 1 (the library's valueFromIndex: sub-bucket = index);
  // bucket k >= 1 spans the next `half` indexes, sub-buckets half .. 2 x half - 1.
  let i = 0;
  for (let bucket = 0; i < end; bucket++) {
    const size = 2 ** (bucket + b.unitMagnitude);
    const stop = Math.min(end, bucket === 0 ? 2 * half : i + half);
    let n = 0;
    let weighted = 0;
    for (let sub = bucket === 0 ? 0 : half; i < stop; i++, sub++) {
      const count = counts[i]!;
      if (count === 0) continue;
      n += count;
      weighted += count * sub;
    }
    total += weighted * size + Math.floor(size / 2) * n;
  }
  return total / h.totalCount;
}

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, mean_us: 0, p50_us: 0, p90_us: 0, p99_us: 0, p999_us: 0, max_us: 0 };
  return {
    count: h.totalCount,
    mean_us: Math.round(meanOf(h)),
    p50_us: h.getValueAtPercentile(50),
    p90_us: h.getValueAtPercentile(90),
    p99_us: h.getValueAtPercentile(99),
    p999_us: h.getValueAtPercentile(99.9),
    max_us: h.maxValue,
  };
}

export function encode(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decode(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded, 64, false);
}

/** A new histogram holding the sum of all given ones (encoded or not). */
export function merge(parts: readonly (Histogram | string)[]): Histogram {
  const out = newHistogram();
  for (const part of parts) out.add(typeof part === 'string' ? decode(part) : part);
  return out;
}
