/**
 * Hedged reads (The Tail at Scale, Dean & Barroso 2013), opt-in per lane, for several nodes:
 * when a read has not answered after its lane's measured p95, a second copy goes to another
 * node; the first answer wins and the other copy is cancelled (its gRPC call aborted, its lease
 * returned). A budget keeps the extra load at most `maxExtraPercent` of the reads (Dean &
 * Barroso: hedging after the p95 adds ~5 %). Only idempotent reads are hedged, never writes.
 *
 * Per worker thread (module state is per thread): each worker measures its own lanes' p95 from
 * the reads it ran (at least MIN_SAMPLES before any hedge), and keeps its own budget.
 * The second copy avoids the first copy's node through `hedgeScope` (an AsyncLocalStorage store
 * that src/cluster/multi-pool.ts reads when it picks a node). With per-node adaptive limits
 * (`nodeAdaptive`), a hedge is sent only when a node other than the first copy's is below its
 * limit (`admit`): a hedge that would wait for a node slot adds load where there is no room, so it
 * is skipped and counted (`hedges_skipped_node_limit`), without using the budget.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { AbortError } from '../errors.ts';
import { newHistogram, recordMs } from '../stats/histogram.ts';
import type { TaskMessage } from '../engine/protocol.ts';
import type { ConnectionSource } from '../pool/types.ts';
import { isReadSpec } from '../query/spec.ts';

export interface HedgeConfig {
  /** Lanes whose reads are hedged. @default [] (off) */
  lanes: readonly string[];
  /** Hedges at most this share of the hedged lanes' reads. @default 5 */
  maxExtraPercent: number;
  /** Never hedge earlier than this, whatever the p95. @default 2 */
  minDelayMs: number;
}

export const HEDGE_DEFAULTS: Readonly<HedgeConfig> = Object.freeze({ lanes: [], maxExtraPercent: 5, minDelayMs: 2 });

/** Reads a lane must have run before its p95 is trusted. */
export const MIN_SAMPLES = 20;

/** The nodes the copies of one hedged read use (the second avoids the first's). */
export interface HedgeScope {
  used: Set<number>;
}
const scopes = new AsyncLocalStorage<HedgeScope>();

/** The current read's hedge scope, if any (for the node choice). */
export function hedgeScope(): HedgeScope | undefined {
  return scopes.getStore();
}

/** At most `percent` % extra requests: a hedge is allowed while hedges < reads x percent / 100. Pure. */
export class HedgeBudget {
  reads = 0;
  hedges = 0;
  refused = 0;
  readonly #percent: number;
  constructor(percent: number) {
    this.#percent = percent;
  }
  onRead(): void {
    this.reads++;
  }
  tryHedge(): boolean {
    if (this.hedges + 1 > (this.reads * this.#percent) / 100) {
      this.refused++;
      return false;
    }
    this.hedges++;
    return true;
  }
}

export interface HedgeStats {
  hedged_reads: number;
  hedges_started: number;
  /** The second copy answered first. */
  hedges_won: number;
  /** A hedge was due but the budget said no. */
  hedges_refused: number;
  /** A hedge was due but no other node was below its adaptive limit (`nodeAdaptive`): not sent. */
  hedges_skipped_node_limit: number;
}

export class Hedger {
  readonly #latency = new Map<string, Histogram>();
  #budget: HedgeBudget | undefined;
  wins = 0;
  skippedAtLimit = 0;

  /** The delay after which a read of `lane` is hedged, or undefined (too few samples). */
  delayFor(lane: string, config: Readonly<HedgeConfig>): number | undefined {
    const h = this.#latency.get(lane);
    if (!h || h.totalCount < MIN_SAMPLES) return undefined;
    return Math.max(config.minDelayMs, h.getValueAtPercentile(95) / 1000);
  }

  stats(): HedgeStats {
    const b = this.#budget;
    return { hedged_reads: b?.reads ?? 0, hedges_started: b?.hedges ?? 0, hedges_won: this.wins, hedges_refused: b?.refused ?? 0, hedges_skipped_node_limit: this.skippedAtLimit };
  }

  /**
   * Run `attempt` (one copy of the read, bounded by the signal it is given); after the lane's
   * p95, and if the budget allows, a second copy. First success wins; the other is aborted.
   * Fails only when every copy started failed (with the last error), or at once when the first
   * fails before a second was started. `admit(scope)`, when given, is asked when the hedge is due:
   * false skips it (no node for it now; src/cluster/multi-pool.ts `canHedge`).
   */
  run<T>(lane: string, config: Readonly<HedgeConfig>, parent: AbortSignal, attempt: (signal: AbortSignal) => Promise<T>, admit?: (scope: HedgeScope) => boolean): Promise<T> {
    this.#budget ??= new HedgeBudget(config.maxExtraPercent);
    const budget = this.#budget;
    budget.onRead();
    const delay = this.delayFor(lane, config);
    const scope: HedgeScope = { used: new Set() };
    return scopes.run(scope, () => new Promise<T>((resolve, reject) => {
      const copies: AbortController[] = [];
      let settled = false;
      let failed = 0;
      let timer: NodeJS.Timeout | undefined;
      const launch = (second: boolean) => {
        const own = new AbortController();
        copies.push(own);
        const started = performance.now();
        attempt(AbortSignal.any([parent, own.signal])).then(
          (value) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            recordMs(this.#histogram(lane), performance.now() - started);
            if (second) this.wins++;
            for (const c of copies) if (c !== own) c.abort(new AbortError('The other copy of a hedged read answered first', { reason: 'hedge lost' }));
            resolve(value);
          },
          (error: unknown) => {
            failed++;
            if (settled) return;
            // Every copy started has failed: fail now (a second copy not yet started never will be).
            if (failed === copies.length) {
              settled = true;
              clearTimeout(timer);
              reject(error);
            }
          },
        );
      };
      launch(false);
      if (delay !== undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          if (settled || parent.aborted) return;
          if (admit && !admit(scope)) {
            this.skippedAtLimit++;
            return;
          }
          if (budget.tryHedge()) launch(true);
        }, delay);
      }
    }));
  }

  #histogram(lane: string): Histogram {
    let h = this.#latency.get(lane);
    if (!h) this.#latency.set(lane, (h = newHistogram()));
    return h;
  }
}

/** This thread's hedger (the task runner's, read by the multi-pool for its stats). */
export const threadHedger = new Hedger();

/** Hedge this request? A query that reads, idempotent, in a hedged lane, over several nodes. */
export function isHedged(msg: TaskMessage, pool: ConnectionSource<unknown>): boolean {
  return pool.config.enabled && msg.kind === 'query' && msg.idempotent && isReadSpec(msg.spec) && pool.config.hedge.lanes.includes(msg.lane) && (pool.config.weaviate.nodes?.length ?? 0) > 1;
}
