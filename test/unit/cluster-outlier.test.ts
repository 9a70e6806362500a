/** Outlier ejection (src/cluster/outlier.ts) with a manual clock. */
import { describe, expect, it } from 'vitest';
import { OUTLIER_DEFAULTS, OutlierDetector, type OutlierEvent } from '../../src/cluster/outlier.ts';

function make(nodes: number, over: Partial<typeof OUTLIER_DEFAULTS> = {}) {
  let now = 0;
  const events: OutlierEvent[] = [];
  const d = new OutlierDetector(nodes, { ...OUTLIER_DEFAULTS, consecutiveFailures: 3, baseEjectionMs: 1000, maxEjectionMs: 2500, ...over }, () => now, (e) => events.push(e));
  return { d, events, advance: (ms: number) => (now += ms) };
}

describe('OutlierDetector', () => {
  it('ejects after N consecutive transport failures; a success in between resets the count', () => {
    const { d } = make(3);
    d.onFailure(1);
    d.onFailure(1);
    d.onSuccess(1);
    d.onFailure(1);
    d.onFailure(1);
    expect(d.state(1).health).toBe('healthy');
    d.onFailure(1);
    expect(d.state(1).health).toBe('ejected');
    expect(d.eligible()).toEqual({ nodes: [0, 2], panic: false });
  });

  it('readmits only after a successful probe; a failed probe ejects again for longer, capped', () => {
    const { d, advance, events } = make(3);
    for (let i = 0; i < 3; i++) d.onFailure(0);
    expect(d.state(0).ejectedUntil).toBe(1000);
    advance(999);
    expect(d.due()).toEqual([]);
    advance(1);
    expect(d.due()).toEqual([0]);
    expect(d.state(0).health).toBe('probing');
    expect(d.eligible().nodes).toEqual([1, 2]); // not used while probing
    d.onProbe(0, false, 'refused');
    expect(d.state(0)).toMatchObject({ health: 'ejected', ejections: 2, ejectedUntil: 1000 + 2000 });
    advance(2000);
    expect(d.due()).toEqual([0]);
    d.onProbe(0, false);
    expect(d.state(0).ejectedUntil).toBe(3000 + 2500); // 3 x 1000 capped at 2500
    advance(2500);
    d.due();
    d.onProbe(0, true);
    expect(d.state(0)).toMatchObject({ health: 'healthy', consecutiveFailures: 0, totalEjections: 3 });
    expect(events.map((e) => e.to)).toEqual(['ejected', 'probing', 'ejected', 'probing', 'ejected', 'probing', 'healthy']);
  });

  it('the ejection count decays while healthy, so a later ejection is short again', () => {
    const { d, advance } = make(3);
    for (let i = 0; i < 3; i++) d.onFailure(0);
    advance(1000);
    d.due();
    d.onProbe(0, true);
    expect(d.state(0).ejections).toBe(1);
    advance(2500);
    d.onSuccess(0);
    expect(d.state(0).ejections).toBe(0);
  });

  it('never ejects more than the allowed share (at least one): 10 % of 3 nodes is one', () => {
    const { d } = make(3);
    for (let i = 0; i < 3; i++) d.onFailure(0);
    for (let i = 0; i < 10; i++) d.onFailure(1);
    expect(d.state(1).health).toBe('healthy');
    expect(d.state(1).consecutiveFailures).toBe(10);
    expect(d.ejectedCount).toBe(1);
  });

  it('panic: below the healthy threshold every node is used', () => {
    const { d } = make(4, { maxEjectionPercent: 100, panicThresholdPercent: 50 });
    for (let i = 0; i < 3; i++) d.onFailure(0);
    for (let i = 0; i < 3; i++) d.onFailure(1);
    expect(d.eligible()).toEqual({ nodes: [2, 3], panic: false }); // 2 of 4 = 50 %: not below
    for (let i = 0; i < 3; i++) d.onFailure(2);
    expect(d.eligible()).toEqual({ nodes: [0, 1, 2, 3], panic: true });
  });
});
