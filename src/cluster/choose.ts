/**
 * Which node takes the next request: power of two choices over measured load (Mitzenmacher;
 * Finagle's and Envoy's least-request balancer). Two distinct candidates are drawn at random and
 * the one with the lower cost wins, cost = (requests outstanding + 1) x latency EWMA. Two random
 * draws avoid the herd that "always the least loaded" causes when every worker sees the same
 * figures, and the latency term moves load away from a node that is slow, not only from one
 * that is busy. Failures are not a cost term: a node penalised for one failure would get no
 * traffic to prove itself again (with three nodes P2C never picks the dearest), so it would be
 * ejected without the ejection's bound and probe. Failures go to the OutlierDetector instead.
 *
 * Pure: the candidates and the random source are given; test/unit/cluster-choose.test.ts.
 */

export interface NodeLoad {
  /** Index of the node in the caller's list. */
  index: number;
  /** Requests holding or waiting for a connection of this node now. */
  outstanding: number;
  /** Smoothed latency of its requests, ms; undefined before the first one. */
  latencyEwmaMs: number | undefined;
}

/** Weight of a new latency sample in the EWMA. */
export const EWMA_ALPHA = 0.2;

export function updateEwma(previous: number | undefined, sampleMs: number, alpha = EWMA_ALPHA): number {
  return previous === undefined ? sampleMs : previous + alpha * (sampleMs - previous);
}

/** The cost P2C compares (lower wins). A node without a latency yet gets the lowest known one (it is tried). */
export function costOf(load: NodeLoad, fallbackLatencyMs: number): number {
  const latency = Math.max(load.latencyEwmaMs ?? fallbackLatencyMs, 0.001);
  return (load.outstanding + 1) * latency;
}

/**
 * Pick one of `candidates` (non-empty): its `index`. `random()` is uniform in [0, 1).
 * Returns undefined for an empty list.
 */
export function chooseNode(candidates: readonly NodeLoad[], random: () => number): number | undefined {
  if (candidates.length === 0) return undefined;
  if (candidates.length === 1) return candidates[0]!.index;
  const known = candidates.map((c) => c.latencyEwmaMs).filter((x): x is number => x !== undefined);
  const fallback = known.length > 0 ? Math.min(...known) : 1;
  const i = Math.floor(random() * candidates.length);
  // The second draw skips the first: two distinct candidates.
  let j = Math.floor(random() * (candidates.length - 1));
  if (j >= i) j++;
  const a = candidates[i]!;
  const b = candidates[j]!;
  return costOf(b, fallback) < costOf(a, fallback) ? b.index : a.index;
}
