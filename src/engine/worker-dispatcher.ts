/**
 * The engine's work on Piscina worker threads: each worker owns a sub-pool (its share of the
 * engine's min/max), answers control calls on a comlink port, and is watched (stats refresh,
 * watchdog); a replacement that cannot open its connections retries with backoff.
 */
import { revealSecret } from '../secret.ts';
import * as Comlink from 'comlink';
import { Piscina } from 'piscina';
import { ConnectError, ControlTimeoutError, ShutdownError, WorkerCrashedError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { PoolConfig } from '../pool/config.ts';
import type { WorkerResourceLimits } from './config.ts';
import { groupHandler, groupOfIndex, handlerGroup, pickWorker } from './balancer.ts';
import { splitShares, type Dispatcher, type WorkerConnections } from './dispatcher.ts';
import { CONTROL_HELLO, type ControlApi, type ControlHello, type TaskMessage, type TaskReply, type WorkerData, type WorkerShare, type WorkerStats } from './protocol.ts';
import { RetiredWorkers } from './retired-workers.ts';
import { forwardLogs } from './log-port.ts';

/** Backoff of a worker's init retries: 250 ms doubling, capped at 5 s, jittered. */
const INIT_RETRY_BASE_MS = 250;
const INIT_RETRY_MAX_MS = 5000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ControlTimeoutError(`${what} did not answer within ${ms} ms`, { call: what, timeoutMs: ms })), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The worker entry next to src/ (workers/worker.ts, or .js in a compiled build). */
export function workerEntry(): URL {
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`../../workers/worker${ext}`, import.meta.url);
}

interface WorkerHandle {
  threadId: number;
  index: number;
  share: WorkerShare;
  control: Comlink.Remote<ControlApi>;
  port: ControlHello['port'];
  /** The first init() (start() waits for it). */
  ready: Promise<void>;
  /** Settles when the worker's control port closes (it exited): a control call pending then gets no answer. */
  closed: Promise<void>;
  /**
   * starting: init() under way; ready: its sub-pool is open; retrying: an init() failed and the
   * next one is scheduled (capped backoff). Only ready workers are preferred by the balancer.
   */
  state: 'starting' | 'ready' | 'retrying';
  initAttempts: number;
  retryTimer: NodeJS.Timeout | undefined;
  lastAnswerAt: number;
  lastStats: WorkerStats | undefined;
  polling: boolean;
}

export interface WorkerDispatcherOptions {
  workers: number;
  /** Lanes with dedicated workers, in the order of their worker groups. */
  isolatedLanes: readonly { name: string; workers: number }[];
  taskModule: string | undefined;
  controlTimeoutMs: number;
  /** Terminate a worker whose control port has not answered for this long (0 = never). */
  watchdogTerminateMs: number;
  logger?: Logger;
  logLevel?: string;
  workerNice?: number;
  /** V8 heap limits of each worker thread (ExecutorOptions.workerResourceLimits). */
  resourceLimits?: Readonly<WorkerResourceLimits> | undefined;
}

export class WorkerDispatcher implements Dispatcher {
  readonly mode = 'workers' as const;
  readonly #config: Readonly<PoolConfig>;
  readonly #options: WorkerDispatcherOptions;
  readonly #log: Logger;
  #piscina: Piscina | undefined;
  readonly #handles = new Map<number, WorkerHandle>();
  #shares: WorkerShare[];
  #min: number;
  #max: number;
  #closing = false;
  /** start() finished: from now on a worker whose init fails retries instead of failing start(). */
  #started = false;
  #watchdog: NodeJS.Timeout | undefined;
  #onRegistered: (() => void) | undefined;
  /** Figures of workers that are gone, folded into one entry so that engine totals do not go backwards. */
  readonly #retired = new RetiredWorkers();
  crashes = 0;

  constructor(config: Readonly<PoolConfig>, options: WorkerDispatcherOptions) {
    this.#config = config;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#min = config.minConnections;
    this.#max = config.maxConnections;
    this.#shares = splitShares(this.#min, this.#max, options.workers);
  }

