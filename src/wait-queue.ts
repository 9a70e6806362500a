/**
 * Callers waiting in arrival order, each bounded by a time-out and its abort signal: the shape the
 * connection pool's acquire (src/pool/pool.ts, waiting for a connection) and the multi-pool's node
 * slots (src/cluster/node-limit.ts, waiting for a node below its limit) share. What each waits for,
 * and who is served when, stays with its owner: this only keeps the queue and settles each waiter
 * exactly once.
 *
 * A waiter leaves the queue in exactly one of four ways, whichever comes first: its owner serves it
 * (`dequeue`, then resolve or reject), its time-out passes, its signal fires, or the owner fails everyone
 * (`rejectAll`, on close). Leaving clears its timer and abort listener, so the others find it gone
 * and do nothing: every wait settles once, and nothing of it is left behind.
 *
 * Pure: time comes from the injected clock; test/unit/wait-queue.test.ts.
 */
import type { Clock, TimerHandle } from './clock.ts';

export interface WaitQueueOptions<T> {
  /** Bound of the wait, ms (the timer is not a background one: a caller waits for it). */
  timeoutMs: number;
  /** Gives up when this fires: rejected with `onAbort(signal)`. An already aborted signal never enqueues. */
  signal?: AbortSignal | undefined;
  /** The time-out passed (the waiter has left the queue): an error to reject with, or a promise to follow (a fallback). */
  onTimeout: () => Error | Promise<T>;
  /** The error an abort rejects with. */
  onAbort: (signal: AbortSignal) => Error;
}

/** A waiter taken out of the queue by its owner, to be settled by it. */
export interface Dequeued<T, D> {
  data: D;
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

interface Entry<T, D> {
  data: D;
  resolve: (value: T | Promise<T>) => void;
  reject: (error: Error) => void;
  timer: TimerHandle | undefined;
  cleanup: () => void;
}

export class WaitQueue<T, D> {
  readonly #clock: Clock;
  #entries: Entry<T, D>[] = [];
  /** Waiters whose time-out passed while they were queued, since start. */
  timeouts = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The data of the waiter at `index` (0: the one waiting longest), or undefined. */
  at(index: number): D | undefined {
    return this.#entries[index]?.data;
  }

  /** Queue a waiter (at the back) carrying `data`; settles when it is served, times out, aborts or is failed. */
  wait(data: D, options: WaitQueueOptions<T>): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(options.onAbort(signal));
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        if (this.#remove(entry)) reject(options.onAbort(signal!));
      };
      const entry: Entry<T, D> = {
        data,
        resolve,
        reject,
        timer: undefined,
        cleanup: () => {
          this.#clock.clearTimeout(entry.timer);
          signal?.removeEventListener('abort', onAbort);
        },
      };
      entry.timer = this.#clock.setTimeout(() => {
        if (!this.#remove(entry)) return;
        this.timeouts++;
        const outcome = options.onTimeout();
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      }, Math.max(0, options.timeoutMs));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#entries.push(entry);
    });
  }

  /**
   * Take the waiter at `index` out of the queue to settle it (its timer and abort listener are
   * cleared first, so nothing else can): the caller must call `resolve` or `reject` on what it gets.
   */
  dequeue(index: number): Dequeued<T, D> | undefined {
    const entry = this.#take(index);
    return entry && { data: entry.data, resolve: entry.resolve, reject: entry.reject };
  }

  /** Fail every waiter (the owner closes). */
  rejectAll(error: Error): void {
    const entries = this.#entries;
    this.#entries = [];
    for (const e of entries) {
      e.cleanup();
      e.reject(error);
    }
  }

  #take(index: number): Entry<T, D> | undefined {
    const [entry] = this.#entries.splice(index, 1);
    entry?.cleanup();
    return entry;
  }

  #remove(entry: Entry<T, D>): boolean {
    const i = this.#entries.indexOf(entry);
    if (i < 0) return false;
    this.#take(i);
    return true;
  }
}
