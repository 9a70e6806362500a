/**
 * Event-loop delay of the current thread. perf_hooks' histogram records whole timer intervals
 * (an idle loop with resolution 10 ms reads ~10 ms), so the resolution is subtracted to report
 * the delay itself.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

type IntervalHistogram = ReturnType<typeof monitorEventLoopDelay>;

export class EventLoopMonitor {
  readonly resolutionMs: number;
  #h: IntervalHistogram;

  constructor(resolutionMs = 5) {
    this.resolutionMs = resolutionMs;
    this.#h = monitorEventLoopDelay({ resolution: resolutionMs });
  }
  enable(): this {
    this.#h.enable();
    return this;
  }
  disable(): void {
    this.#h.disable();
  }
  reset(): void {
    this.#h.reset();
  }
  #delayUs(ns: number): number {
    if (!Number.isFinite(ns) || this.#h.count === 0) return 0;
    return Math.max(0, Math.round(ns / 1000 - this.resolutionMs * 1000));
  }
  percentileUs(p: number): number {
    return this.#delayUs(this.#h.percentile(p));
  }
  maxUs(): number {
    return this.#delayUs(this.#h.max);
  }
}