  async start(): Promise<void> {
    const n = this.#options.workers;
    const workerData: WorkerData = {
      pool: this.#config,
      taskModule: this.#options.taskModule,
      logLevel: this.#options.logLevel ?? 'warn',
      nice: this.#options.workerNice ?? 0,
      apiKey: revealSecret(this.#config.weaviate.apiKey),
      tlsKey: revealSecret(this.#config.weaviate.tls?.key),
    };
    const perWorker = Math.max(...this.#shares.map((s) => s.max), 1);
    const maxUsage = perWorker * this.#config.maxStreamsPerConnection * 2;
    const dedicated = this.#options.isolatedLanes.map((l) => l.workers);
    const groupOf = (threadId: number) => {
      const h = this.#handles.get(threadId);
      return h === undefined ? undefined : groupOfIndex(h.index, dedicated);
    };
    this.#piscina = new Piscina({
      filename: workerEntry().href,
      minThreads: n,
      maxThreads: n,
      // Workers own connections and timers: their event loops must keep running while idle.
      atomics: 'disabled',
      // The main thread's lanes decide what runs; Piscina only places it (least busy worker).
      // Headroom above the share so a resize upwards does not queue inside Piscina.
      concurrentTasksPerWorker: maxUsage,
      // Least busy worker within the task's group (lanes with dedicated workers: src/engine/balancer.ts).
      loadBalancer: (task, workers) => pickWorker(handlerGroup(task.name), workers, groupOf, maxUsage, (id) => this.#handles.get(id)?.state === 'ready'),
      idleTimeout: 2_147_483_647,
      // The engine keeps its own HDR figures; Piscina's per-task timing is not needed.
      recordTiming: false,
      workerData,
      ...(this.#options.resourceLimits ? { resourceLimits: { ...this.#options.resourceLimits } } : {}),
    });
    this.#piscina.on('error', (error: unknown) => this.#log.error({ error: String(error) }, 'worker pool error'));
    this.#piscina.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && (message as ControlHello).type === CONTROL_HELLO) this.#register(message as ControlHello);
    });
    const bound = this.#config.connectTimeoutMs + 15_000;
    await withTimeout(
      new Promise<void>((resolve) => {
        const check = () => {
          if (this.#handles.size >= n) resolve();
        };
        this.#onRegistered = check;
        check();
      }),
      bound,
      `${n} worker threads starting`,
    ).catch(async (error: unknown) => {
      await this.close(1000);
      throw error;
    });
    const inits = await Promise.allSettled([...this.#handles.values()].map((h) => h.ready));
    const failed = inits.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.close(1000);
      const cause = failed.reason as Error;
      throw new ConnectError(`A worker could not open its connections: ${cause?.message ?? String(cause)}`, { workers: n }, { cause });
    }
    // Every second: refresh each worker's figures (so a worker that dies leaves recent totals
    // behind) and, with the watchdog on, terminate a worker that stays silent too long.
    this.#started = true;
    this.#watchdog = setInterval(() => void this.#watch(), 1000);
    this.#watchdog.unref();
  }

  #register(hello: ControlHello): void {
    if (this.#closing) {
      hello.port.close();
      hello.logPort?.close();
      return;
    }
    const used = new Set([...this.#handles.values()].map((h) => h.index));
    let index = 0;
    while (used.has(index)) index++;
    const share = this.#shares[index] ?? { index, min: 0, max: 0 };
    const control = Comlink.wrap<ControlApi>(hello.port as unknown as Comlink.Endpoint);
    const closed = Promise.withResolvers<void>();
    if (hello.logPort) forwardLogs(hello.logPort, this.#log);
    const handle: WorkerHandle = {
      threadId: hello.threadId,
      index,
      share,
      control,
      port: hello.port,
      ready: Promise.resolve(),
      closed: closed.promise,
      state: 'starting',
      initAttempts: 0,
      retryTimer: undefined,
      lastAnswerAt: Date.now(),
      lastStats: undefined,
      polling: false,
    };
    this.#handles.set(hello.threadId, handle);
    handle.ready = this.#init(handle);
    // The port closes when the worker exits (crash, termination, shutdown): free its share.
    hello.port.once('close', () => {
      closed.resolve();
      if (this.#handles.get(hello.threadId) !== handle) return;
      this.#handles.delete(hello.threadId);
      clearTimeout(handle.retryTimer);
      // Its sockets died with the thread: every connection it created is now closed.
      if (handle.lastStats) this.#retired.fold(handle.lastStats);
      if (!this.#closing) {
        this.crashes++;
        this.#log.warn({ threadId: hello.threadId, index }, `Worker ${hello.threadId} exited; Piscina starts a replacement, which takes over its share`);
      }
    });
    this.#onRegistered?.();
  }

  /**
   * Open a worker's sub-pool. A worker that starts while Weaviate is unreachable (a replacement
   * after a crash) tries again with capped, jittered backoff until it succeeds, the worker
   * goes, or the engine closes; meanwhile the balancer prefers ready workers. At start() a
   * failure is final instead (start() fails fast with ConnectError).
   */
  #init(handle: WorkerHandle): Promise<void> {
    handle.initAttempts++;
    handle.state = 'starting';
    const attempt = withTimeout(handle.control.init(handle.share), this.#config.connectTimeoutMs + 5000, `worker ${handle.threadId} init`);
    attempt.then(
      () => {
        handle.state = 'ready';
        this.#log.debug({ threadId: handle.threadId, share: handle.share, attempts: handle.initAttempts }, 'worker ready');
      },
      (error: unknown) => {
        const retry = this.#started && !this.#closing && this.#handles.get(handle.threadId) === handle;
        const delayMs = Math.round(Math.min(INIT_RETRY_MAX_MS, INIT_RETRY_BASE_MS * 2 ** Math.min(handle.initAttempts - 1, 10)) * (0.5 + Math.random() / 2));
        this.#log.error(
          { threadId: handle.threadId, attempt: handle.initAttempts, error: String((error as Error)?.message ?? error), ...(retry ? { retryInMs: delayMs } : {}) },
          retry ? 'worker could not open its connections; trying again' : 'worker could not open its connections',
        );
        if (!retry) return;
        handle.state = 'retrying';
        handle.retryTimer = setTimeout(() => {
          handle.retryTimer = undefined;
          if (!this.#closing && this.#handles.get(handle.threadId) === handle) this.#init(handle).catch(() => {});
        }, delayMs);
        handle.retryTimer.unref();
      },
    );
    return attempt;
  }

  async #watch(): Promise<void> {
    const now = Date.now();
    await Promise.all(
      [...this.#handles.values()].map(async (h) => {
        if (h.polling) return; // the previous poll has not answered yet
        h.polling = true;
        try {
          h.lastStats = await withTimeout(h.control.stats(), this.#options.controlTimeoutMs, 'stats');
          h.lastAnswerAt = Date.now();
        } catch {
          const limit = this.#options.watchdogTerminateMs;
          if (limit > 0 && now - h.lastAnswerAt > limit && !this.#closing) {
            const thread = this.#piscina?.threads.find((t) => t.threadId === h.threadId);
            this.#log.error({ threadId: h.threadId, silentMs: now - h.lastAnswerAt }, `Worker ${h.threadId} has not answered for ${now - h.lastAnswerAt} ms; terminating it`);
            await thread?.terminate();
          }
        } finally {
          h.polling = false;
        }
      }),
    );
  }

  dispatch(msg: TaskMessage): Promise<TaskReply> {
    if (!this.#piscina || this.#closing) return Promise.reject(new ShutdownError('The executor is shutting down', {}));
    const group = this.#options.isolatedLanes.findIndex((l) => l.name === msg.lane);
    return (this.#piscina.run(msg, { name: groupHandler(group) }) as Promise<TaskReply>).catch((error: unknown) => {
      if (this.#closing) throw new ShutdownError('The executor shut down while the work was running', { phase: 'shutdown' });
      const reason = deathReason(error);
      throw new WorkerCrashedError(`The worker thread running this request died (${reason})`, { taskId: msg.id, reason });
    });
  }

  cancel(taskId: number, reason: string): void {
    for (const h of this.#handles.values()) {
      withTimeout(h.control.cancel(taskId, reason), this.#options.controlTimeoutMs, 'cancel').catch(() => {});
    }
  }

  async workerStats(): Promise<(WorkerStats & { responsive: boolean; retired?: boolean })[]> {
    const live = await Promise.all(
      [...this.#handles.values()].map(async (h) => {
        try {
          const s = await withTimeout(h.control.stats(), this.#options.controlTimeoutMs, `worker ${h.threadId} stats`);
          h.lastAnswerAt = Date.now();
          h.lastStats = s;
          return { ...s, responsive: true };
        } catch {
          // A worker that does not answer (event loop blocked) still shows, with its last figures.
          const last = h.lastStats ?? emptyStats(h.threadId, h.index);
          return { ...last, responsive: false };
        }
      }),
    );
    const retired = this.#retired.entry();
    return retired ? [...live, { ...retired, responsive: false, retired: true }] : live;
  }

  async connections(): Promise<WorkerConnections[]> {
    return Promise.all(
      [...this.#handles.values()].map(async (h) => ({
        threadId: h.threadId,
        index: h.index,
        connections: await withTimeout(h.control.connections(), this.#options.controlTimeoutMs, 'connections').catch(() => []),
      })),
    );
  }

  async resize(min: number, max: number): Promise<void> {
    this.#min = min;
    this.#max = max;
    this.#shares = splitShares(min, max, this.#options.workers);
    await Promise.all(
      [...this.#handles.values()].map((h) => {
        h.share = this.#shares[h.index] ?? h.share;
        // A worker waiting to retry its init opens its pool with the new share when it does.
        if (h.state === 'retrying') return undefined;
        // A worker that exits meanwhile never answers; its replacement opens with the new share
        // (#register reads #shares). Without this a resize racing a crash waited out its
        // time-out and threw ControlTimeoutError (engine-invariants.test.ts, CI on 2026-11-27).
        const call = withTimeout(h.control.resize(h.share), this.#options.controlTimeoutMs + this.#config.connectTimeoutMs, 'resize');
        call.catch(() => {}); // when `closed` wins, its later time-out is no unhandled rejection
        return Promise.race([call, h.closed]);
      }),
    );
  }

  async checkNow(): Promise<{ checked: number; failed: number }> {
    const results = await Promise.all(
      [...this.#handles.values()].map((h) =>
        withTimeout(h.control.checkNow(), this.#config.healthCheckTimeoutMs + this.#options.controlTimeoutMs, 'checkNow').catch(() => ({ checked: 0, failed: 0 })),
      ),
    );
    return results.reduce((a, b) => ({ checked: a.checked + b.checked, failed: a.failed + b.failed }), { checked: 0, failed: 0 });
  }

  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    clearInterval(this.#watchdog);
    const handles = [...this.#handles.values()];
    for (const h of handles) clearTimeout(h.retryTimer);
    await Promise.all(handles.map((h) => withTimeout(h.control.drain(timeoutMs), timeoutMs + this.#options.controlTimeoutMs, 'drain').catch(() => {})));
    for (const h of handles) {
      h.control[Comlink.releaseProxy]();
      h.port.close();
    }
    this.#handles.clear();
    const piscina = this.#piscina;
    this.#piscina = undefined;
    if (piscina) {
      await withTimeout(piscina.close(), timeoutMs, 'worker pool close').catch(async () => {
        await piscina.destroy();
      });
    }
  }
}

/**
 * Why a worker died, from what Piscina rejected its tasks with: "worker exited with code: 1",
 * or the error that ended the thread. An error that crossed the thread boundary can arrive
 * with an empty message (seen for a DataCloneError); its name and code are then all there is.
 */
export function deathReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const parts = [error.name !== 'Error' ? error.name : '', typeof code === 'string' ? code : '', error.message].filter(Boolean);
    return parts.join(': ') || 'the thread ended without an exit code or error';
  }
  if (error === undefined || error === null || String(error) === '') return 'the thread ended without an exit code or error';
  return typeof error === 'object' ? JSON.stringify(error) : String(error);
}

function emptyStats(threadId: number, index: number): WorkerStats {
  return {
    threadId, index, ready: false, pool: undefined, inFlight: 0, overdue: 0, completed: 0, failed: 0, acquireWait: '', execution: '',
    transportRetries: 0, retriesRefused: 0, eventLoopDelayP99Us: 0, eventLoopDelayMaxUs: 0,
  };
}
