/**
 * Time and chance, injected (as HdrHistogramJS's Recorder does with its clock) so that lifetimes,
 * health intervals, time-outs and jitter are testable with a manual clock instead of waiting.
 */
export interface TimerHandle {
  unref?(): unknown;
}

export interface Clock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  /** Uniform in [0, 1), for jitter. */
  random(): number;
}

export const systemClock: Clock = Object.freeze({
  now: () => performance.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (handle: TimerHandle | undefined) => clearTimeout(handle as NodeJS.Timeout | undefined),
  random: () => Math.random(),
});

/** A timer that does not keep the process alive (maintenance, not work somebody waits for). */
export function backgroundTimer(clock: Clock, fn: () => void, ms: number): TimerHandle {
  const handle = clock.setTimeout(fn, ms);
  handle.unref?.();
  return handle;
}
