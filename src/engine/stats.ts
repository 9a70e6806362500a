/**
 * The engine-wide stats snapshot served at GET /vector-store/pool/stats. The note's keys stay
 * at the top (now summed over every worker's sub-pool); `lanes`, `workers`, `latency` and
 * `counters` follow. docs/stats.md documents every field and its unit.
 */
import type { Histogram } from 'hdr-histogram-js';
import type { PoolStats } from '../pool/types.ts';
import { merge, summarize, type LatencySummary } from '../stats/histogram.ts';
import { mergeNodeLimit, mergeNodes, type MergedNodeStats } from '../stats/nodes.ts';
import type { NodeLimitStats } from '../cluster/multi-pool.ts';
import type { WorkerStats } from './protocol.ts';
import type { LaneStats } from './scheduler.ts';

export interface EngineCounters {
  /** Every query() / run() call, including refused and invalid ones. */
  requests: number;
  completed: number;
  /** Reached a worker (or ran inline) and failed. */
  failed: number;
  /** Deadline passed while queued: never reached a worker. */
  shed: number;
  rejected_full: number;
  aborted: number;
  validation_errors: number;
  /** Requests re-run once on another worker after a crash (idempotent ones only). */
  retries: number;
  /** Re-runs after a lost connection (idempotent requests, within deadline and retry budget). */
  transport_retries: number;
  /** Transport failures not retried because the retry budget (gRPC A6 throttling) was spent. */
  retries_refused: number;
  worker_crashes: number;
  errors_by_code: Record<string, number>;
}

export interface WorkerSummary {
  thread_id: number;
  index: number;
  ready: boolean;
  /** False when the worker did not answer its last control call in time (blocked event loop). */
  responsive: boolean;
  in_flight: number;
  /** Work running past its deadline or abort: its caller was answered, its connection is still taken. */
  overdue: number;
  /** Promises its tasks left rejected with no handler (logged; the worker lived on). */
  unhandled_rejections: number;
  completed: number;
  failed: number;
  event_loop_delay_p99_us: number;
  event_loop_delay_max_us: number;
  pool: PoolStats | null;
}

export interface EngineStats {
  enabled: boolean;
  total_connections: number;
  current_active: number;
  current_idle: number;
  available_connections: number;
  total_connections_created: number;
  total_connections_closed: number;
  total_requests: number;
  /** Mean time a request waited before running: lane queue + connection acquire, seconds. */
  avg_wait_time: number;
  health_check_failures: number;
  mode: 'workers' | 'inline' | 'legacy';
  worker_count: number;
  min_connections: number;
  max_connections: number;
  /** Requests the scheduler lets run at once: max_connections x max streams per connection. */
  slots: number;
  main_event_loop_delay_p99_us: number;
  /** The note's dynamic sizing when on: its bounds, the last interval's utilisation and last change. */
  autoscale: Record<string, unknown> | null;
  lanes: Record<string, LaneStats>;
  /** Cost-aware lanes (`costAwareLanes`): per kind of work, its mean slot time (ms, exponential average), its minimum over the last 64 (what the cost is charged from) and relative cost; null when off. Set by the executor. */
  query_costs?: Record<string, { avg_ms: number; min_ms: number; cost: number }> | null;
  workers: WorkerSummary[];
  /** Several nodes: `workers[].pool.nodes[]` merged per node over the workers (src/stats/nodes.ts); empty with one node. */
  nodes: MergedNodeStats[];
  /** Callers waiting for a node below its limit (`nodeAdaptive`), summed over workers; null when no worker limits nodes. */
  node_limit: NodeLimitStats | null;
  latency: {
    queue_wait: LatencySummary;
    connection_wait: LatencySummary;
    execution: LatencySummary;
    end_to_end: LatencySummary;
  };
  counters: EngineCounters;
}

