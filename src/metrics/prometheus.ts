/**
 * Prometheus metrics through prom-client, registered into the host's registry (or a new one).
 *
 * Latencies are histograms with fixed buckets (`LATENCY_BUCKETS_SECONDS`), observed once per
 * finished request (executor.onRequest): unlike quantile summaries they add up across
 * processes and scrape intervals (`histogram_quantile(0.99, sum by (le, lane) (rate(...[5m])))`).
 * Everything else (connections, lanes, counters by outcome and code) is read from one stats
 * snapshot per scrape by collect functions, so the figures are the engine's own.
 *
 *   import { Registry } from 'prom-client';
 *   registerExecutorMetrics(executor, { registry });   // then serve registry.metrics()
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AdaptiveLimitSnapshot } from '../engine/adaptive-limit.ts';
import type { EngineStats } from '../engine/stats.ts';
import type { Executor } from '../engine/executor.ts';
import { mergeNodeLimit, mergeNodes, type MergedNodeStats } from '../stats/nodes.ts';

/**
 * Histogram buckets, seconds: 1 ms to 30 s (the default deadline), dense below 100 ms where
 * search latencies live. Keep them equal in every process whose series you aggregate.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]);

/** What the metrics read: the stats snapshot, and per-request events when the source has them. */
export type MetricsSource = Pick<Executor, 'stats'> & Partial<Pick<Executor, 'onRequest'>>;

export interface ExecutorMetricsOptions {
  /** The host's registry. @default a new Registry */
  registry?: Registry;
  /** Metric name prefix. @default 'weaviate_executor_' */
  prefix?: string;
  /** Histogram buckets in seconds. @default LATENCY_BUCKETS_SECONDS */
  buckets?: readonly number[];
  /** A stats snapshot younger than this is reused by the collect functions of one scrape, ms. @default 250 */
  snapshotMaxAgeMs?: number;
}

export interface ExecutorMetrics {
  registry: Registry;
  /** Stop observing and remove these metrics from the registry. */
  unregister(): void;
}

