/**
 * The worker thread (internal: the engine starts it through Piscina). Each worker owns a
 * sub-pool of real connections (its share of the engine's min/max, given by the main thread
 * through init()), runs TaskMessages with them, and answers control calls (comlink, on a port
 * it sends up at start) for stats, connections, resize, health checks, cancel and drain.
 *
 * Piscina must run this with `atomics: 'disabled'`: otherwise an idle worker sits in
 * Atomics.wait with its event loop paused, and its health checks, lifetimes and control port
 * stop (../NOTES.md).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { MessageChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { Piscina } from 'piscina';
import type { WeaviateClient } from 'weaviate-client';
import { portLogger } from '../src/engine/log-port.ts';
import { createPool } from '../src/pool/create.ts';
import type { ConnectionSource } from '../src/pool/types.ts';
import { TaskResultError, serializeError } from '../src/errors.ts';
import { registerSecret } from '../src/redact.ts';
import { Secret, sealHeaders } from '../src/secret.ts';
import { EventLoopMonitor } from '../src/stats/event-loop.ts';
import { encode } from '../src/stats/histogram.ts';
import { CONTROL_HELLO, type ControlApi, type ControlHello, type TaskMessage, type TaskReply, type WorkerData, type WorkerShare } from '../src/engine/protocol.ts';
import { TaskRunner, type TaskModule } from '../src/engine/task-runner.ts';
import { loadTaskModule } from '../src/engine/task-module.ts';

const data = workerData as WorkerData;
// The clone carried each Secret as an empty object: wrap the values again (src/secret.ts).
{
  const w = data.pool.weaviate;
  const tls = w.tls && data.tlsKey !== undefined ? { ...w.tls, key: new Secret(data.tlsKey) } : w.tls;
  data.pool = { ...data.pool, weaviate: { ...w, apiKey: data.apiKey === undefined ? undefined : new Secret(data.apiKey), headers: sealHeaders(w.headers), ...(tls ? { tls } : {}) } };
}
for (const value of Object.values(data.pool.weaviate.headers)) registerSecret(value);
// Logs go up to the main thread's logger (the host's), never to this thread's stdout.
const logChannel = new MessageChannel();
logChannel.port1.unref();
const logger = portLogger(logChannel.port1, data.logLevel, { worker: threadId });

// Lower this thread's scheduling priority (Linux: a thread's id works as a pid for setpriority):
// when the cores are busy, the main thread, which admits and answers requests, runs first.
if (data.nice !== 0) {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, Math.min(19, getPriority(tid) + data.nice));
  } catch (error) {
    logger.warn({ error: String(error) }, 'could not change the worker thread priority (workerNice)');
  }
}

let share: WorkerShare | undefined;
let resolvePool: (pool: ConnectionSource<WeaviateClient>) => void = () => {};
let rejectPool: (error: unknown) => void = () => {};
let poolPromise = new Promise<ConnectionSource<WeaviateClient>>((resolve, reject) => {
  resolvePool = resolve;
  rejectPool = reject;
});
poolPromise.catch(() => {});
let pool: ConnectionSource<WeaviateClient> | undefined;

let tasksPromise: Promise<TaskModule | undefined> | undefined;
const loadTasks = () => (tasksPromise ??= data.taskModule ? loadTaskModule(data.taskModule) : Promise.resolve(undefined));

const runner = new TaskRunner(() => poolPromise, loadTasks, threadId);

// A promise a task left rejected with nobody to handle it would end this thread (Node's default),
// and with it every request this worker runs. It is the task's bug, not its neighbours': log it,
// count it, carry on.
let unhandledRejections = 0;
process.on('unhandledRejection', (reason: unknown) => {
  unhandledRejections++;
  logger.error({ error: String((reason as Error)?.stack ?? reason) }, 'a task left a promise rejected with no handler (ignored; the worker carries on)');
});
const eventLoop = new EventLoopMonitor().enable();

/**
 * The sub-pool's life: none -> opening -> open (or back to none when opening failed). Only one
 * open is ever under way (`opening`); a resize() that comes while it is under way waits for it
 * and applies the newest share to that pool, instead of opening a second one and leaking the
 * first (its sockets uncounted, its REST socket cap never released).
 */
