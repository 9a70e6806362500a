/**
 * The typed API, checked by the compiler (`npm run typecheck` covers this file: a line marked
 * @ts-expect-error that stops being an error fails the type check) and the task-module loader.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Executor, ResultOf } from '../../src/engine/executor.ts';
import { loadTaskModule, tasksOf } from '../../src/engine/task-module.ts';
import type { ExecutorFor, TaskArgs, TaskName, TasksOf, TypedExecutor } from '../../src/engine/tasks.ts';
import type { InsertResult, QueryResult, QuerySpec } from '../../src/query/spec.ts';
import type * as typedTasks from '../fixtures/typed-tasks.ts';

type M = typeof typedTasks;

describe('typed API', () => {
  it('query() results follow the spec kind', () => {
    expectTypeOf<ResultOf<{ kind: 'hybrid'; collection: string; query: string }>>().toEqualTypeOf<QueryResult>();
    expectTypeOf<ResultOf<{ kind: 'insertMany'; collection: string; objects: [] }>>().toEqualTypeOf<InsertResult>();
    expectTypeOf<ResultOf<QuerySpec>>().toEqualTypeOf<QueryResult | InsertResult>();
    const query = null as unknown as Executor['query'];
    const run = async () => {
      const hits = await query({ kind: 'bm25', collection: 'c', query: 'q' });
      expectTypeOf(hits.objects).toBeArray();
      const written = await query({ kind: 'insertMany', collection: 'c', objects: [{ properties: {} }] });
      expectTypeOf(written.inserted).toBeNumber();
    };
    expect(typeof run).toBe('function');
  });

  it('run() is checked against the task module (defineTasks default export and named exports)', () => {
    expectTypeOf<TaskName<M>>().toEqualTypeOf<'countIn' | 'lane' | 'double'>();
    expectTypeOf<TaskArgs<TasksOf<M>['countIn']>>().toEqualTypeOf<{ collection: string }>();
    expectTypeOf<ExecutorFor<never>>().toEqualTypeOf<Executor>();
    const engine = null as unknown as TypedExecutor<M>;
    const calls = async () => {
      expectTypeOf(await engine.run('countIn', { collection: 'm_asset_schema' })).toEqualTypeOf<number>();
      expectTypeOf(await engine.run('lane')).toEqualTypeOf<string>();
      expectTypeOf(await engine.run('double', { n: 2 }, { lane: 'critical' })).toEqualTypeOf<number>();
      // @ts-expect-error unknown task name
      await engine.run('nope');
      // @ts-expect-error wrong argument type
      await engine.run('countIn', { collection: 1 });
      // @ts-expect-error missing required args
      await engine.run('double');
    };
    expect(typeof calls).toBe('function');
  });

  it('a task module exposes its named functions and the functions of its defineTasks default', async () => {
    const tasks = await loadTaskModule(new URL('../fixtures/typed-tasks.ts', import.meta.url).href);
    expect(Object.keys(tasks).sort()).toEqual(['countIn', 'double', 'lane']);
    expect(Object.keys(tasksOf({ default: { a: () => 1, b: 2 }, c: () => 3, d: 'x' })).sort()).toEqual(['a', 'c']);
  });

  it('a missing task module or one without tasks is a ConfigError naming the path and how relative paths resolve', async () => {
    const missing = await loadTaskModule(new URL('../fixtures/no-such-tasks.js', import.meta.url).href).catch((e: unknown) => e);
    expect(missing).toMatchObject({ code: 'WEX_CONFIG_INVALID' });
    expect(String((missing as Error).message)).toMatch(/no-such-tasks\.js \(no such file\).*resolved against the current directory/);
    const empty = await loadTaskModule('data:text/javascript,export const x = 1;').catch((e: unknown) => e);
    expect(empty).toMatchObject({ code: 'WEX_CONFIG_INVALID' });
    expect(String((empty as Error).message)).toMatch(/exports no task function/);
  });
});
