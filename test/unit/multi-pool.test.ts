/** One pool per node (src/cluster/multi-pool.ts) with scripted nodes and a manual clock. */
import { describe, expect, it } from 'vitest';
import { resolvePoolConfig } from '../../src/pool/config.ts';
import type { Lease } from '../../src/pool/types.ts';
import { flush } from '../support/fake-clock.ts';
import type { FakeClient } from '../support/scripted-factory.ts';
import { nodeOf, scriptedCluster } from '../support/scripted-cluster.ts';

function setup({ downAtStart = [] as number[], balancing = 'least-loaded' as 'least-loaded' | 'round-robin' } = {}) {
  return scriptedCluster({
    minConnections: 1, maxConnections: 2, maxStreamsPerConnection: 1, acquireTimeoutMs: 5000, reconnectBaseMs: 50, reconnectMaxMs: 200,
    balancing,
    outlierDetection: { consecutiveFailures: 2, baseEjectionMs: 1000, maxEjectionMs: 5000 },
  }, { seed: 3, downAtStart });
}

describe('MultiNodePool', () => {
  it('spreads concurrent leases over the nodes (each node its own pool, up to its max)', async () => {
    const { pool } = setup();
    await pool.start();
    const leases = await Promise.all(Array.from({ length: 6 }, () => pool.acquire()));
    const perNode = [0, 0, 0];
    for (const l of leases) perNode[nodeOf(l)]!++;
    expect(perNode).toEqual([2, 2, 2]);
    expect(pool.stats()).toMatchObject({ total_connections: 6, active_leases: 6, max_connections: 6 });
    for (const l of leases) l.release();
    await pool.close();
  });

  it('a node that goes down: its waiters move to other nodes, it is ejected, then readmitted after a successful probe', async () => {
    const { pool, factories, clock } = setup();
    await pool.start();
    // Node b's server dies: its connection is lost and every new open fails.
    factories[1]!.down = true;
    for (const t of factories[1]!.open) t.lose('socket lost');
    await flush();
    const leases: Lease<FakeClient>[] = [];
    for (let i = 0; i < 20; i++) {
      const lease = await pool.acquire({ timeoutMs: 3000 });
      leases.push(lease);
      lease.release();
      await clock.advance(10);
    }
    expect(pool.nodeStats()[1]).toMatchObject({ health: 'ejected', total_ejections: 1 });
    expect(leases.some((l) => nodeOf(l) === 1)).toBe(false);
    // Its time is up but it is still down: the probe fails, ejected again (longer).
    await clock.advance(1500);
    expect(pool.nodeStats()[1]!.total_ejections).toBe(2);
    // Back up: its pool reopens to min, the next probe readmits it, and it takes leases again.
    factories[1]!.down = false;
    await clock.advance(2500);
    expect(pool.nodeStats()[1]).toMatchObject({ health: 'healthy', unreachable: false });
    expect(pool.nodeStats()[1]!.pool!.total_connections).toBeGreaterThanOrEqual(1);
    const again = await Promise.all(Array.from({ length: 6 }, () => pool.acquire()));
    expect(again.some((l) => nodeOf(l) === 1)).toBe(true);
    for (const l of again) l.release();
    await pool.close();
  });

  it('transport failures under leases count towards ejection; a clean lease resets the count', async () => {
    const { pool } = setup();
    await pool.start();
    const onB = async () => {
      for (let i = 0; i < 200; i++) {
        const l = await pool.acquire();
        if (nodeOf(l) === 1) return l;
        l.release();
      }
      throw new Error('node b was never chosen in 200 acquires');
    };
    const first = await onB();
    (first as unknown as { markSuspect(): void }).markSuspect();
    first.release();
    expect(pool.nodeStats()[1]!.consecutive_failures).toBe(1);
    const clean = await onB();
    clean.release();
    expect(pool.nodeStats()[1]!.consecutive_failures).toBe(0);
    await pool.close();
  });

  it("balancing 'round-robin' (the bench's comparison) takes the nodes in turn, blind to load", async () => {
    const { pool } = setup({ balancing: 'round-robin' });
    await pool.start();
    const order: number[] = [];
    for (let i = 0; i < 6; i++) {
      const lease = await pool.acquire();
      order.push(nodeOf(lease));
      lease.release();
    }
    expect(order).toEqual([0, 1, 2, 0, 1, 2]);
    await pool.close();
    expect(() => resolvePoolConfig({ balancing: 'random' as never }, {})).toThrow(/`balancing`/);
  });

  it('starts with a node down (ejected, probed later); fails typed only when no node is reachable', async () => {
    const one = setup({ downAtStart: [2] });
    await one.pool.start();
    expect(one.pool.nodeStats().map((n) => n.health)).toEqual(['healthy', 'healthy', 'ejected']);
    one.factories[2]!.down = false;
    await one.clock.advance(1100);
    expect(one.pool.nodeStats()[2]!.health).toBe('healthy');
    await one.pool.close();

    const all = setup({ downAtStart: [0, 1, 2] });
    await expect(all.pool.start()).rejects.toMatchObject({ code: 'WEX_CONNECT_FAILED' });
  });
});

