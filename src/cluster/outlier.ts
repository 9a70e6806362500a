/**
 * Outlier ejection in the spirit of Envoy's outlier detection, as an explicit state machine per
 * node with an injected clock (pure: no timers, no I/O; test/unit/cluster-outlier.test.ts).
 *
 *   healthy --(consecutiveFailures transport failures in a row, and the ejected share allows)--> ejected
 *   healthy --(at an interval's end: its success rate an outlier, or its failure share too high)--> ejected
 *   healthy --(the cluster's /v1/nodes reports it not HEALTHY)--> ejected
 *   ejected --(its ejection time has passed: due())--> probing
 *   probing --(probe succeeded)--> healthy        probing --(probe failed)--> ejected (longer)
 *
 * - Inputs are transport failures (src/weaviate/failure.ts's 'transport' class: a lost socket, a
 *   refused connection, UNAVAILABLE), never Weaviate's application errors nor our own deadlines.
 * - The n-th ejection lasts baseEjectionMs x n, capped at maxEjectionMs (Envoy: 30 s x n, cap
 *   300 s). The count falls by one for every maxEjectionMs a node then stays healthy.
 * - At most maxEjectionPercent of the nodes are out at once (at least one): a failure that would
 *   eject more is counted but ejects nothing.
 * - Panic: when fewer than panicThresholdPercent of the nodes are healthy, every node is used
 *   (a failing node may still answer; refusing all traffic would be worse).
 * - Success rate (Envoy's `success_rate_*`): per interval (`evaluate()`, called by the owner's
 *   timer), the healthy nodes that saw at least successRateRequestVolume requests; if there are at
 *   least successRateMinimumHosts of them, a node whose success rate is below
 *   mean - successRateStdevFactor x stdev (population stdev of those rates) is ejected. Note the
 *   arithmetic of small clusters: with n nodes no rate can lie more than (n-1)/sqrt(n) stdevs
 *   below the mean (1.15 for 3), so Envoy's factor 1.9 needs 5 or more nodes (Envoy's minimum).
 * - Failure percentage (Envoy's `failure_percentage_*`): the absolute counterpart that works for
 *   3 nodes: a node with at least successRateRequestVolume requests in the interval of which at
 *   least failurePercentageThreshold % failed is ejected (0 turns it off).
 * - Cluster status (the second input, after real failures): `onClusterStatus(node, false)` when
 *   the cluster's own /v1/nodes reports the node not HEALTHY ejects it (within the share); a
 *   probe of a node still reported not HEALTHY fails (the owner checks before onProbe(ok)).
 */

export interface OutlierConfig {
  /** Transport failures in a row that eject a node. Envoy: 5. */
  consecutiveFailures: number;
  /** First ejection time; the n-th lasts n times this. Envoy: 30 s. */
  baseEjectionMs: number;
  /** Cap of one ejection. Envoy: 300 s. */
  maxEjectionMs: number;
  /** Share of nodes that may be ejected at once (at least one). Envoy: 10. */
  maxEjectionPercent: number;
  /** Below this share of healthy nodes, use every node. Envoy: 50. */
  panicThresholdPercent: number;
  /** Length of the success-rate / failure-percentage interval. Envoy: 10 s. */
  intervalMs: number;
  /** Requests a node needs in an interval to be judged by its rates. Envoy: 100. */
  successRateRequestVolume: number;
  /** Nodes with enough requests needed for the success-rate statistics. Envoy: 5. */
  successRateMinimumHosts: number;
  /** Ejected when the success rate is below mean - this x stdev. Envoy: 1.9 (1900 / 1000). */
  successRateStdevFactor: number;
  /** Ejected when at least this % of its requests in the interval failed; 0 = off. Envoy: 85. */
  failurePercentageThreshold: number;
}

export const OUTLIER_DEFAULTS: Readonly<OutlierConfig> = Object.freeze({
  consecutiveFailures: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 10,
  panicThresholdPercent: 50,
  intervalMs: 10_000,
  successRateRequestVolume: 100,
  successRateMinimumHosts: 5,
  successRateStdevFactor: 1.9,
  failurePercentageThreshold: 85,
});

