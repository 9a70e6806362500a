/** The node choice (src/cluster/choose.ts): power of two choices over outstanding x latency EWMA. */
import { describe, expect, it } from 'vitest';
import { chooseNode, costOf, updateEwma, type NodeLoad } from '../../src/cluster/choose.ts';

const load = (index: number, outstanding: number, latencyEwmaMs: number | undefined): NodeLoad => ({ index, outstanding, latencyEwmaMs });
/** A deterministic random source (a linear congruential generator). */
function seeded(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
}

describe('chooseNode', () => {
  it('none, one, and the cheaper of the two drawn', () => {
    expect(chooseNode([], Math.random)).toBeUndefined();
    expect(chooseNode([load(7, 100, 100)], Math.random)).toBe(7);
    // Draws 0 then 0 -> the second skips the first: candidates 0 and 1.
    expect(chooseNode([load(0, 5, 10), load(1, 0, 10)], () => 0)).toBe(1);
    expect(chooseNode([load(0, 0, 10), load(1, 5, 10)], () => 0)).toBe(0);
  });

  it('never picks the most loaded of three (two distinct draws always include a cheaper one)', () => {
    const random = seeded(42);
    const nodes = [load(0, 1, 5), load(1, 9, 5), load(2, 2, 5)];
    for (let k = 0; k < 2000; k++) expect(chooseNode(nodes, random)).not.toBe(1);
  });

  it('moves load off a slow node: equal outstanding, 10x latency -> it gets no requests among three', () => {
    const random = seeded(7);
    const counts = [0, 0, 0];
    for (let k = 0; k < 3000; k++) counts[chooseNode([load(0, 2, 5), load(1, 2, 50), load(2, 2, 5)], random)!]!++;
    expect(counts[1]).toBe(0);
    expect(Math.min(counts[0]!, counts[2]!)).toBeGreaterThan(1000); // the other two share it
  });

  it('spreads evenly over equal nodes (each of 3 gets about a third)', () => {
    const random = seeded(1);
    const counts = [0, 0, 0];
    for (let k = 0; k < 6000; k++) counts[chooseNode([load(0, 1, 5), load(1, 1, 5), load(2, 1, 5)], random)!]!++;
    for (const c of counts) expect(Math.abs(c - 2000)).toBeLessThan(300);
  });

  it('cost is (outstanding + 1) x latency; an unmeasured node borrows the lowest latency known', () => {
    expect(costOf(load(0, 3, 10), 1)).toBe(40);
    expect(costOf(load(0, 1, undefined), 3)).toBe(6);
    expect(chooseNode([load(0, 0, undefined), load(1, 0, 4)], () => 0)).toBe(0); // tie -> first drawn
  });

  it('EWMA: starts at the first sample, then moves a fifth of the way', () => {
    expect(updateEwma(undefined, 10)).toBe(10);
    expect(updateEwma(10, 20)).toBe(12);
  });
});
