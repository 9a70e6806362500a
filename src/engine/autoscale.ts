/**
 * The note's dynamic sizing ("automatic scaling by load"): every interval, the share of slots
 * in use (averaged over one-second samples; any queued work counts as full use) decides whether
 * the engine's maxConnections grows (above `high`: +2) or shrinks (below `low`: -1), within
 * [floor, ceiling]. Opt-in, as in the note. A pure decision, so it is testable without time.
 */
export interface AutoscaleConfig {
  /** Lowest max it may set. @default 5 */
  floor: number;
  /** Highest max it may set. @default 20 */
  ceiling: number;
  /** Grow above this utilisation. @default 0.8 */
  high: number;
  /** Shrink below this utilisation. @default 0.2 */
  low: number;
  /** Decision interval. @default 5_000 */
  intervalMs: number;
}

export const AUTOSCALE_DEFAULTS: Readonly<AutoscaleConfig> = Object.freeze({ floor: 5, ceiling: 20, high: 0.8, low: 0.2, intervalMs: 5_000 });

export function nextMax(current: number, utilization: number, c: AutoscaleConfig): number {
  if (utilization >= c.high) return Math.min(c.ceiling, Math.max(c.floor, current + 2));
  if (utilization <= c.low) return Math.max(c.floor, Math.min(c.ceiling, current - 1));
  return Math.min(c.ceiling, Math.max(c.floor, current));
}

/** One sample: in-flight share of the slots; work waiting in a queue means the slots are all taken. */
export function utilizationSample(inFlight: number, queued: number, slots: number): number {
  if (queued > 0) return 1;
  return slots > 0 ? Math.min(1, inFlight / slots) : 0;
}
