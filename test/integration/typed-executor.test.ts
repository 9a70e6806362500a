/**
 * Typed tasks end to end: a defineTasks module run in worker threads through a typed executor,
 * and a wrong task module refused at start (ConfigError), before any worker starts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { createExecutor } from '../../src/engine/executor.ts';
import type { TypedExecutor } from '../../src/engine/tasks.ts';
import type * as typedTasks from '../fixtures/typed-tasks.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = sharedTarget();
let engine: TypedExecutor<typeof typedTasks> | undefined;
afterAll(() => engine?.close());

describe('typed executor (real Weaviate)', () => {
  it('runs defineTasks tasks and named exports in a worker, with checked names, args and results', async () => {
    engine = await createExecutor<typeof typedTasks>({ weaviate: target, workers: 1, minConnections: 1, maxConnections: 2, taskModule: new URL('../fixtures/typed-tasks.ts', import.meta.url) }, {});
    const count: number = await engine.run('countIn', { collection: SAMPLE_COLLECTION });
    expect(count).toBe(5000);
    expect(await engine.run('lane', undefined, { lane: 'critical' })).toBe('critical');
    expect(await engine.run('double', { n: 21 })).toBe(42);
    const hits = await engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 3 });
    expect(hits.objects).toHaveLength(3);
  });

  it('a missing task module fails createExecutor() with WEX_CONFIG_INVALID, not the first run()', async () => {
    const error = await createExecutor({ weaviate: target, workers: 1, minConnections: 1, maxConnections: 1, taskModule: 'test/fixtures/no-such-tasks.js' }, {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'WEX_CONFIG_INVALID' });
    expect(String((error as Error).message)).toContain(`${process.cwd()}/test/fixtures/no-such-tasks.js (no such file)`);
  });
});