export interface StatsParts {
  mode: EngineStats['mode'];
  enabled: boolean;
  minConnections: number;
  maxConnections: number;
  slots: number;
  lanes: LaneStats[];
  laneHistograms: { queueWait: Histogram; endToEnd: Histogram }[];
  workers: (WorkerStats & { responsive: boolean; retired?: boolean })[];
  requests: number;
  validationErrors: number;
  retries: number;
  crashes: number;
  mainEventLoopP99Us: number;
  autoscale: Record<string, unknown> | null;
}

export function buildEngineStats(p: StatsParts): EngineStats {
  const live = p.workers.filter((w) => !w.retired);
  const pools = live.map((w) => w.pool).filter((x): x is PoolStats => x !== undefined);
  const sum = (f: (s: PoolStats) => number) => pools.reduce((a, s) => a + f(s), 0);
  // Closed/created counts include workers that are gone, so the totals never go backwards.
  const allPools = p.workers.map((w) => w.pool).filter((x): x is PoolStats => x !== undefined);
  const sumAll = (f: (s: PoolStats) => number) => allPools.reduce((a, s) => a + f(s), 0);

  const queueWait = merge(p.laneHistograms.map((h) => h.queueWait));
  const endToEnd = merge(p.laneHistograms.map((h) => h.endToEnd));
  const connectionWait = merge(p.workers.map((w) => w.acquireWait).filter(Boolean));
  const execution = merge(p.workers.map((w) => w.execution).filter(Boolean));

  const lanes = Object.fromEntries(p.lanes.map((l) => [l.name, l]));
  const errors: Record<string, number> = {};
  for (const l of p.lanes) for (const [code, n] of Object.entries(l.errors_by_code)) errors[code] = (errors[code] ?? 0) + n;
  const total = (f: (l: LaneStats) => number) => p.lanes.reduce((a, l) => a + f(l), 0);

  const workers: WorkerSummary[] = live.map((w) => ({
    thread_id: w.threadId,
    index: w.index,
    ready: w.ready,
    responsive: w.responsive,
    in_flight: w.inFlight,
    overdue: w.overdue ?? 0,
    unhandled_rejections: w.unhandledRejections ?? 0,
    completed: w.completed,
    failed: w.failed,
    event_loop_delay_p99_us: w.eventLoopDelayP99Us,
    event_loop_delay_max_us: w.eventLoopDelayMaxUs,
    pool: w.pool ?? null,
  }));
  const meanWaitUs = (queueWait.totalCount ? queueWait.mean : 0) + (connectionWait.totalCount ? connectionWait.mean : 0);
  return {
    enabled: p.enabled,
    total_connections: sum((s) => s.total_connections),
    current_active: sum((s) => s.current_active),
    current_idle: sum((s) => s.current_idle),
    available_connections: sum((s) => s.available_connections),
    total_connections_created: sumAll((s) => s.total_connections_created),
    total_connections_closed: sumAll((s) => s.total_connections_closed),
    total_requests: p.requests,
    avg_wait_time: Math.round(meanWaitUs) / 1e6,
    health_check_failures: sumAll((s) => s.health_check_failures),
    mode: p.mode,
    worker_count: live.length,
    min_connections: p.minConnections,
    max_connections: p.maxConnections,
    slots: p.slots,
    main_event_loop_delay_p99_us: p.mainEventLoopP99Us,
    autoscale: p.autoscale,
    lanes,
    workers,
    nodes: mergeNodes(workers),
    node_limit: mergeNodeLimit(workers),
    latency: {
      queue_wait: summarize(queueWait),
      connection_wait: summarize(connectionWait),
      execution: summarize(execution),
      end_to_end: summarize(endToEnd),
    },
    counters: {
      requests: p.requests,
      completed: total((l) => l.completed),
      failed: total((l) => l.failed),
      shed: total((l) => l.shed),
      rejected_full: total((l) => l.rejected_full),
      aborted: total((l) => l.aborted),
      validation_errors: p.validationErrors,
      retries: p.retries,
      transport_retries: p.workers.reduce((a, w) => a + (w.transportRetries ?? 0), 0),
      retries_refused: p.workers.reduce((a, w) => a + (w.retriesRefused ?? 0), 0),
      worker_crashes: p.crashes,
      errors_by_code: errors,
    },
  };
}
