/**
 * Several Weaviate nodes (`weaviate.nodes`): every worker has its own pool, outlier detector and
 * (with `nodeAdaptive`) limit per node, so a node appears once per worker in the stats
 * (`workers[].pool.nodes[]`, docs/stats.md). These functions merge them into one view per node,
 * the view both the Prometheus exporter (src/metrics/prometheus.ts) and the CLI's stats page
 * (src/cli/format-stats.ts) show: counts summed over workers (what this process sends the node),
 * latencies the mean over the workers that measured one, health as how many workers have the node
 * in each state. Pure functions of a snapshot. The engine's stats carry the result (`nodes`,
 * `node_limit`), which is what the dashboard's page shows; the CLI and Prometheus merge the
 * workers they are given with the same functions.
 */
import type { NodeLimitStats, NodeStats } from '../cluster/multi-pool.ts';
import type { NodeHealth } from '../cluster/outlier.ts';
import type { EngineStats } from '../engine/stats.ts';

export interface MergedNodeAdaptive {
  /** The node's limits summed over workers: what it may get in flight from this process. */
  limit: number;
  /** Round trips feeding the limits, ms: mean over the workers that measured one; null when none has. */
  short_rtt_ms: number | null;
  long_rtt_ms: number | null;
  /** Changes of the limits, summed over workers. */
  changes: number;
  /** Workers whose limit is pinned for a no-load probe now. */
  probing: number;
}

export interface MergedNodeStats {
  node: string;
  /** Workers that report this node. */
  workers: number;
  /** Workers by the node's health in them (outlier detection is per worker). */
  health: Record<NodeHealth, number>;
  /** Workers in panic (too few healthy nodes there: every node in use). */
  panic: number;
  /** Workers that skip the node because its last open failed and it has no connection. */
  unreachable: number;
  /** Open connections to the node, all workers. */
  connections: number;
  /** Requests holding or waiting for a connection of the node, all workers. */
  outstanding: number;
  /** Smoothed round trip, ms: mean over the workers that have one; null when none has. */
  latency_ewma_ms: number | null;
  /** Outlier ejections since start, summed over workers. */
  total_ejections: number;
  /** The longest ejection still to run among workers, ms (0: none ejected). */
  ejected_for_ms: number;
  /** Why its health last changed: from a worker where it is not healthy, else from any; null when never. */
  last_reason: string | null;
  /** `nodeAdaptive` only (null when no worker has a limit for the node). */
  adaptive: MergedNodeAdaptive | null;
  /** Callers waiting for a slot under the node's limit because least-loaded chose it, all workers (`slot_waiting`; 0 without `nodeAdaptive`). */
  slot_waiting: number;
  /** Requests the node's pools served since start, summed over workers. */
  requests: number;
  /** Health in words, as the CLI and the dashboard show it: `healthy`, or e.g. `ejected 1/2 (3.0 s left), unreachable 1/2`. */
  state: string;
}

/** Mean of the values that exist; null when none does. */
function meanOf(values: readonly (number | null | undefined)[]): number | null {
  const xs = values.filter((x): x is number => x !== null && x !== undefined && Number.isFinite(x));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/**
 * A node's health over the workers that report it: `healthy` when it is in every one, else how
 * many have it in each other state (`ejected 1/2, probing 1/2`), with the longest ejection still
 * to run, and `unreachable` / `panic` where workers say so.
 */
export function nodeState(n: Pick<MergedNodeStats, 'workers' | 'health' | 'ejected_for_ms' | 'unreachable' | 'panic'>): string {
  const parts: string[] = [];
  if (n.health.healthy === n.workers) parts.push('healthy');
  else {
    if (n.health.ejected) parts.push(`ejected ${n.health.ejected}/${n.workers}${n.ejected_for_ms > 0 ? ` (${(n.ejected_for_ms / 1000).toFixed(1)} s left)` : ''}`);
    if (n.health.probing) parts.push(`probing ${n.health.probing}/${n.workers}`);
  }
  if (n.unreachable) parts.push(`unreachable ${n.unreachable}/${n.workers}`);
  if (n.panic) parts.push(`panic ${n.panic}/${n.workers}`);
  return parts.join(', ');
}

/** Each node once, in the order the workers list them, its figures merged over the workers. */
export function mergeNodes(workers: EngineStats['workers']): MergedNodeStats[] {
  const byNode = new Map<string, NodeStats[]>();
  for (const w of workers) for (const n of w.pool?.nodes ?? []) byNode.set(n.node, [...(byNode.get(n.node) ?? []), n]);
  return [...byNode].map(([node, views]) => {
    const sum = (pick: (n: NodeStats) => number) => views.reduce((a, n) => a + pick(n), 0);
    const count = (keep: (n: NodeStats) => boolean) => views.filter(keep).length;
    const limited = views.flatMap((n) => (n.adaptive ? [n.adaptive] : []));
    const unhealthy = views.find((n) => n.health !== 'healthy' && n.last_reason !== null);
    const health = { healthy: count((n) => n.health === 'healthy'), ejected: count((n) => n.health === 'ejected'), probing: count((n) => n.health === 'probing') };
    const ejectedForMs = Math.max(0, ...views.map((n) => n.ejected_for_ms));
    const panic = count((n) => n.panic);
    const unreachable = count((n) => n.unreachable);
    return {
      node,
      workers: views.length,
      health,
      panic,
      unreachable,
      connections: sum((n) => n.pool?.total_connections ?? 0),
      outstanding: sum((n) => n.outstanding),
      latency_ewma_ms: meanOf(views.map((n) => n.latency_ewma_ms)),
      total_ejections: sum((n) => n.total_ejections),
      ejected_for_ms: ejectedForMs,
      last_reason: unhealthy?.last_reason ?? views.find((n) => n.last_reason !== null)?.last_reason ?? null,
      adaptive: limited.length === 0 ? null : {
        limit: limited.reduce((a, l) => a + l.limit, 0),
        short_rtt_ms: meanOf(limited.map((l) => l.short_rtt_ms)),
        long_rtt_ms: meanOf(limited.map((l) => l.long_rtt_ms)),
        changes: limited.reduce((a, l) => a + l.changes, 0),
        probing: limited.filter((l) => l.probing).length,
      },
      slot_waiting: sum((n) => n.slot_waiting),
      requests: sum((n) => n.pool?.total_requests ?? 0),
      state: nodeState({ workers: views.length, health, ejected_for_ms: ejectedForMs, unreachable, panic }),
    };
  });
}

/** Callers waiting for a node below its limit (`nodeAdaptive`), summed over workers; null when no worker limits nodes. */
export function mergeNodeLimit(workers: EngineStats['workers']): NodeLimitStats | null {
  const pools = workers.flatMap((w) => (w.pool?.node_limit ? [w.pool.node_limit] : []));
  if (pools.length === 0) return null;
  return pools.reduce((a, p) => ({ waiting: a.waiting + p.waiting, waited: a.waited + p.waited, timeouts: a.timeouts + p.timeouts }), { waiting: 0, waited: 0, timeouts: 0 });
}
