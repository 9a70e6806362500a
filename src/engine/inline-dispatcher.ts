/**
 * The engine on the caller's thread: one pool (or the note's legacy single connection), no
 * workers. Same task runner as the workers use.
 */
import type { WeaviateClient } from 'weaviate-client';
import { ShutdownError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { PoolConfig } from '../pool/config.ts';
import { createPool } from '../pool/create.ts';
import type { ConnectionSource } from '../pool/types.ts';
import { encode } from '../stats/histogram.ts';
import type { Dispatcher, WorkerConnections } from './dispatcher.ts';
import type { TaskMessage, TaskReply, WorkerStats } from './protocol.ts';
import { loadTaskModule } from './task-module.ts';
import { TaskRunner, type TaskModule } from './task-runner.ts';

/** The engine on the caller's thread: one pool (or the legacy single connection), no workers. */
export class InlineDispatcher implements Dispatcher {
  readonly mode: 'inline' | 'legacy';
  #pool: ConnectionSource<WeaviateClient> | undefined;
  readonly #config: Readonly<PoolConfig>;
  readonly #runner: TaskRunner;
  readonly #logger: Logger | undefined;
  #poolReady: Promise<ConnectionSource<WeaviateClient>> | undefined;

  constructor(config: Readonly<PoolConfig>, options: { taskModule: string | undefined; logger?: Logger }) {
    this.#config = config;
    this.mode = config.enabled ? 'inline' : 'legacy';
    this.#logger = options.logger;
    let tasks: Promise<TaskModule | undefined> | undefined;
    const taskModule = options.taskModule;
    this.#runner = new TaskRunner(
      () => this.#poolReady ?? Promise.reject(new ShutdownError('not started', {})),
      () => (tasks ??= taskModule ? loadTaskModule(taskModule) : Promise.resolve(undefined)),
      0,
    );
  }

  async start(): Promise<void> {
    const { weaviate, ...rest } = this.#config;
    this.#poolReady = createPool({ ...rest, weaviate: { ...weaviate }, ...(this.#logger ? { logger: this.#logger } : {}) }, {});
    this.#pool = await this.#poolReady;
  }

  dispatch(msg: TaskMessage): Promise<TaskReply> {
    return this.#runner.run(msg);
  }

  cancel(taskId: number, reason: string): void {
    this.#runner.cancel(taskId, reason);
  }

  async workerStats(): Promise<(WorkerStats & { responsive: boolean })[]> {
    return [
      {
        threadId: 0,
        index: 0,
        ready: this.#pool !== undefined,
        pool: this.#pool?.stats(),
        inFlight: this.#runner.inFlight,
        overdue: this.#runner.overdue,
        completed: this.#runner.completed,
        failed: this.#runner.failed,
        acquireWait: encode(this.#runner.acquireWait),
        execution: encode(this.#runner.execution),
        transportRetries: this.#runner.budget.retries,
        retriesRefused: this.#runner.budget.refused,
        eventLoopDelayP99Us: 0,
        eventLoopDelayMaxUs: 0,
        responsive: true,
      },
    ];
  }

  async connections(): Promise<WorkerConnections[]> {
    return [{ threadId: 0, index: 0, connections: this.#pool?.connections() ?? [] }];
  }

  async resize(min: number, max: number): Promise<void> {
    this.#pool?.resize({ min, max });
  }

  async checkNow(): Promise<{ checked: number; failed: number }> {
    return this.#pool ? this.#pool.checkNow() : { checked: 0, failed: 0 };
  }

  async close(timeoutMs: number): Promise<void> {
    await this.#pool?.close({ timeoutMs });
  }
}