export type NodeHealth = 'healthy' | 'ejected' | 'probing';

export interface NodeOutlierState {
  health: NodeHealth;
  consecutiveFailures: number;
  /** Ejections counted for the next ejection's length (decays while healthy). */
  ejections: number;
  totalEjections: number;
  /** When the current ejection ends (clock ms), while ejected. */
  ejectedUntil: number | undefined;
  /** Since when it is healthy again (clock ms), for the decay. */
  healthySince: number;
  /** Requests that ended in this interval, and how many of them failed. */
  intervalRequests: number;
  intervalFailures: number;
  /** What the cluster's /v1/nodes said last (undefined: not known). */
  clusterHealthy: boolean | undefined;
}

export interface OutlierEvent {
  node: number;
  from: NodeHealth;
  to: NodeHealth;
  reason: string;
}

export class OutlierDetector {
  readonly config: Readonly<OutlierConfig>;
  readonly #nodes: NodeOutlierState[];
  readonly #now: () => number;
  readonly #onEvent: ((event: OutlierEvent) => void) | undefined;
  #intervalStart: number;

  constructor(nodeCount: number, config: Readonly<OutlierConfig>, now: () => number, onEvent?: (event: OutlierEvent) => void) {
    this.config = config;
    this.#now = now;
    this.#onEvent = onEvent;
    this.#nodes = Array.from({ length: nodeCount }, () => ({
      health: 'healthy' as NodeHealth, consecutiveFailures: 0, ejections: 0, totalEjections: 0, ejectedUntil: undefined, healthySince: now(),
      intervalRequests: 0, intervalFailures: 0, clusterHealthy: undefined,
    }));
    this.#intervalStart = now();
  }

  get size(): number {
    return this.#nodes.length;
  }

  state(node: number): Readonly<NodeOutlierState> {
    return this.#nodes[node]!;
  }

  /** How many nodes may be out (ejected or probing) at once. */
  get maxEjected(): number {
    return Math.max(1, Math.floor((this.#nodes.length * this.config.maxEjectionPercent) / 100));
  }

  get ejectedCount(): number {
    return this.#nodes.filter((n) => n.health !== 'healthy').length;
  }

  /** A request on this node ended without a transport failure. */
  onSuccess(node: number): void {
    const n = this.#nodes[node]!;
    n.consecutiveFailures = 0;
    n.intervalRequests++;
    if (n.health === 'healthy' && n.ejections > 0 && this.#now() - n.healthySince >= this.config.maxEjectionMs) {
      n.ejections--;
      n.healthySince = this.#now();
    }
  }

  /** A transport failure on this node (a request's, a lost connection's, a failed open's). */
  onFailure(node: number, reason = 'transport failure'): void {
    const n = this.#nodes[node]!;
    n.consecutiveFailures++;
    n.intervalRequests++;
    n.intervalFailures++;
    if (n.health !== 'healthy' || n.consecutiveFailures < this.config.consecutiveFailures) return;
    if (this.ejectedCount >= this.maxEjected) return; // the share is used up: counted, not ejected
    this.#eject(node, `${n.consecutiveFailures} consecutive failures (last: ${reason})`);
  }

  /**
   * The interval's verdicts (call it often; it acts once per intervalMs): failure percentage,
   * then success rate, each within the ejected share. Counters restart for the next interval.
   * Returns the nodes it ejected.
   */
  evaluate(): number[] {
    const now = this.#now();
    const elapsedMs = now - this.#intervalStart;
    if (elapsedMs < this.config.intervalMs) return [];
    this.#intervalStart = now;
    const c = this.config;
    const judged = this.#nodes.flatMap((n, i) => (n.health === 'healthy' && n.intervalRequests >= c.successRateRequestVolume ? [i] : []));
    const rate = (i: number) => 1 - this.#nodes[i]!.intervalFailures / this.#nodes[i]!.intervalRequests;
    const out = new Set<number>();
    if (c.failurePercentageThreshold > 0) {
      for (const i of judged) if ((1 - rate(i)) * 100 >= c.failurePercentageThreshold) out.add(i);
    }
    if (judged.length >= Math.max(1, c.successRateMinimumHosts)) {
      const rates = judged.map(rate);
      const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
      const stdev = Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length);
      const threshold = mean - c.successRateStdevFactor * stdev;
      judged.forEach((i, k) => {
        if (rates[k]! < threshold) out.add(i);
      });
    }
    const ejected: number[] = [];
    // The worst first, while the share allows.
    for (const i of [...out].sort((a, b) => rate(a) - rate(b))) {
      if (this.ejectedCount >= this.maxEjected) break;
      const n = this.#nodes[i]!;
      this.#eject(i, `success rate ${(rate(i) * 100).toFixed(1)} % over ${n.intervalRequests} requests in ${(elapsedMs / 1000).toFixed(1)} s`);
      ejected.push(i);
    }
    for (const n of this.#nodes) {
      n.intervalRequests = 0;
      n.intervalFailures = 0;
    }
    return ejected;
  }

  /**
   * The cluster's own view (/v1/nodes): a node it reports not HEALTHY is ejected (within the
   * share); `undefined` (not listed) only forgets what was known.
   */
  onClusterStatus(node: number, healthy: boolean | undefined, status = ''): void {
    const n = this.#nodes[node]!;
    n.clusterHealthy = healthy;
    if (healthy !== false || n.health !== 'healthy') return;
    if (this.ejectedCount >= this.maxEjected) return;
    this.#eject(node, `/v1/nodes: ${status || 'not HEALTHY'}`);
  }

  /** Eject now (a node that could not even be reached at start). Ignores the share. */
  forceEject(node: number, reason: string): void {
    if (this.#nodes[node]!.health !== 'healthy') return;
    this.#eject(node, reason);
  }

  #eject(node: number, reason: string): void {
    const n = this.#nodes[node]!;
    const from = n.health;
    n.ejections++;
    n.totalEjections++;
    n.health = 'ejected';
    n.ejectedUntil = this.#now() + Math.min(this.config.baseEjectionMs * n.ejections, this.config.maxEjectionMs);
    this.#onEvent?.({ node, from, to: 'ejected', reason });
  }

  /** Ejected nodes whose time is up move to 'probing' and are returned: the caller probes them. */
  due(): number[] {
    const now = this.#now();
    const out: number[] = [];
    this.#nodes.forEach((n, node) => {
      if (n.health === 'ejected' && n.ejectedUntil !== undefined && now >= n.ejectedUntil) {
        n.health = 'probing';
        this.#onEvent?.({ node, from: 'ejected', to: 'probing', reason: 'ejection time over' });
        out.push(node);
      }
    });
    return out;
  }

  /** The probe's outcome: readmitted, or ejected again for longer. */
  onProbe(node: number, ok: boolean, reason = ''): void {
    const n = this.#nodes[node]!;
    if (n.health !== 'probing') return;
    if (ok) {
      n.health = 'healthy';
      n.consecutiveFailures = 0;
      n.ejectedUntil = undefined;
      n.healthySince = this.#now();
      this.#onEvent?.({ node, from: 'probing', to: 'healthy', reason: 'probe succeeded' });
    } else {
      this.#eject(node, `probe failed${reason ? `: ${reason}` : ''}`);
    }
  }

  /** Nodes to send requests to: the healthy ones, or every node in panic. */
  eligible(): { nodes: number[]; panic: boolean } {
    const healthy = this.#nodes.flatMap((n, i) => (n.health === 'healthy' ? [i] : []));
    if (healthy.length * 100 < this.#nodes.length * this.config.panicThresholdPercent) {
      return { nodes: this.#nodes.map((_, i) => i), panic: true };
    }
    return { nodes: healthy, panic: false };
  }
}