let opening: Promise<void> | undefined;

function ensurePool(s: WorkerShare): Promise<void> {
  opening ??= openPool(s).finally(() => {
    opening = undefined;
  });
  return opening;
}

async function openPool(s: WorkerShare): Promise<void> {
  const { weaviate, ...rest } = data.pool;
  const opened = await createPool({ ...rest, minConnections: s.min, maxConnections: s.max, weaviate: { ...weaviate }, logger }, {});
  // A resize may have changed the share while this pool was being opened.
  if (share && (share.min !== s.min || share.max !== s.max)) opened.resize({ min: share.min, max: share.max });
  pool = opened;
  resolvePool(opened);
}

const api: ControlApi = {
  async init(s) {
    share = s;
    try {
      await ensurePool(s);
    } catch (error) {
      rejectPool(error);
      // Later tasks should not all fail on a warm-up that failed once: allow a retry.
      poolPromise = new Promise((resolve, reject) => {
        resolvePool = resolve;
        rejectPool = reject;
      });
      poolPromise.catch(() => {});
      throw error;
    }
  },
  async stats() {
    return {
      threadId,
      index: share?.index ?? -1,
      ready: pool !== undefined,
      pool: pool?.stats(),
      unhandledRejections,
      inFlight: runner.inFlight,
      overdue: runner.overdue,
      completed: runner.completed,
      failed: runner.failed,
      acquireWait: encode(runner.acquireWait),
      execution: encode(runner.execution),
      transportRetries: runner.budget.retries,
      retriesRefused: runner.budget.refused,
      eventLoopDelayP99Us: eventLoop.percentileUs(99),
      eventLoopDelayMaxUs: eventLoop.maxUs(),
    };
  },
  async connections() {
    return pool?.connections() ?? [];
  },
  async resize(s) {
    share = s;
    if (!pool && opening) await opening.catch(() => {}); // applies `share` when it is done
    if (pool) pool.resize({ min: s.min, max: s.max });
    else await ensurePool(s);
  },
  async checkNow() {
    return pool ? pool.checkNow() : { checked: 0, failed: 0 };
  },
  async cancel(taskId, reason) {
    return runner.cancel(taskId, reason);
  },
  async drain(timeoutMs) {
    await pool?.close({ timeoutMs });
    eventLoop.disable();
  },
};

const { port1, port2 } = new MessageChannel();
Comlink.expose(api, port1 as unknown as Comlink.Endpoint);
const hello: ControlHello = { type: CONTROL_HELLO, threadId, port: port2, logPort: logChannel.port2 };
parentPort!.postMessage(hello, [port2, logChannel.port2]);

export default async function run(msg: TaskMessage): Promise<unknown> {
  const reply = await runner.run(msg);
  // A lean-path read's reply bytes (replyAs 'bytes'): moved to the main thread, not copied.
  if (reply.ok && reply.bytes) return movedReply(reply, reply.bytes.buffer as ArrayBuffer);
  // Piscina posts the reply after this returns; a value that cannot be cloned would throw there
  // and end the thread. Check a task's value here so that only this task fails. (Query results
  // are built by the engine from plain data and need no check.)
  if (msg.kind === 'task' && reply.ok) {
    try {
      structuredClone(reply.value);
    } catch (error) {
      const reason = (error as Error)?.message ?? String(error);
      const failure = new TaskResultError(`Task \`${msg.name}\` returned a value that cannot cross threads: ${reason}`, { task: msg.name, reason });
      return { ok: false, error: serializeError(failure), t: reply.t, threadId: reply.threadId };
    }
  }
  return reply;
}

/** Piscina's Transferable (`Piscina.move`): `reply` is posted with `buffer` in the transfer list. */
function movedReply(reply: TaskReply, buffer: ArrayBuffer): unknown {
  return Piscina.move({ [Piscina.transferableSymbol]: [buffer], [Piscina.valueSymbol]: reply } as never);
}

// The same handler under the names that route lanes with dedicated workers (src/engine/balancer.ts).
export { run as isolated0, run as isolated1, run as isolated2, run as isolated3 };
