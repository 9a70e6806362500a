/**
 * The CLI's readable stats: the limit column says which limit is in force and where it comes from.
 */
import { describe, expect, it } from 'vitest';
import { adaptiveLines, formatStats, laneLimit } from '../../src/cli/format-stats.ts';
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
    const latency = { count: 0, mean_us: 0, p50_us: 0, p90_us: 0, p99_us: 0, p999_us: 0, max_us: 0 };
    const laneStats = (name: string, adaptive: AdaptiveLimitSnapshot | null) => ({
      name, queued: 0, in_flight: 0, completed: 0, failed: 0, shed: 0, rejected_full: 0, aborted: 0, max_concurrency: null, slot_cap: null, adaptive, end_to_end: latency,
    });
    const stats = {
      mode: 'workers', worker_count: 1, total_connections: 2, current_active: 0, current_idle: 2, min_connections: 1, max_connections: 2, slots: 8, total_requests: 0,
      avg_wait_time: 0, main_event_loop_delay_p99_us: 1000,
      counters: { completed: 0, failed: 0, shed: 0, rejected_full: 0, aborted: 0, validation_errors: 0, errors_by_code: {} },
      lanes: { critical: laneStats('critical', null), normal: laneStats('normal', snapshot(guard)) },
      workers: [],
    } as unknown as EngineStats;
    const text = formatStats(stats);
    expect(text).toContain('Adaptive limits\n  normal: limit 2 (1..8, estimate 2.63)');
    expect(text).toContain('\n    tail guard: protected p99 31.5 ms vs target 22.5 ms');
    expect(text).not.toMatch(/critical: limit/);
  });
});
