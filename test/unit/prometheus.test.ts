/** The prom-client metrics from a scripted source: histograms fed by request events, the rest from one snapshot per scrape. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { RequestEvent } from '../../src/engine/executor.ts';
import type { EngineStats } from '../../src/engine/stats.ts';
import { LATENCY_BUCKETS_SECONDS, registerExecutorMetrics } from '../../src/metrics/prometheus.ts';

function source() {
  const listeners = new Set<(e: RequestEvent) => void>();
  let statsCalls = 0;
  const stats = {
    current_active: 1, current_idle: 2, max_connections: 4, worker_count: 2, total_connections_created: 5, total_connections_closed: 2,
    health_check_failures: 0, main_event_loop_delay_p99_us: 1500,
    lanes: {
      critical: { name: 'critical', queued: 0, in_flight: 1, completed: 10, failed: 1, shed: 0, rejected_full: 0, aborted: 0, adaptive: null },
      // An adaptive lane with the tail guard (it protects critical) whose guard has decided.
      normal: {
        name: 'normal', queued: 5, in_flight: 2, completed: 40, failed: 0, shed: 0, rejected_full: 0, aborted: 0,
        adaptive: {
          limit: 2, estimate: 2.625, min_limit: 1, max_limit: 8, short_rtt_ms: 3.5, long_rtt_ms: 2.75, gradient: 0.982, windows: 30, app_limited_windows: 2,
          changes: 7, probing: false, no_load_rtt_ms: 2.25, probes: 1, guard_tail_ms: 31.5, guard_base_ms: 18, guard_target_ms: 22.5, guard_ceiling: 2.25,
          guard_decisions: 9, guard_cuts: 3, guard_retry_in_ms: 2500, recent_changes: [],
        },
      },
      // Adaptive, guard on, before its first window and probe: its null figures are left out.
      bulk: {
        name: 'bulk', queued: 0, in_flight: 1, completed: 0, failed: 0, shed: 0, rejected_full: 0, aborted: 0,
        adaptive: {
          limit: 1, estimate: 2, min_limit: 1, max_limit: 8, short_rtt_ms: null, long_rtt_ms: null, gradient: 1, windows: 0, app_limited_windows: 0,
          changes: 0, probing: true, no_load_rtt_ms: null, probes: 0, guard_tail_ms: null, guard_base_ms: null, guard_target_ms: null, guard_ceiling: 8,
          guard_decisions: 0, guard_cuts: 0, recent_changes: [],
        },
      },
    },
    workers: [{ thread_id: 3, event_loop_delay_p99_us: 2000 }],
    counters: { errors_by_code: { WEX_DEADLINE_EXCEEDED: 1 }, retries: 0, worker_crashes: 0, validation_errors: 2 },
  } as unknown as EngineStats;
  return {
    emit: (e: RequestEvent) => listeners.forEach((l) => l(e)),
    get statsCalls() {
      return statsCalls;
    },
    listeners,
    executor: {
      stats: async () => {
        statsCalls++;
        return stats;
      },
      onRequest: (l: (e: RequestEvent) => void) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    },
  };
}

describe('prometheus metrics', () => {
  it('observes each request once in histograms with the documented buckets, reads gauges and counters from one snapshot', async () => {
    const registry = new Registry();
    const s = source();
    const metrics = registerExecutorMetrics(s.executor, { registry });
    s.emit({ kind: 'query', lane: 'critical', outcome: 'ok', totalMs: 3, queueWaitMs: 0.5, connectionWaitMs: 0.2, executionMs: 2 });
    s.emit({ kind: 'task', lane: 'critical', outcome: 'WEX_DEADLINE_EXCEEDED', totalMs: 40, queueWaitMs: 39, connectionWaitMs: undefined, executionMs: undefined });
    const text = await registry.metrics();
    expect(s.statsCalls).toBe(1); // one snapshot for the whole scrape
    const buckets = [...text.matchAll(/weaviate_executor_request_duration_seconds_bucket\{le="([^"]+)",lane="critical",kind="query",outcome="ok"\}/g)].map((m) => m[1]);
    expect(buckets).toEqual([...LATENCY_BUCKETS_SECONDS.map(String), '+Inf']);
    expect(text).toContain('weaviate_executor_request_duration_seconds_bucket{le="0.005",lane="critical",kind="query",outcome="ok"} 1');
    expect(text).toContain('weaviate_executor_request_duration_seconds_bucket{le="0.025",lane="critical",kind="task",outcome="WEX_DEADLINE_EXCEEDED"} 0');
    expect(text).toContain('weaviate_executor_execution_seconds_count{lane="critical"} 1');
    expect(text).toContain('weaviate_executor_connections{state="idle"} 2');
    expect(text).toContain('weaviate_executor_requests_total{lane="critical",outcome="completed"} 10');
    expect(text).toContain('weaviate_executor_errors_total{code="WEX_DEADLINE_EXCEEDED"} 1');
    expect(text).toContain('weaviate_executor_worker_event_loop_delay_p99_seconds{worker="3"} 0.002');
    // The adaptive limit, its inputs and its tail guard; null figures omitted, not shown as 0.
    const series = (name: string) => text.split('\n').filter((l) => l.startsWith(`weaviate_executor_${name}{`) || l.startsWith(`weaviate_executor_${name} `));
    expect(series('lane_adaptive_limit')).toEqual(['weaviate_executor_lane_adaptive_limit{lane="normal"} 2', 'weaviate_executor_lane_adaptive_limit{lane="bulk"} 1']);
    expect(series('lane_adaptive_estimate')).toEqual(['weaviate_executor_lane_adaptive_estimate{lane="normal"} 2.625', 'weaviate_executor_lane_adaptive_estimate{lane="bulk"} 2']);
    expect(series('lane_adaptive_rtt_seconds')).toEqual([
      'weaviate_executor_lane_adaptive_rtt_seconds{lane="normal",window="short"} 0.0035',
      'weaviate_executor_lane_adaptive_rtt_seconds{lane="normal",window="long"} 0.00275',
      'weaviate_executor_lane_adaptive_rtt_seconds{lane="normal",window="no_load"} 0.00225',
    ]);
    expect(series('lane_adaptive_gradient')).toContain('weaviate_executor_lane_adaptive_gradient{lane="normal"} 0.982');
    expect(series('lane_adaptive_probing')).toEqual(['weaviate_executor_lane_adaptive_probing{lane="normal"} 0', 'weaviate_executor_lane_adaptive_probing{lane="bulk"} 1']);
    expect(series('lane_adaptive_limit_changes_total')).toContain('weaviate_executor_lane_adaptive_limit_changes_total{lane="normal"} 7');
    expect(series('lane_adaptive_probes_total')).toContain('weaviate_executor_lane_adaptive_probes_total{lane="normal"} 1');
    expect(series('lane_adaptive_guard_tail_seconds')).toEqual(['weaviate_executor_lane_adaptive_guard_tail_seconds{lane="normal"} 0.0315']);
    expect(series('lane_adaptive_guard_base_seconds')).toEqual(['weaviate_executor_lane_adaptive_guard_base_seconds{lane="normal"} 0.018']);
    expect(series('lane_adaptive_guard_target_seconds')).toEqual(['weaviate_executor_lane_adaptive_guard_target_seconds{lane="normal"} 0.0225']);
    expect(series('lane_adaptive_guard_ceiling')).toEqual(['weaviate_executor_lane_adaptive_guard_ceiling{lane="normal"} 2.25', 'weaviate_executor_lane_adaptive_guard_ceiling{lane="bulk"} 8']);
    expect(series('lane_adaptive_guard_decisions_total')).toContain('weaviate_executor_lane_adaptive_guard_decisions_total{lane="normal"} 9');
    expect(series('lane_adaptive_guard_cuts_total')).toContain('weaviate_executor_lane_adaptive_guard_cuts_total{lane="normal"} 3');
    expect(series('lane_adaptive_guard_retry_in_seconds')).toContain('weaviate_executor_lane_adaptive_guard_retry_in_seconds{lane="normal"} 2.5');
    expect(text).not.toMatch(/lane_adaptive_[a-z_]+\{lane="critical"/); // no adaptive limit: no series
    expect(text).toContain('# TYPE weaviate_executor_lane_adaptive_guard_ceiling gauge');
    expect(text).toContain('# TYPE weaviate_executor_lane_adaptive_guard_cuts_total counter');
    expect(text).toMatch(/# HELP weaviate_executor_lane_adaptive_guard_tail_seconds .+/);
    metrics.unregister();
    expect(s.listeners.size).toBe(0);
    expect(await registry.metrics()).toBe('\n');
  });
});
