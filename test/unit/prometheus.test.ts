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
    lanes: { critical: { name: 'critical', queued: 0, in_flight: 1, completed: 10, failed: 1, shed: 0, rejected_full: 0, aborted: 0 } },
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
    metrics.unregister();
    expect(s.listeners.size).toBe(0);
    expect(await registry.metrics()).toBe('\n');
  });
});
