import type { Clock, TimerHandle } from '../../src/clock.ts';

interface Timer extends TimerHandle {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** Let pending promise callbacks run (several turns, for chains of awaits). */
export async function flush(turns = 10): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/**
 * A manual clock: time moves only in advance(); due timers run in order of due time, and
 * promise callbacks settle between them. Random numbers come from a fixed sequence.
 */
export class FakeClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: Timer[] = [];
  #random: () => number;

  constructor(random: () => number = () => 0.5) {
    this.#random = random;
  }
  now(): number {
    return this.#now;
  }
  random(): number {
    return this.#random();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false, unref() {} };
    this.#timers.push(timer);
    return timer;
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle) (handle as Timer).cancelled = true;
  }
  /** Timers not yet fired nor cancelled. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flush();
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      const next = this.#timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.#now = next.at;
      next.fn();
      await flush();
    }
    this.#now = target;
    await flush();
  }
}
