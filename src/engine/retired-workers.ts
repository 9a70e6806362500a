/**
 * What workers that are gone leave behind: ONE accumulated entry (counters summed, histograms
 * merged), so engine totals never go backwards after a crash, while the memory and the cost of
 * every stats() call stay the same however many workers died.
 */
import type { Histogram } from 'hdr-histogram-js';
import type { PoolStats } from '../pool/types.ts';
import { encode, merge, newHistogram } from '../stats/histogram.ts';
import type { WorkerStats } from './protocol.ts';

export class RetiredWorkers {
  #count = 0;
  #completed = 0;
  #failed = 0;
  #transportRetries = 0;
  #retriesRefused = 0;
  #unhandledRejections = 0;
  #created = 0;
  #healthCheckFailures = 0;
  /** The shape of a pool's stats (the last one seen), for the accumulated entry. */
  #poolShape: PoolStats | undefined;
  #acquireWait: Histogram = newHistogram();
  #execution: Histogram = newHistogram();
  /** Encoded histograms, rebuilt only after a fold. */
  #encoded: { acquireWait: string; execution: string } | undefined;

  /** Workers folded in so far. */
  get count(): number {
    return this.#count;
  }

  /** Add the last figures of a worker that is gone (its sockets died with it). */
  fold(last: WorkerStats): void {
    this.#count++;
    this.#completed += last.completed;
    this.#failed += last.failed;
    this.#transportRetries += last.transportRetries;
    this.#retriesRefused += last.retriesRefused;
    this.#unhandledRejections += last.unhandledRejections ?? 0;
    this.#created += last.pool?.total_connections_created ?? 0;
    this.#healthCheckFailures += last.pool?.health_check_failures ?? 0;
    this.#poolShape = last.pool ?? this.#poolShape;
    if (last.acquireWait) this.#acquireWait = merge([this.#acquireWait, last.acquireWait]);
    if (last.execution) this.#execution = merge([this.#execution, last.execution]);
    this.#encoded = undefined;
  }

  /** The one entry standing for every retired worker, or undefined when none died. */
  entry(): WorkerStats | undefined {
    const template = this.#poolShape;
    if (this.#count === 0) return undefined;
    this.#encoded ??= { acquireWait: encode(this.#acquireWait), execution: encode(this.#execution) };
    return {
      threadId: -1,
      index: -1,
      ready: false,
      inFlight: 0,
      overdue: 0,
      completed: this.#completed,
      failed: this.#failed,
      transportRetries: this.#transportRetries,
      retriesRefused: this.#retriesRefused,
      unhandledRejections: this.#unhandledRejections,
      eventLoopDelayP99Us: 0,
      eventLoopDelayMaxUs: 0,
      ...this.#encoded,
      // Every connection a retired worker created is closed now.
      pool: template && {
        ...template,
        total_connections: 0, current_active: 0, current_idle: 0, available_connections: 0, active_leases: 0, waiting: 0, pending_creates: 0,
        total_connections_created: this.#created,
        total_connections_closed: this.#created,
        health_check_failures: this.#healthCheckFailures,
      },
    };
  }
}
