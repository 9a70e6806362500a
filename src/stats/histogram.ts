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

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, mean_us: 0, p50_us: 0, p90_us: 0, p99_us: 0, p999_us: 0, max_us: 0 };
  return {
    count: h.totalCount,
    mean_us: Math.round(h.mean),
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
