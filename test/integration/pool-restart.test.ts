/**
 * Kill the server under the pool (SIGKILL), watch every connection die and the sockets go,
 * then restart it and watch the pool come back to min on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeaviate, type WeaviateNode } from '../../src/launcher/node.ts';
import { MemoryLogger } from '../../src/log.ts';
import { createPool, type WeaviatePool } from '../../src/pool/create.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { waitFor } from '../support/weaviate.ts';

let node: WeaviateNode;
let pool: WeaviatePool | undefined;
beforeAll(async () => {
  node = await startWeaviate({ stopTimeoutMs: 5000 });
});
afterAll(async () => {
  await pool?.close();
  await node?.stop();
});

describe('server killed and restarted under the pool', () => {
  it('detects dead connections, fails callers with typed errors meanwhile, and is back at min after restart', async () => {
    const logger = new MemoryLogger();
    pool = await createPool({
      weaviate: node.target,
      minConnections: 3,
      maxConnections: 5,
      healthCheckIntervalMs: 1000,
      healthCheckTimeoutMs: 500,
      reconnectMaxMs: 500,
      logger,
    });
    const sockets = () => countEstablished(node.grpcPort);
    await waitFor(() => sockets() === 3, { what: '3 sockets' });
    const meta = await pool.withConnection((c) => c.collections.listAll());
    expect(Array.isArray(meta)).toBe(true);

    await node.kill('SIGKILL');
    await waitFor(() => pool!.stats().total_connections === 0, { timeoutMs: 5000, what: 'connections to be evicted' });
    const dead = pool.stats();
    expect(dead.dead_connections_detected).toBeGreaterThanOrEqual(3);
    expect(logger.messages('warn').filter((m) => m.startsWith('Dead connection detected')).length).toBeGreaterThanOrEqual(3);
    expect(sockets()).toBe(0);

    // While it is down: a caller gets a typed time-out, never silence.
    await expect(pool.acquire({ timeoutMs: 500 })).rejects.toMatchObject({
      code: 'WEX_POOL_TIMEOUT',
      message: expect.stringMatching(/^Failed to get connection within 0\.5 seconds \(total 0, active 0, idle 0/),
    });
    const s = pool.stats();
    expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);

    await node.start();
    const readyAt = Date.now();
    await waitFor(() => pool!.stats().total_connections === 3, { timeoutMs: 10_000, what: 'pool back at min' });
    const recoveryMs = Date.now() - readyAt;
    // How fast is reported, not asserted (it depends on the machine); that it comes back by itself is.
    console.log(`pool back at min ${recoveryMs} ms after the restarted server answered ready`);
    await waitFor(() => sockets() === 3, { timeoutMs: 10_000, what: 'sockets back at min' }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}: the OS shows ${sockets()} sockets, the pool ${JSON.stringify(pool!.connections().map((c) => [c.id, c.state]))}`);
    });
    const after = await pool.withConnection((c) => c.collections.listAll());
    expect(Array.isArray(after)).toBe(true);
    const final = pool.stats();
    expect(final.current_active + final.current_idle).toBe(final.total_connections);
    expect(final.total_connections_created - final.total_connections_closed).toBe(final.total_connections);
  });
});
