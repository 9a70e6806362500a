/**
 * The CLI's readable stats: the limit column says which limit is in force and where it comes from.
 */
import { describe, expect, it } from 'vitest';
import { laneLimit } from '../../src/cli/format-stats.ts';
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
