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

/**
 * Decodes handed replies on the main thread, at most `sliceMs` of decoding per event-loop turn:
 * when many replies arrive in one turn (a worker answering a burst), the rest wait for a
 * setImmediate, so timers and I/O of the host run in between instead of after all of them.
 * `sliceMs` 0 decodes every reply as it arrives. Order is kept: once one reply waits, later
 * ones queue behind it.
 */
export class HandedReplyDecoder {
  readonly sliceMs: number;
  /** Decoding time spent in the current turn (reset by a setImmediate once the turn ends). */
  #spentMs = 0;
  #resetScheduled = false;
  readonly #queue: (() => void)[] = [];
  #drainScheduled = false;
  /** Replies that waited for a later turn (a measure of how often bursts happen). */
  deferred = 0;

  constructor(sliceMs: number) {
    this.sliceMs = sliceMs;
  }

  decode(bytes: Uint8Array, spec: QuerySpec, vectors: VectorFormat): QueryResult | Promise<QueryResult> {
    if (this.sliceMs <= 0) return decodeHandedReply(bytes, spec, vectors);
    if (this.#queue.length === 0 && this.#spentMs < this.sliceMs) return this.#timed(bytes, spec, vectors);
    this.deferred++;
    return new Promise<QueryResult>((resolve, reject) => {
      this.#queue.push(() => {
        try {
          resolve(this.#timed(bytes, spec, vectors));
        } catch (error) {
          reject(error as Error);
        }
      });
      this.#scheduleDrain();
    });
  }

  #timed(bytes: Uint8Array, spec: QuerySpec, vectors: VectorFormat): QueryResult {
    const started = performance.now();
    try {
      return decodeHandedReply(bytes, spec, vectors);
    } finally {
      this.#spentMs += performance.now() - started;
      if (!this.#resetScheduled) {
        this.#resetScheduled = true;
        setImmediate(() => {
          this.#spentMs = 0;
          this.#resetScheduled = false;
        });
      }
    }
  }

  #scheduleDrain(): void {
    if (this.#drainScheduled) return;
    this.#drainScheduled = true;
    setImmediate(() => {
      this.#drainScheduled = false;
      // One slice now; what is left goes to the next turn (timers and I/O run first).
      const started = performance.now();
      do this.#queue.shift()!();
      while (this.#queue.length > 0 && performance.now() - started < this.sliceMs);
      if (this.#queue.length > 0) this.#scheduleDrain();
    });
  }
}
