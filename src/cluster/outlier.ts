/**
 * Outlier ejection in the spirit of Envoy's outlier detection, as an explicit state machine per
 * node with an injected clock (pure: no timers, no I/O; test/unit/cluster-outlier.test.ts).
 *
 *   healthy --(consecutiveFailures transport failures in a row, and the ejected share allows)--> ejected
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
}

export const OUTLIER_DEFAULTS: Readonly<OutlierConfig> = Object.freeze({
  consecutiveFailures: 5,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 10,
  panicThresholdPercent: 50,
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

  constructor(nodeCount: number, config: Readonly<OutlierConfig>, now: () => number, onEvent?: (event: OutlierEvent) => void) {
    this.config = config;
    this.#now = now;
    this.#onEvent = onEvent;
    this.#nodes = Array.from({ length: nodeCount }, () => ({
      health: 'healthy' as NodeHealth, consecutiveFailures: 0, ejections: 0, totalEjections: 0, ejectedUntil: undefined, healthySince: now(),
    }));
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
    if (n.health === 'healthy' && n.ejections > 0 && this.#now() - n.healthySince >= this.config.maxEjectionMs) {
      n.ejections--;
      n.healthySince = this.#now();
    }
  }

  /** A transport failure on this node (a request's, a lost connection's, a failed open's). */
  onFailure(node: number, reason = 'transport failure'): void {
    const n = this.#nodes[node]!;
    n.consecutiveFailures++;
    if (n.health !== 'healthy' || n.consecutiveFailures < this.config.consecutiveFailures) return;
    if (this.ejectedCount >= this.maxEjected) return; // the share is used up: counted, not ejected
    this.#eject(node, `${n.consecutiveFailures} consecutive failures (last: ${reason})`);
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
