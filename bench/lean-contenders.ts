/**
 * Contenders of the lean query path (issue 11), beside bench/contenders.ts:
 *   pool-main-<c>c-client  the pool on the caller's thread, reads through weaviate-client
 *   lean-main-<c>c         the pool on the caller's thread, reads through the lean path
 *   engine-...-client      an engine whose pooled connections use weaviate-client for reads
 *   raw-grpc-js[-16m]      no pool: one grpc-js channel of its own, the lean request/reply code,
 *                          optionally with 16 MiB HTTP/2 windows (`grpc-node.flow_control_window`)
 * The query path of pooled connections is chosen by env VECTOR_STORE_QUERY_PATH, read when a
 * connection (or a worker thread) is created: each contender sets it for its own lifetime.
 */
import { revealSecret } from '../src/secret.ts';
import { Channel, credentials } from '@grpc/grpc-js';
import type { WeaviateTarget } from '../src/pool/config.ts';
import { createLeanPath, type LeanPath, type QueryPath } from '../src/wire/lean-path.ts';
import type { ReadSpec } from '../src/wire/request.ts';
import { REQUEST_TIMEOUT_MS, engine, poolMain, type Contender, type EngineSetting } from './contenders.ts';

/** Run `start` with env set, and keep it set until `stop` (workers and late connections read it too). */
function withEnv(vars: Record<string, string>, c: Contender, id: string, label: string): Contender {
  const saved: Record<string, string | undefined> = {};
  return {
    id,
    label,
    async start() {
      for (const [k, v] of Object.entries(vars)) {
        saved[k] = process.env[k];
        process.env[k] = v;
      }
      await c.start();
    },
    query: (spec, lane) => c.query(spec, lane),
    async stop() {
      try {
        await c.stop();
      } finally {
        for (const [k, v] of Object.entries(saved)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      }
    },
  };
}

const withPath = (path: QueryPath, c: Contender, id: string, label: string) => withEnv({ VECTOR_STORE_QUERY_PATH: path }, c, id, label);

/** The engine on the lean path returning vectors as Float32Array (VECTOR_STORE_VECTORS=float32). */
export function engineFloat32(target: Readonly<WeaviateTarget>, s: EngineSetting): Contender {
  const inner = engine(target, s);
  return withEnv({ VECTOR_STORE_QUERY_PATH: 'lean', VECTOR_STORE_VECTORS: 'float32' }, inner, `${inner.id}-f32`, `${inner.label}, vectors as Float32Array`);
}

export function poolMainPath(target: Readonly<WeaviateTarget>, connections: number, path: QueryPath): Contender {
  return path === 'lean'
    ? withPath('lean', poolMain(target, connections), `lean-main-${connections}c`, `lean path, pool on the caller's thread, ${connections} connections`)
    : withPath('client', poolMain(target, connections), `pool-main-${connections}c-client`, `weaviate-client, pool on the caller's thread, ${connections} connections`);
}

export function enginePath(target: Readonly<WeaviateTarget>, s: EngineSetting, path: QueryPath): Contender {
  const inner = engine(target, s);
  return withPath(path, inner, path === 'lean' ? inner.id : `${inner.id}-client`, `${inner.label}, reads through ${path === 'lean' ? 'the lean path' : 'weaviate-client'}`);
}

/** One grpc-js channel of its own on the caller's thread, the lean request and reply code, no pool. */
export function rawGrpc(target: Readonly<WeaviateTarget>, windowBytes?: number, transport: 'call' | 'client' = 'call'): Contender {
  let channel: Channel | undefined;
  let lean: LeanPath | undefined;
  return {
    id: `raw-grpc-js${windowBytes ? `-${Math.round(windowBytes / 2 ** 20)}m` : ''}${transport === 'client' ? '-client-api' : ''}`,
    label: `grpc-js channel + generated codecs, no pool${windowBytes ? `, ${windowBytes} B HTTP/2 windows` : ''}`,
    async start() {
      channel = new Channel(`${target.grpcHost}:${target.grpcPort}`, target.secure ? credentials.createSsl() : credentials.createInsecure(), {
        'grpc.max_receive_message_length': 104_858_000,
        'grpc.use_local_subchannel_pool': 1,
        ...(windowBytes ? { 'grpc-node.flow_control_window': windowBytes } : {}),
      });
      lean = await createLeanPath({ channel, headers: target.apiKey ? { authorization: `Bearer ${revealSecret(target.apiKey)}` } : {}, queryTimeoutMs: REQUEST_TIMEOUT_MS, transport });
    },
    query(spec) {
      return lean!.search(spec as ReadSpec, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
    },
    async stop() {
      channel?.close();
    },
  };
}
