/**
 * The CLI's readable stats: the limit column says which limit is in force and where it comes from;
 * several Weaviate nodes get a section of their own, merged over workers as the metrics merge them.
 */
import { describe, expect, it } from 'vitest';
import { adaptiveLines, formatStats, laneLimit, nodeLines } from '../../src/cli/format-stats.ts';
import type { NodeStats } from '../../src/cluster/multi-pool.ts';
import { mergeNodeLimit, mergeNodes } from '../../src/stats/nodes.ts';
import type { AdaptiveLimitSnapshot } from '../../src/engine/adaptive-limit.ts';
import type { EngineStats } from '../../src/engine/stats.ts';
import type { LaneStats } from '../../src/engine/scheduler.ts';

const lane = (over: Partial<LaneStats>): LaneStats => ({ max_concurrency: null, slot_cap: null, adaptive: null, ...over }) as LaneStats;
const adaptive = (limit: number) => ({ limit }) as NonNullable<LaneStats['adaptive']>;

describe('laneLimit', () => {
  it('is the smallest of the static cap, the dedicated workers cap and the adaptive limit, with its source', () => {
    expect(laneLimit(lane({}))).toBe('-');
    expect(laneLimit(lane({ max_concurrency: 4 }))).toBe('4 cap');
    expect(laneLimit(lane({ max_concurrency: 4, slot_cap: 2 }))).toBe('2 workers');
    expect(laneLimit(lane({ max_concurrency: 4, adaptive: adaptive(3) }))).toBe('3 adaptive');
    expect(laneLimit(lane({ max_concurrency: 2, adaptive: adaptive(3) }))).toBe('2 cap');
  });
});

const snapshot = (over: Partial<AdaptiveLimitSnapshot> = {}): AdaptiveLimitSnapshot => ({
  limit: 2, estimate: 2.625, min_limit: 1, max_limit: 8, short_rtt_ms: 3.5, long_rtt_ms: 2.75, gradient: 0.982, windows: 30, app_limited_windows: 2,
  changes: 7, probing: false, no_load_rtt_ms: 2.25, probes: 1, recent_changes: [{ at_ms: 5000, from: 3, to: 2, short_rtt_ms: 3.5, long_rtt_ms: 2.75, gradient: 0.98, reason: 'guard' }],
  ...over,
});
const guard = { guard_tail_ms: 31.5, guard_base_ms: 18, guard_target_ms: 22.5, guard_ceiling: 2.25, guard_decisions: 9, guard_cuts: 3 };

const latency = { count: 0, mean_us: 0, p50_us: 0, p90_us: 0, p99_us: 0, p999_us: 0, max_us: 0 };
const laneStats = (name: string, adaptive: AdaptiveLimitSnapshot | null) => ({
  name, queued: 0, in_flight: 0, completed: 0, failed: 0, shed: 0, rejected_full: 0, aborted: 0, max_concurrency: null, slot_cap: null, adaptive, end_to_end: latency,
});
/** A whole stats snapshot (docs/stats.md) with these lanes and workers. */
const engineStats = (lanes: Record<string, ReturnType<typeof laneStats>>, workers: unknown[]): EngineStats => ({
  mode: 'workers', worker_count: workers.length, total_connections: 2, current_active: 0, current_idle: 2, min_connections: 1, max_connections: 2, slots: 8, total_requests: 0,
  avg_wait_time: 0, main_event_loop_delay_p99_us: 1000,
  counters: { completed: 0, failed: 0, shed: 0, rejected_full: 0, aborted: 0, validation_errors: 0, errors_by_code: {} },
  lanes, workers,
}) as unknown as EngineStats;

