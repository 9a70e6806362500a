/**
 * resize() against real workers and sockets: a resize that comes while a replacement worker is
 * still opening its sub-pool must not open a second one (sockets counted at the OS).
 */
import { describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
import { silentLogger } from '../../src/log.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { rejectionOf } from '../support/rejection.ts';
import { ToxicProxy } from '../support/toxic-proxy.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);

describe('resize with real workers', () => {
  it('resize() while a replacement worker is opening its connections opens no second sub-pool (sockets at the OS = total)', async () => {
    // A slow network between the engine and Weaviate keeps the replacement's open under way.
    const proxy = new ToxicProxy(target.host!, target.grpcPort!);
    const port = await proxy.start();
    try {
      await using engine = await createExecutor(
        {
          weaviate: { ...target, grpcPort: port }, workers: 2, minConnections: 2, maxConnections: 4, connectTimeoutMs: 10_000,
          taskModule: tasks, logger: silentLogger, workerLogLevel: 'silent',
        },
        {},
      );
      const sockets = () => countEstablished(port);
      await waitFor(async () => sockets() === (await engine.stats()).total_connections, { what: 'sockets = total at start' });
      proxy.latencyMs = 300;
      expect((await rejectionOf(engine.run('exit'))).code).toBe('WEX_WORKER_CRASHED');
      // The replacement registered and is opening its sub-pool (not ready yet).
      await waitFor(async () => {
        const s = await engine.stats();
        return s.worker_count === 2 && s.workers.some((w) => !w.ready);
      }, { timeoutMs: 10_000, intervalMs: 10, what: 'a replacement worker opening its connections' });
      await engine.resize({ min: 4, max: 6 });
      proxy.latencyMs = 0;
      await waitFor(async () => (await engine.stats()).workers.every((w) => w.ready), { timeoutMs: 15_000, what: 'replacement ready' });
      let last = '';
      await waitFor(async () => {
        const s = await engine.stats();
        last = `sockets ${sockets()}, total ${s.total_connections}, per worker ${s.workers.map((w) => w.pool?.total_connections).join('+')}`;
        return s.total_connections >= 4 && sockets() === s.total_connections;
      }, { timeoutMs: 10_000, what: 'sockets at the OS = total_connections' }).catch((e: Error) => {
        throw new Error(`${e.message}: ${last}`);
      });
      const s = await engine.stats();
      expect(s.workers.map((w) => w.pool!.max_connections).sort()).toEqual([3, 3]);
      expect(s.total_connections).toBeLessThanOrEqual(6);
    } finally {
      proxy.latencyMs = 0;
      await proxy.close();
    }
  });
});
