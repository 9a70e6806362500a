/**
 * Measured cost per kind of work, for cost-aware lanes (`costAwareLanes`): each kind (`query:
 * hybrid`, `query:bm25`, `task:<name>`, ...) keeps an exponential average of the time its
 * requests hold a slot; its cost is that average over the mean of all kinds' averages, so the
 * average kind costs 1. The lane scheduler advances a lane's stride pass by cost / weight
 * instead of 1 / weight (src/engine/lanes.ts), so lanes share the server's time, not its request
 * count: a lane of hybrids (several bm25s each here, docs/NOTES) cannot take more than its share
 * by sending expensive requests. Unknown kinds cost 1 until measured.
 */
export const COST_ALPHA = 0.1;
const MIN_COST = 0.05;
const MAX_COST = 20;

export class CostModel {
  readonly #avgMs = new Map<string, number>();
  readonly #alpha: number;

  constructor(alpha = COST_ALPHA) {
    this.#alpha = alpha;
  }

  /** One finished request of `kind` that held its slot `ms`. */
  observe(kind: string, ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const prev = this.#avgMs.get(kind);
    this.#avgMs.set(kind, prev === undefined ? ms : prev + (ms - prev) * this.#alpha);
  }

  /** Relative cost of `kind` (mean over kinds = 1), clamped to [0.05, 20]. */
  cost(kind: string | undefined): number {
    if (kind === undefined) return 1;
    const own = this.#avgMs.get(kind);
    if (own === undefined || this.#avgMs.size < 2) return 1;
    let sum = 0;
    for (const v of this.#avgMs.values()) sum += v;
    const mean = sum / this.#avgMs.size;
    if (mean <= 0) return 1;
    return Math.min(MAX_COST, Math.max(MIN_COST, own / mean));
  }

  /** For stats: each kind's average slot time, ms, and its relative cost. */
  snapshot(): Record<string, { avg_ms: number; cost: number }> {
    const out: Record<string, { avg_ms: number; cost: number }> = {};
    for (const [kind, avg] of this.#avgMs) out[kind] = { avg_ms: Math.round(avg * 1000) / 1000, cost: Math.round(this.cost(kind) * 1000) / 1000 };
    return out;
  }
}
