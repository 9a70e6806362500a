/**
 * A measured prototype of cheaper thread hand-offs for the lean path (issue 11), outside the
 * engine (src/engine/dispatch.ts is not touched): a plain worker_threads Worker runs the lean
 * path on its own grpc-js channel; the main thread runs a closed loop and hands requests over.
 *   node bench/handoff-prototype.ts <small|large> <concurrency> <seconds> <reps>
 * Modes (interleaved per repetition):
 *   each      one postMessage per request and one per reply (what the engine does today)
 *   batched   requests of one main-thread turn posted together (microtask flush), replies of
 *             one worker turn posted together (setImmediate flush)
 *   bytes     batched, and the worker posts the raw reply bytes (transferred, not copied);
 *             the main thread decodes them (src/wire/reply-decoder.ts)
 * Against WEAVIATE_HOST/WEAVIATE_PORT/WEAVIATE_GRPC_PORT (WEAVIATE_PID for server CPU).
 */
import { Channel, Metadata, credentials } from '@grpc/grpc-js';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { resolveTarget, type WeaviateTarget } from '../src/pool/config.ts';
import type { QuerySpec } from '../src/query/spec.ts';
import { SearchCaller } from '../src/wire/call.ts';
import { loadCodecs } from '../src/wire/codecs.ts';
import { decodeSearchReply } from '../src/wire/reply-decoder.ts';
import { searchRequest, type ReadSpec } from '../src/wire/request.ts';
import { closedLoop } from './load.ts';
import { largeQuery, smallQuery } from './scenarios.ts';

type Mode = 'each' | 'batched' | 'bytes';
interface Req {
  id: number;
  spec: QuerySpec;
}
interface Rep {
  id: number;
  value?: unknown;
  bytes?: Uint8Array;
  error?: string;
}

const TIMEOUT_MS = 10_000;

function workerMain(): void {
  const { target, mode } = workerData as { target: WeaviateTarget; mode: Mode };
  const channel = new Channel(`${target.grpcHost}:${target.grpcPort}`, credentials.createInsecure(), {
    'grpc.max_receive_message_length': 104_858_000,
    'grpc-node.flow_control_window': 16 << 20,
  });
  const caller = new SearchCaller(channel, new Metadata());
  let out: Rep[] = [];
  let transfer: ArrayBuffer[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const batch = out;
    const list = transfer;
    out = [];
    transfer = [];
    parentPort!.postMessage(batch, list);
  };
  const reply = (r: Rep) => {
    if (mode === 'each') return parentPort!.postMessage([r], r.bytes ? [r.bytes.buffer as ArrayBuffer] : []);
    out.push(r);
    if (r.bytes) transfer.push(r.bytes.buffer as ArrayBuffer);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush); // once per worker turn: every reply that arrived in this turn goes in one message
    }
  };
  parentPort!.on('message', (batch: Req[]) => {
    for (const { id, spec } of batch) {
      const read = spec as ReadSpec;
      caller.search(searchRequest(read), { deadlineAt: Date.now() + TIMEOUT_MS, engineDeadline: false }).then(
        (buf) => reply(mode === 'bytes' ? { id, bytes: new Uint8Array(buf) /* own buffer, transferable */ } : { id, value: decodeSearchReply(buf, read) }),
        (e: unknown) => reply({ id, error: String(e) }),
      );
    }
  });
}

function handoff(target: WeaviateTarget, mode: Mode) {
  const worker = new Worker(new URL(import.meta.url), { workerData: { target, mode } });
  const pending = new Map<number, { spec: QuerySpec; resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 0;
  let queue: Req[] = [];
  let flushing = false;
  worker.on('message', (batch: Rep[]) => {
    for (const r of batch) {
      const p = pending.get(r.id)!;
      pending.delete(r.id);
      if (r.error) p.reject(new Error(r.error));
      else p.resolve(r.bytes ? decodeSearchReply(Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength), p.spec as ReadSpec) : r.value);
    }
  });
  const flush = () => {
    flushing = false;
    const batch = queue;
    queue = [];
    worker.postMessage(batch);
  };
  return {
    query(spec: QuerySpec): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const id = next++;
        pending.set(id, { spec, resolve, reject });
        if (mode === 'each') return worker.postMessage([{ id, spec }]);
        queue.push({ id, spec });
        if (!flushing) {
          flushing = true;
          queueMicrotask(flush); // every request of this main-thread turn goes in one message
        }
      });
    },
    close: () => worker.terminate(),
  };
}

async function main(): Promise<void> {
  const [mix = 'small', c = '16', s = '4', r = '2'] = process.argv.slice(2);
  const target = resolveTarget();
  const serverPid = process.env['WEAVIATE_PID'] ? Number(process.env['WEAVIATE_PID']) : undefined;
  const query = mix === 'large' ? largeQuery : smallQuery;
  for (let rep = 0; rep < Number(r); rep++) {
    for (const mode of ['each', 'batched', 'bytes'] as const) {
      const h = handoff({ ...target }, mode);
      try {
        const m = await closedLoop({ serverPid, grpcPort: target.grpcPort }, (i) => h.query(query(i)), { concurrency: Number(c), warmupMs: 1000, durationMs: Number(s) * 1000 });
        console.log(
          `${mix} c=${c} handoff-${mode.padEnd(8)} ${m.throughput.toFixed(0).padStart(6)} req/s  p50 ${(m.latency.p50_us / 1000).toFixed(2)} ms  client ${m.clientCpuMsPerQuery.toFixed(3)} ms/q  server ${m.serverCpuMsPerQuery?.toFixed(3) ?? 'n/a'} ms/q  loop p99 ${m.eventLoopP99Ms.toFixed(2)} ms  errors ${m.errors}`,
        );
      } finally {
        await h.close();
      }
    }
  }
}

await loadCodecs();
if (isMainThread) await main();
else workerMain();
