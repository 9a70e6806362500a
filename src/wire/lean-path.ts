/**
 * The lean query path: the engine's own read specs go straight from spec to SearchRequest bytes
 * on the pooled connection's gRPC channel, and from SearchReply bytes to the plain result, with
 * none of weaviate-client's layers in between (option objects, filter classes, its middleware,
 * its deserializer's promise per object). Task modules keep the full weaviate-client on the
 * same channel, hence the same socket.
 *
 * A pooled client registers its channel here when it is built (src/weaviate/client.ts);
 * `leanPathOf(client)` finds it. Clients that did not register (a stock weaviate-client, a
 * server older than 1.29, or `queryPath: 'client'`, env `VECTOR_STORE_QUERY_PATH=client`) keep the
 * weaviate-client path.
 */
import { Metadata, type Channel } from '@grpc/grpc-js';
import type { QueryResult } from '../query/spec.ts';
import * as v from '../validate.ts';
import { SearchCaller } from './call.ts';
import { loadCodecs } from './codecs.ts';
import { decodeSearchReply } from './reply-decoder.ts';
import { QUERY_PATHS, VECTOR_FORMATS, type QueryPath, type VectorFormat } from './options.ts';
import { searchRequest, type ReadSpec } from './request.ts';

export { QUERY_PATHS, VECTOR_FORMATS, type QueryPath, type VectorFormat } from './options.ts';

/**
 * Which path read specs take on pooled connections. Env `VECTOR_STORE_QUERY_PATH`
 * (`lean` | `client`), read when a connection is opened. @default 'lean'
 */
export function queryPathFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): QueryPath {
  const raw = env['VECTOR_STORE_QUERY_PATH'];
  return raw === undefined || raw === '' ? 'lean' : v.oneOf({ name: 'VECTOR_STORE_QUERY_PATH', kind: 'env' }, raw, QUERY_PATHS);
}

/**
 * How result vectors are returned by the lean path. Env `VECTOR_STORE_VECTORS` (`array` |
 * `float32`), read when a connection is opened. `float32` returns Float32Array vectors, which
 * cross threads as one byte copy each; they do not serialise to JSON arrays (convert with
 * `Array.from` first). Opt-in while it is measured (bench/RESULTS.md). @default 'array'
 */
export function vectorFormatFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): VectorFormat {
  const raw = env['VECTOR_STORE_VECTORS'];
  return raw === undefined || raw === '' ? 'array' : v.oneOf({ name: 'VECTOR_STORE_VECTORS', kind: 'env' }, raw, VECTOR_FORMATS);
}

/** Weaviate >= 1.29 takes query vectors in the `vectors` field, which is what the lean path sends. */
export function serverSupportsLeanPath(version: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  return !!m && (Number(m[1]) > 1 || (Number(m[1]) === 1 && Number(m[2]) >= 29));
}

export interface LeanChannel {
  channel: Channel;
  /** Headers of every call: the target's headers, authorization, weaviate-client's version header. */
  headers: Readonly<Record<string, string>>;
  /** Bound of a call that carries no deadline of its own (weaviate-client's query time-out). */
  queryTimeoutMs: number;
  /** @default vectorFormatFromEnv() */
  vectorFormat?: VectorFormat;
  /** grpc-js layer the calls go through (see SearchCaller). @default 'call' */
  transport?: 'call' | 'client';
}

/** A lean path on a channel (the codecs loaded first). */
export async function createLeanPath(c: LeanChannel): Promise<LeanPath> {
  await loadCodecs();
  return new LeanPath(c);
}

/** Create with `createLeanPath` (or after `loadCodecs()` resolved). */
export class LeanPath {
  readonly #caller: SearchCaller;
  readonly #queryTimeoutMs: number;
  readonly #vectorFormat: VectorFormat;

  constructor(c: LeanChannel) {
    this.#vectorFormat = c.vectorFormat ?? vectorFormatFromEnv();
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(c.headers)) metadata.set(key, value);
    this.#caller = new SearchCaller(c.channel, metadata, c.transport);
    this.#queryTimeoutMs = c.queryTimeoutMs;
  }

  /** How this path returns vectors (what `decodeSearchReply` must be given for `searchBytes` replies). */
  get vectorFormat(): VectorFormat {
    return this.#vectorFormat;
  }

  async search(spec: ReadSpec, signal?: AbortSignal, deadlineAt?: number): Promise<QueryResult> {
    return decodeSearchReply(await this.searchBytes(spec, signal, deadlineAt), spec, this.#vectorFormat);
  }

  /**
   * The same call, with the reply left as SearchReply bytes: the engine's workers post them to
   * the main thread (transferred, not copied), which decodes them there (src/engine/reply-handoff.ts).
   */
  searchBytes(spec: ReadSpec, signal?: AbortSignal, deadlineAt?: number): Promise<Buffer> {
    return this.#caller.search(searchRequest(spec), {
      ...(signal ? { signal } : {}),
      deadlineAt: deadlineAt ?? Date.now() + this.#queryTimeoutMs,
      engineDeadline: deadlineAt !== undefined,
    });
  }
}

const registry = new WeakMap<object, LeanPath>();

/** Called by src/weaviate/client.ts for each pooled client (before it is lent out). */
export async function registerLeanPath(client: object, c: LeanChannel, serverVersion: string | undefined, path: QueryPath = queryPathFromEnv()): Promise<void> {
  if (path === 'lean' && serverSupportsLeanPath(serverVersion)) registry.set(client, await createLeanPath(c));
}

/** The lean path of a pooled client, or undefined (then weaviate-client runs the query). */
export function leanPathOf(client: object): LeanPath | undefined {
  return registry.get(client);
}
