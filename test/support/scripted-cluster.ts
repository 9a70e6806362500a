/**
 * Three scripted Weaviate nodes behind a MultiNodePool (one ConnectionPool per node), on a manual
 * clock whose random source is seeded (mulberry32: deterministic, long period), for the
 * multi-pool's unit tests.
 */
import { MultiNodePool } from '../../src/cluster/multi-pool.ts';
import { resolvePoolConfig, type PoolOptions } from '../../src/pool/config.ts';
import { ConnectionPool } from '../../src/pool/pool.ts';
import type { Lease } from '../../src/pool/types.ts';
import { FakeClock } from './fake-clock.ts';
import { ScriptedFactory, type FakeClient } from './scripted-factory.ts';

export function scriptedCluster(options: PoolOptions, { seed = 3, downAtStart = [] as readonly number[] } = {}) {
  let state = seed;
  const clock = new FakeClock(() => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  });
  const config = resolvePoolConfig({ ...options, weaviate: { nodes: 'a:8080:50051,b:8080:50051,c:8080:50051' } }, {});
  const factories = [0, 1, 2].map(() => new ScriptedFactory(clock));
  for (const i of downAtStart) factories[i]!.down = true;
  const pool = new MultiNodePool<FakeClient>(config, {
    nodes: config.weaviate.nodes!,
    clock,
    openNode: (i) => new ConnectionPool<FakeClient>({ ...config, weaviate: { ...config.weaviate, nodes: undefined } }, { factory: factories[i]!, clock }).start(),
  });
  return { clock, factories, pool, config };
}

/** The node (0-2) a lease's connection belongs to: the ScriptedFactory numbers them per node. */
export const nodeOf = (lease: Lease<FakeClient>) => Math.floor(lease.connectionId / 1_000_000);