describe('adaptiveLines', () => {
  it('shows the limit, its estimate, every RTT input, gradient, changes and probes', () => {
    expect(adaptiveLines('normal', snapshot())).toEqual([
      'normal: limit 2 (1..8, estimate 2.63), RTT short 3.5 / long 2.8 / no-load 2.3 ms, gradient 0.98, 7 change(s), last 3 -> 2 (guard), 1 probe(s)',
    ]);
    expect(adaptiveLines('normal', snapshot({ probing: true, short_rtt_ms: null, long_rtt_ms: null, no_load_rtt_ms: null, recent_changes: [] }))[0])
      .toBe('normal: limit 2 (1..8, estimate 2.63), probing, RTT short - / long - / no-load - ms, gradient 0.98, 7 change(s), 1 probe(s)');
  });

  it('with the tail guard, a second line: protected p99 against its target and base, the ceiling, decisions and cuts', () => {
    expect(adaptiveLines('normal', snapshot(guard))[1]).toBe('  tail guard: protected p99 31.5 ms vs target 22.5 ms (base 18.0 ms), ceiling 2.25 slots, 9 decision(s), 3 cut(s)');
    // Before its first probe and decision: no figures yet, shown as '-'.
    expect(adaptiveLines('bulk', snapshot({ guard_tail_ms: null, guard_base_ms: null, guard_target_ms: null, guard_ceiling: 8, guard_decisions: 0, guard_cuts: 0 }))[1])
      .toBe('  tail guard: protected p99 - ms vs target - ms (base - ms), ceiling 8.00 slots, 0 decision(s), 0 cut(s)');
  });

  it('is part of the stats page, under Adaptive limits', () => {
    const text = formatStats(engineStats({ critical: laneStats('critical', null), normal: laneStats('normal', snapshot(guard)) }, []));
    expect(text).toContain('Adaptive limits\n  normal: limit 2 (1..8, estimate 2.63)');
    expect(text).toContain('\n    tail guard: protected p99 31.5 ms vs target 22.5 ms');
    expect(text).not.toMatch(/critical: limit/);
  });
});

/** One node as one worker reports it (workers[].pool.nodes[]), healthy with 2 connections unless told. */
const nodeStats = (node: string, over: Partial<NodeStats> = {}, connections = 2): NodeStats => ({
  node, health: 'healthy', panic: false, outstanding: 0, latency_ewma_ms: null, consecutive_failures: 0, ejections: 0, total_ejections: 0,
  ejected_for_ms: 0, unreachable: false, last_reason: null, adaptive: null, slot_waiting: 0, pool: { total_connections: connections, total_requests: connections * 5 } as NodeStats['pool'], ...over,
});
const worker = (threadId: number, nodes: NodeStats[] | undefined, nodeLimit?: { waiting: number; waited: number; timeouts: number }) => ({
  thread_id: threadId, ready: true, responsive: true, in_flight: 0, completed: 0, failed: 0, event_loop_delay_p99_us: 1000,
  pool: { total_connections: 6, current_active: 0, current_idle: 6, ...(nodes ? { nodes } : {}), ...(nodeLimit ? { node_limit: nodeLimit } : {}) },
});
const nodeLimit = (limit: number, shortMs: number | null, longMs: number | null, changes: number, probing = false) =>
  snapshot({ limit, short_rtt_ms: shortMs, long_rtt_ms: longMs, changes, probing });

/** Three nodes in two workers: node b ejected in one worker (and was before), node c slow, per-node limits on. */
const twoWorkers = [
  worker(1, [
    nodeStats('10.0.0.1:50051', { outstanding: 3, latency_ewma_ms: 4, adaptive: nodeLimit(6, 4, 3, 2), slot_waiting: 2 }),
    nodeStats('10.0.0.2:50051', { health: 'ejected', ejected_for_ms: 12_400, ejections: 2, total_ejections: 2, last_reason: 'ejected: 5 consecutive failures (UNAVAILABLE)', latency_ewma_ms: null, adaptive: nodeLimit(1, null, null, 0) }, 0),
    nodeStats('10.0.0.3:50051', { outstanding: 1, latency_ewma_ms: 40, total_ejections: 1, adaptive: nodeLimit(2, 50, 30, 5, true) }),
  ], { waiting: 2, waited: 9, timeouts: 1 }),
  worker(2, [
    nodeStats('10.0.0.1:50051', { outstanding: 1, latency_ewma_ms: 6, adaptive: nodeLimit(4, 6, 5, 1) }),
    nodeStats('10.0.0.2:50051', { outstanding: 2, latency_ewma_ms: 8, total_ejections: 1, adaptive: nodeLimit(3, 8, 7, 3) }),
    nodeStats('10.0.0.3:50051', { outstanding: 2, latency_ewma_ms: 20, adaptive: nodeLimit(2, 30, 20, 4), slot_waiting: 1 }),
  ], { waiting: 1, waited: 3, timeouts: 0 }),
];

