/**
 * Measured cost per kind of work, for cost-aware lanes (`costAwareLanes`): each kind (`query:
 * hybrid`, `query:bm25`, `task:<name>`, ...) keeps an exponential average of the time its
 * requests hold a slot; its cost is that average over the mean of all kinds' averages, so the
 * average kind costs 1. The lane scheduler advances a lane's stride pass by cost / weight
 * instead of 1 / weight (src/engine/lanes.ts), so lanes share the server's time, not its request
 * count: a lane of hybrids (several bm25s each here, docs/NOTES) cannot take more than its share
 * by sending expensive requests. Unknown kinds cost 1 until measured.
 *
 * The cost is charged from the MINIMUM slot time of the kind's last 64 requests, not from the
 * average: under saturation a slot time is mostly waiting (in the worker, on the stream, in
 * Weaviate's run queue), the same wait for every kind, so averages come out alike. Measured
 * (bench/adaptive.ts, 8 slots saturated by a hybrid lane and a bm25 lane): averages 26.8 vs
 * 25.9 ms, while a hybrid costs ~5x a bm25 in server CPU (docs/NOTES). The windowed minimum is
 * the estimator of the no-queueing time that TCP Vegas and BBR use for min RTT.
 */
export const COST_ALPHA = 0.1;
/** Requests per kind over which the minimum slot time is taken. */
export const COST_WINDOW = 64;
const MIN_COST = 0.05;
const MAX_COST = 20;

export class CostModel {
  readonly #avgMs = new Map<string, number>();
  /** Per kind: its last COST_WINDOW slot times (a ring) and their minimum. */
  readonly #recent = new Map<string, { ring: number[]; next: number; min: number }>();
  readonly #alpha: number;

  constructor(alpha = COST_ALPHA) {
    this.#alpha = alpha;
  }

  /** One finished request of `kind` that held its slot `ms`. */
  observe(kind: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const prev = this.#avgMs.get(kind);
    this.#avgMs.set(kind, prev === undefined ? ms : prev + (ms - prev) * this.#alpha);
    let r = this.#recent.get(kind);
    if (!r) this.#recent.set(kind, (r = { ring: [], next: 0, min: ms }));
    const dropped = r.ring.length < COST_WINDOW ? undefined : r.ring[r.next];
    if (r.ring.length < COST_WINDOW) r.ring.push(ms);
    else r.ring[r.next] = ms;
    r.next = (r.next + 1) % COST_WINDOW;
    if (ms <= r.min) r.min = ms;
    else if (dropped !== undefined && dropped <= r.min) r.min = Math.min(...r.ring);
  }

  /** The kind's minimum slot time over its last COST_WINDOW requests, ms. */
  #base(kind: string): number | undefined {
    return this.#recent.get(kind)?.min;
  }

  /** Relative cost of `kind` (mean over kinds = 1), clamped to [0.05, 20]. */
  cost(kind: string | undefined): number {
    if (kind === undefined) return 1;
    const own = this.#base(kind);
    if (own === undefined || this.#recent.size < 2) return 1;
    let sum = 0;
    for (const r of this.#recent.values()) sum += r.min;
    const mean = sum / this.#recent.size;
    if (mean <= 0) return 1;
    return Math.min(MAX_COST, Math.max(MIN_COST, own / mean));
  }

  /** For stats: each kind's average and minimum (last 64) slot time, ms, and its relative cost. */
  snapshot(): Record<string, { avg_ms: number; min_ms: number; cost: number }> {
    const out: Record<string, { avg_ms: number; min_ms: number; cost: number }> = {};
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    for (const [kind, avg] of this.#avgMs) out[kind] = { avg_ms: r3(avg), min_ms: r3(this.#base(kind) ?? avg), cost: r3(this.cost(kind)) };
    return out;
  }
}
