/**
 * Capped exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And
 * Jitter"): delay = random(0, min(cap, base * 2^attempt)). Full jitter spreads the reconnects
 * of many workers after a shared outage instead of having them hit the server in step.
 */
export class Backoff {
  #attempt = 0;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly #random: () => number;

  constructor(baseMs: number, maxMs: number, random: () => number) {
    this.baseMs = baseMs;
    this.maxMs = maxMs;
    this.#random = random;
  }

  /** The next delay; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(this.#random() * ceiling);
  }

  get failures(): number {
    return this.#attempt;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