describe('nodes', () => {
  it('merge per node over workers: counts, ejections and limits summed, latencies the mean of those measured, health counted per worker', () => {
    const [a, b, c] = mergeNodes(twoWorkers as EngineStats['workers']);
    expect(a).toMatchObject({ node: '10.0.0.1:50051', workers: 2, health: { healthy: 2, ejected: 0, probing: 0 }, connections: 4, outstanding: 4, latency_ewma_ms: 5, total_ejections: 0, adaptive: { limit: 10, short_rtt_ms: 5, long_rtt_ms: 4, changes: 3, probing: 0 } });
    // A worker without a latency yet does not pull the mean to 0; the reason comes from the worker where it is ejected.
    expect(b).toMatchObject({ health: { healthy: 1, ejected: 1, probing: 0 }, connections: 2, outstanding: 2, latency_ewma_ms: 8, total_ejections: 3, ejected_for_ms: 12_400, last_reason: 'ejected: 5 consecutive failures (UNAVAILABLE)', adaptive: { limit: 4, short_rtt_ms: 8, long_rtt_ms: 7 } });
    expect(c!.adaptive).toEqual({ limit: 4, short_rtt_ms: 40, long_rtt_ms: 25, changes: 9, probing: 1 });
    // Requests served summed over workers; health in words, as the CLI and the dashboard show it.
    expect([a, b, c].map((n) => n!.requests)).toEqual([20, 10, 20]);
    expect([a, b, c].map((n) => n!.state)).toEqual(['healthy', 'ejected 1/2 (12.4 s left)', 'healthy']);
    // Callers queued for each node's limit, summed over workers (the workers' node_limit.waiting: 2 and 1).
    expect([a, b, c].map((n) => n!.slot_waiting)).toEqual([2, 0, 1]);
    expect(mergeNodeLimit(twoWorkers as EngineStats['workers'])).toEqual({ waiting: 3, waited: 12, timeouts: 1 });
    expect(mergeNodeLimit([worker(1, undefined)] as EngineStats['workers'])).toBeNull();
  });

  it('the stats page has a Nodes section: one row per node (with the callers queued for its limit), why a node is out, and the callers waiting for a node below its limit', () => {
    const text = formatStats(engineStats({ critical: laneStats('critical', null) }, twoWorkers));
    const section = text.slice(text.indexOf('\nNodes'), text.indexOf('\nErrors by code'));
    expect(section.trim().split('\n')).toEqual([
      'Nodes (3; over 2 worker(s): counts and limits summed, latencies their mean, ms)',
      '  node            state                      connections  outstanding  latency EWMA  ejections      limit  slot waiting  RTT short  RTT long  limit changes',
      '  10.0.0.1:50051  healthy                              4            4           5.0          0         10             2        5.0       4.0              3',
      '  10.0.0.2:50051  ejected 1/2 (12.4 s left)            2            2           8.0          3          4             0        8.0       7.0              3',
      '  10.0.0.3:50051  healthy                              4            3          30.0          1  4 probing             1       40.0      25.0              9',
      '  10.0.0.2:50051: ejected: 5 consecutive failures (UNAVAILABLE)',
      '  Node limits (nodeAdaptive): 3 waiting for a node below its limit now, 12 waited since start, 1 timed out',
    ]);
    // It comes after the workers and before the errors.
    expect(text.indexOf('\nWorkers')).toBeLessThan(text.indexOf('\nNodes'));
  });

  it('without per-node limits: no limit columns and no waiting line; probing, unreachable and panic shown per worker', () => {
    const workers = [
      worker(1, [nodeStats('a:1', { health: 'probing', unreachable: true, panic: true, last_reason: 'probation after 30 s' }), nodeStats('b:1', { panic: true })]),
      worker(2, [nodeStats('a:1', { health: 'probing' }), nodeStats('b:1')]),
    ] as EngineStats['workers'];
    const lines = nodeLines(workers);
    expect(lines[1]).toBe('  node  state                                    connections  outstanding  latency EWMA  ejections');
    expect(lines[2]).toBe('  a:1   probing 2/2, unreachable 1/2, panic 1/2            4            0             -          0');
    expect(lines[3]).toMatch(/^ {2}b:1 {3}healthy, panic 1\/2 +4 +0 +- +0$/);
    expect(lines[4]).toBe('  a:1: probation after 30 s');
    expect(lines).toHaveLength(5);
  });

  it('one node (no nodes list in the stats): no Nodes section', () => {
    expect(nodeLines([worker(1, undefined)] as EngineStats['workers'])).toEqual([]);
    const text = formatStats(engineStats({ critical: laneStats('critical', null) }, [worker(1, undefined)]));
    expect(text).not.toContain('Nodes');
    expect(text).toContain('\nWorkers\n');
  });
});
