/**
 * Typed tasks, in the spirit of comlink's `Remote<T>`: the task module's own type checks the
 * names, arguments and results of `run()` on the main thread.
 *
 *   // tasks.ts (the task module; it runs in the worker threads)
 *   export default defineTasks({
 *     async countDocs(client, args: { collection: string }) { ... return n; },
 *   });
 *   // app.ts
 *   const engine = await createExecutor<typeof import('./tasks.js')>({ taskModule: new URL('./tasks.js', import.meta.url) });
 *   const n = await engine.run('countDocs', { collection: 'm_asset_schema' });   // n: number
 *
 * Named function exports work the same as the members of a `defineTasks` default export.
 */
import type { WeaviateClient } from 'weaviate-client';
import type { Executor, RequestOptions } from './executor.ts';
import type { TaskContext } from './task-runner.ts';

/** A task: runs in a worker thread with a leased client; `args` and the result cross threads by structured clone. */
export type Task<A = never, R = unknown> = (client: WeaviateClient, args: A, ctx: TaskContext) => R | Promise<R>;

/** Any task function (parameters are contravariant: `never` accepts every argument type). */
type AnyTask = (client: WeaviateClient, args: never, ctx: TaskContext) => unknown;

/**
 * Declare the tasks of a task module (`export default defineTasks({...})`). Returns its argument;
 * it exists to check each member's shape and to infer `client` and `ctx` for you.
 */
export function defineTasks<const T extends Record<string, AnyTask>>(tasks: T): T {
  return tasks;
}

type FunctionsOf<T> = { [K in keyof T as T[K] extends AnyTask ? K : never]: T[K] };

/** The tasks of a module type: its named function exports and the functions of its `default` export. */
export type TasksOf<M> = FunctionsOf<Omit<M, 'default'>> & (M extends { default: infer D } ? FunctionsOf<D> : unknown);

export type TaskName<M> = keyof TasksOf<M> & string;

export type TaskArgs<F> = F extends (client: WeaviateClient, args: infer A, ctx: TaskContext) => unknown ? A : never;

export type TaskResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/** `args` may be left out when the task accepts `undefined` (or declares no `args`). */
type RunArgs<F> = undefined extends TaskArgs<F> ? [args?: TaskArgs<F>, options?: RequestOptions] : [args: TaskArgs<F>, options?: RequestOptions];

/** An executor whose `run()` is checked against the task module type M. */
export type TypedExecutor<M> = Omit<Executor, 'run'> & {
  run<K extends TaskName<M>>(name: K, ...rest: RunArgs<TasksOf<M>[K]>): Promise<TaskResult<TasksOf<M>[K]>>;
};

/** What `createExecutor<M>()` gives: untyped tasks without M, checked ones with it. */
export type ExecutorFor<M> = [M] extends [never] ? Executor : TypedExecutor<M>;
