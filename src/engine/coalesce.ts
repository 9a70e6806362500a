/**
 * Coalescing of identical in-flight reads (opt-in per lane: `coalesce: true`, env `coalesce=1`):
 * a read whose spec equals one already in flight on the same lane does not go to Weaviate again;
 * it waits for that one's answer and gets its own copy. Same spec means the same JSON after key
 * sorting (kind, collection, query, vector, filters, limit, consistency, tenant, ...), so reads
 * that differ in anything Weaviate sees are never joined.
 *
 * Each joined caller keeps its own deadline and signal: it is answered with its own
 * DeadlineExceededError or AbortError when they fire first. When the first caller's request
 * ends by that caller's own deadline, abort or a shutdown, the joined callers that still have
 * time are not failed with someone else's error: they run the read themselves (one of them
 * leads, the others join it again).
 */
import type { Clock, TimerHandle } from '../clock.ts';
import { AbortError, DeadlineExceededError, isExecutorError } from '../errors.ts';

export interface JoinOptions {
  /** Absolute deadline on the clock, ms. */
  deadlineAt: number;
  signal?: AbortSignal | undefined;
}

/** Stable JSON: object keys sorted, so `{a, b}` and `{b, a}` are one key. */
export function coalesceKey(lane: string, spec: unknown): string {
  return `${lane}\u0000${JSON.stringify(spec, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  )}`;
}

/** The first caller's own ending (not an answer about the read): joined callers retry. */
function endedByLeader(error: unknown): boolean {
  return isExecutorError(error) && (error.code === AbortError.code || error.code === DeadlineExceededError.code || error.code === 'WEX_SHUTDOWN');
}

export class Coalescer {
  readonly #clock: Clock;
  readonly #inFlight = new Map<string, Promise<unknown>>();
  readonly #hits = new Map<string, number>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Reads answered by joining another caller's read, per lane. */
  hits(lane: string): number {
    return this.#hits.get(lane) ?? 0;
  }

  /** Reads in flight that others may join now. */
  get size(): number {
    return this.#inFlight.size;
  }

  /**
   * Run `start()` unless an identical read is in flight; then wait for that one (bounded by
   * this caller's deadline and signal) and answer with a copy of its result.
   */
  async run<T>(lane: string, key: string, start: () => Promise<T>, own: JoinOptions): Promise<T> {
    for (;;) {
      const existing = this.#inFlight.get(key) as Promise<T> | undefined;
      if (!existing) {
        const p = start();
        this.#inFlight.set(key, p);
        const forget = () => {
          if (this.#inFlight.get(key) === p) this.#inFlight.delete(key);
        };
        p.then(forget, forget);
        return p;
      }
      this.#hits.set(lane, this.hits(lane) + 1);
      const outcome = await this.#wait(existing, own);
      if (outcome.ok) return structuredClone(outcome.value);
      if (!endedByLeader(outcome.error)) throw outcome.error;
      // The leader's own deadline/abort/shutdown: this caller still has time, so it runs (or joins) anew.
    }
  }

  /** The leader's outcome, or this caller's own deadline/abort (thrown). */
  #wait<T>(existing: Promise<T>, own: JoinOptions): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    const settled = existing.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.#clock.clearTimeout(timer);
        own.signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = () => {
        cleanup();
        const reason = own.signal!.reason instanceof Error ? own.signal!.reason.message : String(own.signal!.reason ?? 'aborted');
        reject(new AbortError(`Aborted by the caller while waiting for an identical read in flight: ${reason}`, { reason, phase: 'coalesced' }));
      };
      const timer: TimerHandle = this.#clock.setTimeout(() => {
        cleanup();
        reject(new DeadlineExceededError(`Deadline passed while waiting for an identical read in flight`, { phase: 'coalesced' }));
      }, Math.max(0, own.deadlineAt - this.#clock.now()));
      if (own.signal?.aborted) return onAbort();
      own.signal?.addEventListener('abort', onAbort, { once: true });
      void settled.then((outcome) => {
        cleanup();
        resolve(outcome);
      });
    });
  }
}
