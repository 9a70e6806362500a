/**
 * The main thread's half of the `bytes` reply hand-off (engine option `replyHandoff`): a worker
 * ran a lean-path read and posted the SearchReply bytes (transferred, so no copy and no object
 * graph crossed the thread); here they become the same plain QueryResult the worker would have
 * built, with the one-pass decoder (src/wire/reply-decoder.ts). Why: a structured clone of a
 * large result (100 objects with vectors) cost more than decoding it (bench/RESULTS.md).
 *
 * A reply that cannot be decoded fails as it would have in the worker: the same classification,
 * through the same serialised form, so the caller sees the same typed error.
 */
import { fromSerialized, serializeError } from '../errors.ts';
import type { QueryResult, QuerySpec } from '../query/spec.ts';
import { decodeSearchReply } from '../wire/reply-decoder.ts';
import type { VectorFormat } from '../wire/options.ts';
import type { ReadSpec } from '../wire/request.ts';
import { classify } from './task-runner.ts';

const NOT_ABORTED = new AbortController().signal;

/** Replies decoded here since the process started (lets tests prove the bytes hand-off ran). @internal */
export const handedReplies = { decoded: 0 };

export function decodeHandedReply(bytes: Uint8Array, spec: QuerySpec, vectors: VectorFormat): QueryResult {
  handedReplies.decoded++;
  try {
    return decodeSearchReply(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), spec as ReadSpec, vectors);
  } catch (error) {
    throw fromSerialized(serializeError(classify(error, NOT_ABORTED)));
  }
}
