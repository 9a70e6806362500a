/**
 * Prometheus text exposition (version 0.0.4) of an EngineStats snapshot. Latencies are
 * summaries (quantiles from the HDR histograms, in seconds, with _sum and _count).
 */
import type { EngineStats } from '../engine/stats.ts';
import type { LatencySummary } from '../stats/histogram.ts';

function labels(l: Record<string, string | number>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

export function renderMetrics(s: EngineStats): string {
  const out: string[] = [];
  const metric = (name: string, type: 'gauge' | 'counter' | 'summary', help: string, rows: [Record<string, string | number>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [l, value] of rows) out.push(`${name}${labels(l)} ${Number.isFinite(value) ? value : 0}`);
  };
  const summary = (name: string, help: string, series: [Record<string, string>, LatencySummary][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} summary`);
    for (const [l, h] of series) {
      for (const [q, us] of [['0.5', h.p50_us], ['0.9', h.p90_us], ['0.99', h.p99_us], ['0.999', h.p999_us]] as const) {
        out.push(`${name}${labels({ ...l, quantile: q })} ${us / 1e6}`);
      }
      out.push(`${name}_sum${labels(l)} ${(h.mean_us * h.count) / 1e6}`, `${name}_count${labels(l)} ${h.count}`);
    }
  };
  metric('weaviate_executor_connections', 'gauge', 'Open connections to Weaviate, all workers', [
    [{ state: 'active' }, s.current_active],
    [{ state: 'idle' }, s.current_idle],
  ]);
  metric('weaviate_executor_connections_created_total', 'counter', 'Connections opened', [[{}, s.total_connections_created]]);
  metric('weaviate_executor_connections_closed_total', 'counter', 'Connections closed', [[{}, s.total_connections_closed]]);
  metric('weaviate_executor_health_check_failures_total', 'counter', 'Failed health checks', [[{}, s.health_check_failures]]);
  metric('weaviate_executor_max_connections', 'gauge', 'Connection limit (engine-wide)', [[{}, s.max_connections]]);
  metric('weaviate_executor_workers', 'gauge', 'Live worker threads', [[{}, s.worker_count]]);
  const lanes = Object.values(s.lanes);
  metric('weaviate_executor_lane_queued', 'gauge', 'Requests waiting in a lane', lanes.map((l) => [{ lane: l.name }, l.queued]));
  metric('weaviate_executor_lane_in_flight', 'gauge', 'Requests of a lane running', lanes.map((l) => [{ lane: l.name }, l.in_flight]));
  metric('weaviate_executor_requests_total', 'counter', 'Requests by lane and outcome', lanes.flatMap((l) => [
    [{ lane: l.name, outcome: 'completed' }, l.completed],
    [{ lane: l.name, outcome: 'failed' }, l.failed],
    [{ lane: l.name, outcome: 'shed' }, l.shed],
    [{ lane: l.name, outcome: 'rejected_full' }, l.rejected_full],
    [{ lane: l.name, outcome: 'aborted' }, l.aborted],
  ] as [Record<string, string>, number][]));
  metric('weaviate_executor_errors_total', 'counter', 'Errors by code', Object.entries(s.counters.errors_by_code).map(([code, n]) => [{ code }, n]));
  metric('weaviate_executor_retries_total', 'counter', 'Requests retried after a worker crash', [[{}, s.counters.retries]]);
  metric('weaviate_executor_worker_crashes_total', 'counter', 'Worker threads that died', [[{}, s.counters.worker_crashes]]);
  metric('weaviate_executor_validation_errors_total', 'counter', 'Requests refused as invalid', [[{}, s.counters.validation_errors]]);
  summary('weaviate_executor_queue_wait_seconds', 'Time queued in a lane', lanes.map((l) => [{ lane: l.name }, l.queue_wait]));
  summary('weaviate_executor_end_to_end_seconds', 'Time from submit to answer', lanes.map((l) => [{ lane: l.name }, l.end_to_end]));
  summary('weaviate_executor_connection_wait_seconds', 'Time waiting for a connection in a worker', [[{}, s.latency.connection_wait]]);
  summary('weaviate_executor_execution_seconds', 'Time running with a connection', [[{}, s.latency.execution]]);
  metric('weaviate_executor_worker_event_loop_delay_p99_seconds', 'gauge', 'Event-loop delay p99 per worker', s.workers.map((w) => [{ worker: w.thread_id }, w.event_loop_delay_p99_us / 1e6]));
  metric('weaviate_executor_main_event_loop_delay_p99_seconds', 'gauge', 'Event-loop delay p99 of the main thread', [[{}, s.main_event_loop_delay_p99_us / 1e6]]);
  return `${out.join('\n')}\n`;
}
