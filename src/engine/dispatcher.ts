/**
 * Where work runs once the scheduler lets it go: on Piscina worker threads, each owning a
 * sub-pool (WorkerDispatcher, worker-dispatcher.ts), or on the main thread with one pool
 * (InlineDispatcher, inline-dispatcher.ts: the engine without workers, and the note's legacy
 * mode with one plain connection). This file holds what both share.
 */
import type { ConnectionInfo } from '../pool/types.ts';
import type { TaskMessage, TaskReply, WorkerShare, WorkerStats } from './protocol.ts';

export interface WorkerConnections {
  threadId: number;
  index: number;
  connections: ConnectionInfo[];
}

export interface Dispatcher {
  readonly mode: 'workers' | 'inline' | 'legacy';
  start(): Promise<void>;
  /** Rejects only when the thread running the work died (WorkerCrashedError). */
  dispatch(msg: TaskMessage): Promise<TaskReply>;
  cancel(taskId: number, reason: string): void;
  /** Live workers, then (`retired: true`) the last figures of workers that are gone. */
  workerStats(): Promise<(WorkerStats & { responsive: boolean; retired?: boolean })[]>;
  connections(): Promise<WorkerConnections[]>;
  resize(min: number, max: number): Promise<void>;
  checkNow(): Promise<{ checked: number; failed: number }>;
  close(timeoutMs: number): Promise<void>;
}

/** Split the engine's min/max over n workers: worker i gets floor(x/n), plus one while remainders last. */
export function splitShares(min: number, max: number, n: number): WorkerShare[] {
  return Array.from({ length: n }, (_, index) => ({
    index,
    min: Math.floor(min / n) + (index < min % n ? 1 : 0),
    max: Math.floor(max / n) + (index < max % n ? 1 : 0),
  }));
}
