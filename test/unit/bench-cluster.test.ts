/**
 * bench/cluster.ts: the contender ids it records. A report's rows are keyed by scenario, cell and
 * contender id (bench/report.ts `aggregate`), so one id must name one setup, and `--contenders`
 * must name each of part B's variants at most once.
 */
import { describe, expect, it } from 'vitest';
import { SLOW_NODE_VARIANTS, clusterEngineName, parseContenders } from '../../bench/cluster.ts';

describe('bench:cluster contender ids', () => {
  it("part B's variants have distinct ids, and --contenders takes each of them at most once", () => {
    const ids = SLOW_NODE_VARIANTS.map((v) => v.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(SLOW_NODE_VARIANTS.map((v) => v.label)).size).toBe(ids.length);
    expect(parseContenders(undefined)).toBeUndefined();
    expect(parseContenders(' least-loaded , round-robin+node-limit,')).toEqual(['least-loaded', 'round-robin+node-limit']);
    expect(parseContenders(ids.join(','))).toEqual(ids);
    expect(() => parseContenders('least-loaded,least-loaded')).toThrow(/distinct ids among least-loaded, least-loaded\+node-limit, .*; got `least-loaded,least-loaded` \(repeated: least-loaded\)/);
    expect(() => parseContenders('least-loaded,p2c')).toThrow(/\(unknown: p2c\)/);
    expect(() => parseContenders(' , ')).toThrow(/\(none given\)/);
  });

  it("part A's cluster engines: the id says workers, connections and consistency, and one id has one label", () => {
    const names = [1, 2].flatMap((w) => [8, 2].flatMap((c) => (['ONE', 'QUORUM'] as const).map((level) => clusterEngineName(w, c, level))));
    expect(new Set(names.map((n) => n.id)).size).toBe(names.length);
    expect(new Set(names.map((n) => n.label)).size).toBe(names.length);
    expect(clusterEngineName(2, 8, 'ONE')).toEqual({ id: '3-node-engine-2w-8c-ONE', label: 'engine, 2 workers, 3 nodes, 8 connections per node, consistency ONE' });
    expect(clusterEngineName(1, 8, 'QUORUM').label).toBe('engine, 1 worker, 3 nodes, 8 connections per node, consistency QUORUM');
    // No id of part A is one of part B's.
    expect(names.some((n) => SLOW_NODE_VARIANTS.some((v) => v.id === n.id))).toBe(false);
  });
});