describe('node list configuration', () => {
  it('WEAVIATE_NODES or the option; the first node is the target; one node stays the one-node case', () => {
    const t = resolvePoolConfig({}, { WEAVIATE_NODES: '10.0.0.1:8080:50051, 10.0.0.2:8081:50052,[::1]:8082:50053' }).weaviate;
    expect(t.nodes).toEqual([
      { host: '10.0.0.1', httpPort: 8080, grpcPort: 50051 },
      { host: '10.0.0.2', httpPort: 8081, grpcPort: 50052 },
      { host: '::1', httpPort: 8082, grpcPort: 50053 },
    ]);
    expect(t).toMatchObject({ host: '10.0.0.1', httpPort: 8080, grpcHost: '10.0.0.1', grpcPort: 50051 });
    const one = resolvePoolConfig({ weaviate: { nodes: [{ host: 'h', httpPort: 1, grpcPort: 2 }] } }, {}).weaviate;
    expect(one.nodes).toBeUndefined();
    expect(one).toMatchObject({ host: 'h', httpPort: 1, grpcPort: 2 });
    // Cluster names (for /v1/nodes) in either form.
    const named = resolvePoolConfig({}, { WEAVIATE_NODES: 'n1=10.0.0.1:8080:50051,n2=[::1]:8081:50052,10.0.0.3:8082:50053' }).weaviate;
    expect(named.nodes).toEqual([
      { host: '10.0.0.1', httpPort: 8080, grpcPort: 50051, name: 'n1' },
      { host: '::1', httpPort: 8081, grpcPort: 50052, name: 'n2' },
      { host: '10.0.0.3', httpPort: 8082, grpcPort: 50053 },
    ]);
    const opt = resolvePoolConfig({ weaviate: { nodes: [{ host: 'a', httpPort: 1, grpcPort: 2, name: 'n1' }, 'n2=b:1:2'] } }, {}).weaviate;
    expect(opt.nodes!.map((n) => n.name)).toEqual(['n1', 'n2']);
  });

  it('names what is wrong', () => {
    expect(() => resolvePoolConfig({}, { WEAVIATE_NODES: 'a:1' })).toThrow(/`WEAVIATE_NODES` to be a comma-separated list of \[name=\]host:httpPort:grpcPort/);
    expect(() => resolvePoolConfig({}, { WEAVIATE_NODES: 'a:1:2,a:1:2' })).toThrow(/listed twice/);
    expect(() => resolvePoolConfig({ weaviate: { nodes: [{ host: 'a', httpPort: 0, grpcPort: 2 }] } }, {})).toThrow(/`weaviate\.nodes\[0\]\.httpPort`/);
    expect(() => resolvePoolConfig({ outlierDetection: { baseEjectionMs: 10, maxEjectionMs: 5 } }, {})).toThrow(/baseEjectionMs/);
    expect(() => resolvePoolConfig({ outlierDetection: { consecutive: 3 } as never }, {})).toThrow(/Unknown option `outlierDetection\.consecutive`/);
  });
});
