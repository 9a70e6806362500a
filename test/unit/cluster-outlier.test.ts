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

  describe('success rate and failure percentage, per interval (Envoy)', () => {
    /** `ok` successes and `bad` failures on a node, the failures spread so none makes a run of consecutive ones. */
    const feed = (d: OutlierDetector, node: number, ok: number, bad: number) => {
      const total = ok + bad;
      for (let i = 0; i < total; i++) {
        if (Math.floor(((i + 1) * bad) / total) > Math.floor((i * bad) / total)) d.onFailure(node);
        else d.onSuccess(node);
      }
    };
    const five = (over: Partial<typeof OUTLIER_DEFAULTS> = {}) =>
      make(5, { consecutiveFailures: 1000, intervalMs: 10_000, successRateRequestVolume: 100, maxEjectionPercent: 40, failurePercentageThreshold: 0, ...over });

    it('ejects a node whose success rate is below mean - 1.9 x stdev, only at the interval\'s end', () => {
      const { d, advance, events } = five();
      for (const n of [0, 1, 2, 3]) feed(d, n, 198, 2); // 99 %
      feed(d, 4, 140, 60); // 70 %
      advance(9_999);
      expect(d.evaluate()).toEqual([]); // the interval is not over
      advance(1);
      expect(d.evaluate()).toEqual([4]);
      expect(d.state(4).health).toBe('ejected');
      expect(events.at(-1)!.reason).toMatch(/^success rate 70\.0 % over 200 requests in 10\.0 s$/);
      // Counters restart: the next interval with no requests judges nobody.
      advance(10_000);
      expect(d.evaluate()).toEqual([]);
    });

    it('judges nobody with too few nodes having enough requests, and nodes with too few requests are not judged', () => {
      const { d, advance } = five();
      for (const n of [0, 1, 2]) feed(d, n, 200, 0);
      feed(d, 3, 30, 40); // bad, but only 70 requests: not judged
      feed(d, 4, 100, 100);
      advance(10_000);
      // 4 nodes with >= 100 requests < minimum hosts 5: no success-rate verdict at all.
      expect(d.evaluate()).toEqual([]);
      expect(d.state(4).health).toBe('healthy');
    });

    it('with 3 nodes the stdev rule cannot fire at factor 1.9 (at most 1.15 stdevs below the mean), the failure percentage does', () => {
      const { d, advance } = make(3, { consecutiveFailures: 1000, intervalMs: 1000, successRateRequestVolume: 50, successRateMinimumHosts: 3, failurePercentageThreshold: 0 });
      feed(d, 0, 100, 0);
      feed(d, 1, 100, 0);
      feed(d, 2, 5, 95);
      advance(1000);
      expect(d.evaluate()).toEqual([]);
      const f = make(3, { consecutiveFailures: 1000, intervalMs: 1000, successRateRequestVolume: 50, failurePercentageThreshold: 85 });
      feed(f.d, 0, 100, 0);
      feed(f.d, 1, 100, 0);
      feed(f.d, 2, 10, 90);
      f.advance(1000);
      expect(f.d.evaluate()).toEqual([2]);
      expect(f.events.at(-1)!.reason).toContain('success rate 10.0 %');
    });

    it('a lower factor ejects the outlier of 3, and the share caps verdicts (the worst goes first)', () => {
      const { d, advance } = make(3, { consecutiveFailures: 1000, intervalMs: 1000, successRateRequestVolume: 50, successRateMinimumHosts: 3, successRateStdevFactor: 1, failurePercentageThreshold: 50 });
      feed(d, 0, 100, 0);
      feed(d, 1, 40, 60); // 40 %
      feed(d, 2, 20, 80); // 20 %: the worst
      advance(1000);
      // Both fail the failure percentage; 10 % of 3 nodes is one ejection at most: the worst.
      expect(d.evaluate()).toEqual([2]);
      expect(d.state(1).health).toBe('healthy');
    });
  });

  describe('cluster status (/v1/nodes) as the second input', () => {
    it('a node the cluster reports not HEALTHY is ejected, within the share; HEALTHY changes nothing', () => {
      const { d, events } = make(3);
      d.onClusterStatus(0, true, 'HEALTHY');
      expect(d.state(0)).toMatchObject({ health: 'healthy', clusterHealthy: true });
      d.onClusterStatus(1, false, 'status UNHEALTHY');
      expect(d.state(1)).toMatchObject({ health: 'ejected', clusterHealthy: false });
      expect(events.at(-1)!.reason).toBe('/v1/nodes: status UNHEALTHY');
      d.onClusterStatus(2, false, 'UNAVAILABLE');
      expect(d.state(2).health).toBe('healthy'); // one of three is out already
      expect(d.state(2).clusterHealthy).toBe(false);
    });
  });
});
