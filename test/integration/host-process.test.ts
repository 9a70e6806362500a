/**
 * Embedded in a host process, the engine changes nothing global: undici's global dispatcher and
 * `globalThis.fetch` stay the host's, nothing is written to stdout, and worker threads log
 * through the logger the host passed. The pooled clients' REST calls still go through their
 * own bounded socket pool.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { getGlobalDispatcher } from 'undici';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { createExecutor, type Executor } from '../../src/engine/executor.ts';
import { MemoryLogger } from '../../src/log.ts';
import { createPool, type WeaviatePool } from '../../src/pool/create.ts';
import { restDispatcher } from '../../src/weaviate/rest-sockets.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
const origin = `http://${target.host}:${target.httpPort}`;
const tasks = new URL('../fixtures/tasks.ts', import.meta.url);
/** Node's built-in fetch keeps its dispatcher here (undici's global dispatcher symbol). */
const NODE_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

function globals() {
  return {
    dispatcher: getGlobalDispatcher(),
    nodeDispatcher: (globalThis as Record<symbol, unknown>)[NODE_DISPATCHER],
    fetch: globalThis.fetch,
  };
}

let pool: WeaviatePool | undefined;
let engine: Executor | undefined;
afterEach(async () => {
  await pool?.close();
  await engine?.close();
  pool = undefined;
  engine = undefined;
});

describe('no surprises in the host process', () => {
  it('createPool() leaves the global dispatcher and fetch alone, yet its clients send REST through their bounded pool', async () => {
    const before = globals();
    pool = await createPool({ weaviate: target, minConnections: 1, maxConnections: 2, restMaxSockets: 1 }, {});
    expect(globals()).toEqual(before);
    const rest = restDispatcher(origin);
    expect(rest).toBeDefined();
    // REST calls (getMeta is GET /v1/meta) by several callers at once.
    const versions = await Promise.all(
      Array.from({ length: 6 }, () => pool!.withConnection(async (client) => (await client.getMeta()).version, { timeoutMs: 10_000 })),
    );
    expect(new Set(versions).size).toBe(1);
    expect(versions[0]).toMatch(/^1\./);
    expect(rest!.stats.connected).toBe(1); // the bound: one socket, whatever the concurrency
    expect(globals()).toEqual(before);
    await pool.close();
    pool = undefined;
    expect(restDispatcher(origin)).toBeUndefined();
    expect(globals()).toEqual(before);
  });

  it('createExecutor() with workers leaves the globals alone and routes worker logs to the host logger', async () => {
    const before = globals();
    const logger = new MemoryLogger();
    {
      engine = await createExecutor(
        // A lease held past the leak threshold makes the worker's pool warn.
        { weaviate: target, workers: 1, minConnections: 1, maxConnections: 2, taskModule: tasks, leakDetectionThresholdMs: 100, logger },
        {},
      );
      expect(globals()).toEqual(before);
      await engine.run('sleep', { ms: 400 });
      const hits = await engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 2 }, { lane: 'critical' });
      expect(hits.objects).toHaveLength(2);
      await engine.close();
    }
    expect(globals()).toEqual(before);
    const fromWorker = logger.lines.filter((l) => typeof (l.obj as { worker?: unknown }).worker === 'number');
    expect(fromWorker.map((l) => l.level)).toContain('warn');
    expect(logger.messages('info')).toContain('executor started');
  });

  it('without a logger or logLevel nothing reaches file descriptor 1 (workers included), even when the pool warns', async () => {
    const child = spawnSync(process.execPath, [fileURLToPath(new URL('../fixtures/silent-host.ts', import.meta.url))], {
      env: { ...process.env, LOG_LEVEL: 'debug', WEX_TEST_HOST: target.host, WEX_TEST_PORT: String(target.httpPort), WEX_TEST_GRPC_PORT: String(target.grpcPort) },
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(child.stderr).toContain('done 2');
    expect(child.status).toBe(0);
    expect(child.stdout).toBe('');
  });
});
