/**
 * Contenders of the lean query path (issue 11), beside bench/contenders.ts:
 *   pool-main-<c>c-client  the pool on the caller's thread, reads through weaviate-client
 *   lean-main-<c>c         the pool on the caller's thread, reads through the lean path
 *   engine-...-client      an engine whose pooled connections use weaviate-client for reads
 *   engine-...-objects     workers decode replies and post the result objects (`replyHandoff: 'objects'`)
 *   engine-...-f32         vectors as Float32Array (`vectors: 'float32'`)
 *   engine-...-slice0      bytes hand-off, each reply decoded as it arrives (`decodeSliceMs: 0`)
 *   raw-grpc-js[-16m]      no pool: one grpc-js channel of its own, the lean request/reply code,
 *                          optionally with 16 MiB HTTP/2 windows (`grpc-node.flow_control_window`)
 * Each is chosen through the programmatic options (queryPath, vectors, replyHandoff), as a user would.
 */
import { revealSecret } from '../src/secret.ts';
import { Channel, credentials } from '@grpc/grpc-js';
import type { WeaviateTarget } from '../src/pool/config.ts';
import { createLeanPath, type LeanPath, type QueryPath } from '../src/wire/lean-path.ts';
import type { ReadSpec } from '../src/wire/request.ts';
import { REQUEST_TIMEOUT_MS, engine, poolMain, type Contender, type EngineSetting } from './contenders.ts';

/** The engine with more options, under its own id and label. */
function engineWith(target: Readonly<WeaviateTarget>, s: EngineSetting, options: EngineSetting['options'], suffix: string, label: string): Contender {
  const inner = engine(target, { ...s, options: { ...s.options, ...options } });
  return { ...inner, id: `${inner.id}${suffix}`, label: `${inner.label}, ${label}` };
}

/** The engine on the lean path returning vectors as Float32Array (`vectors: 'float32'`). */
export function engineFloat32(target: Readonly<WeaviateTarget>, s: EngineSetting): Contender {
  return engineWith(target, s, { queryPath: 'lean', vectors: 'float32' }, '-f32', 'vectors as Float32Array');
}

/** The engine whose workers decode lean replies and post result objects (the hand-off before `bytes`). */
export function engineObjects(target: Readonly<WeaviateTarget>, s: EngineSetting): Contender {
  return engineWith(target, s, { queryPath: 'lean', replyHandoff: 'objects' }, '-objects', 'replies decoded in the worker, objects posted');
}

/** The engine (bytes hand-off) decoding every reply as it arrives on the main thread (`decodeSliceMs: 0`). */
export function engineNoSlice(target: Readonly<WeaviateTarget>, s: EngineSetting): Contender {
  return engineWith(target, s, { queryPath: 'lean', replyHandoff: 'bytes', decodeSliceMs: 0 }, '-slice0', 'main-thread decoding not sliced');
}

export function poolMainPath(target: Readonly<WeaviateTarget>, connections: number, path: QueryPath): Contender {
  const inner = poolMain(target, connections, { queryPath: path });
  return path === 'lean'
    ? { ...inner, id: `lean-main-${connections}c`, label: `lean path, pool on the caller's thread, ${connections} connections` }
    : { ...inner, id: `pool-main-${connections}c-client`, label: `weaviate-client, pool on the caller's thread, ${connections} connections` };
}

export function enginePath(target: Readonly<WeaviateTarget>, s: EngineSetting, path: QueryPath): Contender {
  return engineWith(target, s, { queryPath: path }, path === 'lean' ? '' : '-client', `reads through ${path === 'lean' ? 'the lean path' : 'weaviate-client'}`);
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