export function registerExecutorMetrics(source: MetricsSource, options: ExecutorMetricsOptions = {}): ExecutorMetrics {
  const registry = options.registry ?? new Registry();
  const p = options.prefix ?? 'weaviate_executor_';
  const buckets = [...(options.buckets ?? LATENCY_BUCKETS_SECONDS)];
  const maxAge = options.snapshotMaxAgeMs ?? 250;
  let cached: { at: number; stats: Promise<EngineStats> } | undefined;
  const snapshot = (): Promise<EngineStats> => {
    const now = performance.now();
    if (!cached || now - cached.at > maxAge) cached = { at: now, stats: source.stats() };
    return cached.stats;
  };
  const registers = [registry];
  const names: string[] = [];
  const name = (n: string) => {
    names.push(p + n);
    return p + n;
  };

  const gauge = (n: string, help: string, labelNames: string[], fill: (s: EngineStats, set: (labels: Record<string, string>, v: number) => void) => void) =>
    new Gauge({
      name: name(n), help, labelNames, registers,
      async collect() {
        const s = await snapshot();
        this.reset();
        fill(s, (labels, v) => this.set(labels, Number.isFinite(v) ? v : 0));
      },
    });
  const counter = (n: string, help: string, labelNames: string[], fill: (s: EngineStats, set: (labels: Record<string, string>, v: number) => void) => void) =>
    new Counter({
      name: name(n), help, labelNames, registers,
      async collect() {
        const s = await snapshot();
        this.reset();
        fill(s, (labels, v) => this.inc(labels, Number.isFinite(v) && v > 0 ? v : 0));
      },
    });

  gauge('connections', 'Open connections to Weaviate, all workers', ['state'], (s, set) => {
    set({ state: 'active' }, s.current_active);
    set({ state: 'idle' }, s.current_idle);
  });
  gauge('max_connections', 'Connection limit (engine-wide)', [], (s, set) => set({}, s.max_connections));
  gauge('workers', 'Live worker threads', [], (s, set) => set({}, s.worker_count));
  gauge('lane_queued', 'Requests waiting in a lane', ['lane'], (s, set) => Object.values(s.lanes).forEach((l) => set({ lane: l.name }, l.queued)));
  gauge('lane_in_flight', 'Requests of a lane running', ['lane'], (s, set) => Object.values(s.lanes).forEach((l) => set({ lane: l.name }, l.in_flight)));
  gauge('main_event_loop_delay_p99_seconds', 'Event-loop delay p99 of the main thread', [], (s, set) => set({}, s.main_event_loop_delay_p99_us / 1e6));
  gauge('worker_event_loop_delay_p99_seconds', 'Event-loop delay p99 per worker thread', ['worker'], (s, set) =>
    s.workers.forEach((w) => set({ worker: String(w.thread_id) }, w.event_loop_delay_p99_us / 1e6)),
  );
  // Several nodes (weaviate.nodes): each worker's multi-pool reports its nodes; merged by node here
  // (src/stats/nodes.ts: counts and limits summed over workers, round trips their mean), as the CLI shows them.
  const perNode = (pick: (n: MergedNodeStats) => number | null | undefined) =>
    (s: EngineStats, set: (labels: Record<string, string>, v: number) => void) => mergeNodes(s.workers).forEach((n) => {
      const v = pick(n);
      if (v !== null && v !== undefined) set({ node: n.node }, v);
    });
  gauge('node_connections', 'Open connections per Weaviate node, all workers', ['node'], perNode((n) => n.connections));
  gauge('node_outstanding', 'Requests holding or waiting for a connection, per node', ['node'], perNode((n) => n.outstanding));
  gauge('node_ejected', 'Workers that have the node ejected or on probation now', ['node'], perNode((n) => n.workers - n.health.healthy));
  counter('node_ejections_total', 'Outlier ejections per node, summed over workers', ['node'], perNode((n) => n.total_ejections));
  // Per-node adaptive limits (nodeAdaptive; src/cluster/node-limit.ts): each worker has its own per node.
  gauge('node_adaptive_limit', 'Adaptive concurrency limit per Weaviate node, summed over workers (requests in flight allowed)', ['node'], perNode((n) => n.adaptive?.limit));
  gauge('node_adaptive_rtt_seconds', 'Inputs of a node\'s adaptive limit: short (last window) and long (average) round-trip time, mean over workers', ['node', 'window'], (s, set) => {
    for (const { node, adaptive: a } of mergeNodes(s.workers)) {
      if (a?.short_rtt_ms !== null && a?.short_rtt_ms !== undefined) set({ node, window: 'short' }, a.short_rtt_ms / 1000);
      if (a?.long_rtt_ms !== null && a?.long_rtt_ms !== undefined) set({ node, window: 'long' }, a.long_rtt_ms / 1000);
    }
  });
  gauge('node_slot_waiting', 'Requests waiting for a slot under this node\'s adaptive limit (least-loaded chose the node), all workers', ['node'], perNode((n) => (n.adaptive ? n.slot_waiting : undefined)));
  counter('node_adaptive_limit_changes_total', 'Changes of the per-node adaptive limits, summed over workers', ['node'], perNode((n) => n.adaptive?.changes));
  gauge('node_limit_waiting', 'Requests waiting because every node is at its adaptive limit, all workers', [], (s, set) => {
    const limit = mergeNodeLimit(s.workers);
    if (limit) set({}, limit.waiting);
  });
  counter('connections_created_total', 'Connections opened', [], (s, set) => set({}, s.total_connections_created));
  counter('connections_closed_total', 'Connections closed', [], (s, set) => set({}, s.total_connections_closed));
  counter('health_check_failures_total', 'Failed health checks', [], (s, set) => set({}, s.health_check_failures));
  counter('requests_total', 'Requests by lane and outcome', ['lane', 'outcome'], (s, set) =>
    Object.values(s.lanes).forEach((l) => {
      set({ lane: l.name, outcome: 'completed' }, l.completed);
      set({ lane: l.name, outcome: 'failed' }, l.failed);
      set({ lane: l.name, outcome: 'shed' }, l.shed);
      set({ lane: l.name, outcome: 'rejected_full' }, l.rejected_full);
      set({ lane: l.name, outcome: 'aborted' }, l.aborted);
    }),
  );
  counter('lane_coalesced_total', 'Reads answered by joining an identical read in flight', ['lane'], (s, set) =>
    Object.values(s.lanes).forEach((l) => set({ lane: l.name }, l.coalesced ?? 0)),
  );
  // Adaptive limits (lanes with `adaptive`; src/engine/adaptive-limit.ts): the cap, its inputs and
  // the tail guard's (lanes with `protect`). Figures a lane does not have yet (null) are left out.
  const adaptiveLanes = (s: EngineStats) => Object.values(s.lanes).flatMap((l) => (l.adaptive ? [{ lane: l.name, a: l.adaptive }] : []));
  const perAdaptive = (pick: (a: AdaptiveLimitSnapshot) => number | boolean | null | undefined, divisor = 1) =>
    (s: EngineStats, set: (labels: Record<string, string>, v: number) => void) => adaptiveLanes(s).forEach(({ lane, a }) => {
      const v = pick(a);
      if (v !== null && v !== undefined) set({ lane }, Number(v) / divisor);
    });
  gauge('lane_adaptive_limit', 'Adaptive concurrency limit of a lane now (slots)', ['lane'], perAdaptive((a) => a.limit));
  gauge('lane_adaptive_estimate', 'Unrounded estimate behind a lane\'s adaptive limit (slots)', ['lane'], perAdaptive((a) => a.estimate));
  gauge('lane_adaptive_rtt_seconds', 'Inputs of a lane\'s adaptive limit: short (last window), long (average) and no-load (last probe) round-trip time', ['lane', 'window'], (s, set) =>
    adaptiveLanes(s).forEach(({ lane, a }) => {
      if (a.short_rtt_ms !== null) set({ lane, window: 'short' }, a.short_rtt_ms / 1000);
      if (a.long_rtt_ms !== null) set({ lane, window: 'long' }, a.long_rtt_ms / 1000);
      if (a.no_load_rtt_ms !== null) set({ lane, window: 'no_load' }, a.no_load_rtt_ms / 1000);
    }),
  );
  gauge('lane_adaptive_gradient', 'Gradient of a lane\'s adaptive limit at its last window (1 = no queueing seen, down to 0.5)', ['lane'], perAdaptive((a) => a.gradient));
  gauge('lane_adaptive_probing', '1 while a lane\'s adaptive limit is pinned to measure no-load latency, else 0', ['lane'], perAdaptive((a) => a.probing));
  counter('lane_adaptive_limit_changes_total', 'Changes of a lane\'s adaptive limit', ['lane'], perAdaptive((a) => a.changes));
  counter('lane_adaptive_probes_total', 'No-load probes a lane\'s adaptive limit completed', ['lane'], perAdaptive((a) => a.probes));
  gauge('lane_adaptive_guard_tail_seconds', 'Tail guard: p99 of the protected lanes at its last decision', ['lane'], perAdaptive((a) => a.guard_tail_ms, 1000));
  gauge('lane_adaptive_guard_base_seconds', 'Tail guard: p99 of the protected lanes with this lane at its probe limit (the base)', ['lane'], perAdaptive((a) => a.guard_base_ms, 1000));
  gauge('lane_adaptive_guard_target_seconds', 'Tail guard: the protected p99 it holds to (base x guardTolerance)', ['lane'], perAdaptive((a) => a.guard_target_ms, 1000));
  gauge('lane_adaptive_guard_ceiling', 'Tail guard: its ceiling over the adaptive limit (slots)', ['lane'], perAdaptive((a) => a.guard_ceiling));
  gauge('lane_adaptive_guard_retry_in_seconds', 'Tail guard: time until it may try one slot more after its last cut (0: it may)', ['lane'], perAdaptive((a) => a.guard_retry_in_ms, 1000));
  counter('lane_adaptive_guard_decisions_total', 'Tail guard: decisions taken', ['lane'], perAdaptive((a) => a.guard_decisions));
  counter('lane_adaptive_guard_cuts_total', 'Tail guard: decisions that cut its ceiling (protected p99 above target)', ['lane'], perAdaptive((a) => a.guard_cuts));
  counter('errors_total', 'Errors by code', ['code'], (s, set) => Object.entries(s.counters.errors_by_code).forEach(([code, n]) => set({ code }, n)));
  counter('retries_total', 'Requests retried after a worker crash', [], (s, set) => set({}, s.counters.retries));
  counter('worker_crashes_total', 'Worker threads that died', [], (s, set) => set({}, s.counters.worker_crashes));
  counter('validation_errors_total', 'Requests refused as invalid', [], (s, set) => set({}, s.counters.validation_errors));

  const duration = new Histogram({ name: name('request_duration_seconds'), help: 'Time from submit to answer, by lane, kind (query/task) and outcome (ok or error code)', labelNames: ['lane', 'kind', 'outcome'], buckets, registers });
  const queueWait = new Histogram({ name: name('queue_wait_seconds'), help: 'Time queued in a lane', labelNames: ['lane'], buckets, registers });
  const connectionWait = new Histogram({ name: name('connection_wait_seconds'), help: 'Time waiting for a connection in a worker', labelNames: ['lane'], buckets, registers });
  const execution = new Histogram({ name: name('execution_seconds'), help: 'Time running with a connection', labelNames: ['lane'], buckets, registers });

  const stop = source.onRequest?.((e) => {
    duration.observe({ lane: e.lane, kind: e.kind, outcome: e.outcome }, e.totalMs / 1000);
    queueWait.observe({ lane: e.lane }, e.queueWaitMs / 1000);
    if (e.connectionWaitMs !== undefined) connectionWait.observe({ lane: e.lane }, e.connectionWaitMs / 1000);
    if (e.executionMs !== undefined) execution.observe({ lane: e.lane }, e.executionMs / 1000);
  });

  return {
    registry,
    unregister() {
      stop?.();
      for (const n of names) registry.removeSingleMetric(n);
    },
  };
}
