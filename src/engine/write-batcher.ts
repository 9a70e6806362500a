/**
 * Write micro-batching (opt-in per lane: `batchWrites`, env `batch=1` or
 * `batch.maxObjects=...,batch.maxDelayMs=...`): small `insertMany`
 * calls to the same collection and tenant that arrive within `maxDelayMs` of the first are sent
 * as one `insertMany` of at most `maxObjects` objects. Each caller gets its own InsertResult:
 * its own uuids and its own per-object errors, indexed in its own objects.
 *
 * A caller that aborts (or whose deadline passes) before its batch is sent is taken out of it;
 * once sent, a write cannot be withdrawn (as for a single insert): the caller is answered with
 * its AbortError / DeadlineExceededError at once and the write may still happen. The batch is
 * sent with the latest deadline of its callers. A failure of the whole call reaches every caller
 * of the batch.
 */
import type { Clock, TimerHandle } from '../clock.ts';
import { AbortError, DeadlineExceededError } from '../errors.ts';
import type { InsertManySpec, InsertResult } from '../query/spec.ts';
import * as v from '../validate.ts';

export interface WriteBatchOptions {
  /** Most objects in one batch. @default 200 (well under the ~1,000 large objects that failed with RST_STREAM in the client's tracker) */
  maxObjects?: number;
  /** Longest a write waits for others to join it, ms. @default 5 */
  maxDelayMs?: number;
}

export type WriteBatchConfig = Required<WriteBatchOptions>;

/** Every option of WriteBatchOptions (VECTOR_STORE_LANES sets each as `batch.<option>=value`). */
export const WRITE_BATCH_KEYS: readonly (keyof WriteBatchOptions)[] = ['maxObjects', 'maxDelayMs'];

/**
 * Options validated once, defaults filled in. `at` names each option in errors: `<name>.<option>`
 * by default, a VECTOR_STORE_LANES source when the values came from the environment.
 */
export function resolveWriteBatch(
  name: string, options: WriteBatchOptions | true, at = (k: string): v.Source => ({ name: `${name}.${k}`, kind: 'option' }),
): WriteBatchConfig {
  const o = (options === true ? {} : v.plainObject({ name, kind: 'option' }, options)) as Record<string, unknown>;
  v.knownKeys({ name, kind: 'option' }, o, WRITE_BATCH_KEYS);
  return Object.freeze({
    maxObjects: o['maxObjects'] === undefined ? 200 : v.integer(at('maxObjects'), o['maxObjects'], 1, 10_000),
    maxDelayMs: o['maxDelayMs'] === undefined ? 5 : v.number(at('maxDelayMs'), o['maxDelayMs'], { min: 0, max: 10_000 }),
  });
}

/** Split the result of a merged insert back into the callers' own results. */
export function splitInsertResult(merged: InsertResult, sizes: readonly number[]): InsertResult[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const failed = new Set(merged.errors.map((e) => e.index));
  // uuids come in input order of the objects that succeeded.
  const succeeded: number[] = [];
  for (let i = 0; i < total; i++) if (!failed.has(i)) succeeded.push(i);
  const uuidAt = new Map<number, string>();
  succeeded.forEach((index, k) => {
    const uuid = merged.uuids[k];
    if (uuid !== undefined) uuidAt.set(index, uuid);
  });
  const out: InsertResult[] = [];
  let start = 0;
  for (const size of sizes) {
    const uuids: string[] = [];
    for (let i = start; i < start + size; i++) {
      const uuid = uuidAt.get(i);
      if (uuid !== undefined) uuids.push(uuid);
    }
    const errors = merged.errors.filter((e) => e.index >= start && e.index < start + size).map((e) => ({ index: e.index - start, message: e.message }));
    out.push({ inserted: uuids.length, uuids, errors });
    start += size;
  }
  return out;
}

interface Waiter {
  spec: InsertManySpec;
  deadlineAt: number;
  signal: AbortSignal | undefined;
  resolve: (r: InsertResult) => void;
  reject: (e: unknown) => void;
  state: 'pending' | 'sent' | 'done';
  onAbort: () => void;
  timer: TimerHandle | undefined;
}

interface Batch {
  waiters: Waiter[];
  objects: number;
  timer: TimerHandle | undefined;
}

export class WriteBatcher {
  readonly #clock: Clock;
  readonly #config: WriteBatchConfig;
  readonly #send: (spec: InsertManySpec, deadlineAt: number) => Promise<InsertResult>;
  readonly #open = new Map<string, Batch>();
  #batches = 0;
  #joined = 0;

  constructor(config: WriteBatchConfig, send: (spec: InsertManySpec, deadlineAt: number) => Promise<InsertResult>, clock: Clock) {
    this.#config = config;
    this.#send = send;
    this.#clock = clock;
  }

  /** Batches sent, and writes that shared a batch with an earlier one. */
  get counts(): { batches: number; joined: number } {
    return { batches: this.#batches, joined: this.#joined };
  }

  add(spec: InsertManySpec, own: { deadlineAt: number; signal?: AbortSignal | undefined }): Promise<InsertResult> {
    // A write as large as a batch goes alone.
    if (spec.objects.length >= this.#config.maxObjects) {
      this.#batches++;
      return this.#send(spec, own.deadlineAt);
    }
    const key = `${spec.collection}\u0000${spec.tenant ?? ''}`;
    let batch = this.#open.get(key);
    if (batch && batch.objects + spec.objects.length > this.#config.maxObjects) {
      this.#flush(key, batch);
      batch = undefined;
    }
    if (!batch) {
      const fresh: Batch = { waiters: [], objects: 0, timer: undefined };
      fresh.timer = this.#clock.setTimeout(() => this.#flush(key, fresh), this.#config.maxDelayMs);
      this.#open.set(key, fresh);
      batch = fresh;
    } else this.#joined++;
    const b = batch;
    return new Promise<InsertResult>((resolve, reject) => {
      const waiter: Waiter = {
        spec, deadlineAt: own.deadlineAt, signal: own.signal, resolve, reject, state: 'pending', timer: undefined,
        onAbort: () => this.#giveUp(b, waiter, () => {
          const reason = own.signal!.reason instanceof Error ? own.signal!.reason.message : String(own.signal!.reason ?? 'aborted');
          return new AbortError(`Aborted by the caller ${waiter.state === 'pending' ? 'before its write batch was sent' : 'after its write batch was sent (the write may still happen)'}: ${reason}`, { reason, phase: waiter.state === 'pending' ? 'queued' : 'running' });
        }),
      };
      if (own.signal?.aborted) return reject(new AbortError('Aborted by the caller before it was queued', { phase: 'queued' }));
      own.signal?.addEventListener('abort', waiter.onAbort, { once: true });
      waiter.timer = this.#clock.setTimeout(
        () => this.#giveUp(b, waiter, () => new DeadlineExceededError(`Deadline passed ${waiter.state === 'pending' ? 'before its write batch was sent' : 'while its write batch ran (the write may still happen)'}`, { phase: waiter.state === 'pending' ? 'queued' : 'running' })),
        Math.max(0, own.deadlineAt - this.#clock.now()),
      );
      b.waiters.push(waiter);
      b.objects += spec.objects.length;
      if (b.objects >= this.#config.maxObjects) this.#flush(key, b);
    });
  }

  #giveUp(batch: Batch, waiter: Waiter, error: () => Error): void {
    if (waiter.state === 'done') return;
    const e = error();
    if (waiter.state === 'pending') {
      batch.waiters.splice(batch.waiters.indexOf(waiter), 1);
      batch.objects -= waiter.spec.objects.length;
    }
    this.#settle(waiter);
    waiter.reject(e);
  }

  #settle(waiter: Waiter): void {
    waiter.state = 'done';
    this.#clock.clearTimeout(waiter.timer);
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  #flush(key: string, batch: Batch): void {
    if (this.#open.get(key) === batch) this.#open.delete(key);
    this.#clock.clearTimeout(batch.timer);
    const waiters = batch.waiters.filter((w) => w.state === 'pending');
    if (waiters.length === 0) return;
    for (const w of waiters) w.state = 'sent';
    this.#batches++;
    const first = waiters[0]!.spec;
    const merged: InsertManySpec = { kind: 'insertMany', collection: first.collection, objects: waiters.flatMap((w) => w.spec.objects), ...(first.tenant !== undefined ? { tenant: first.tenant } : {}) };
    const deadlineAt = Math.max(...waiters.map((w) => w.deadlineAt));
    this.#send(merged, deadlineAt).then(
      (result) => {
        const parts = splitInsertResult(result, waiters.map((w) => w.spec.objects.length));
        waiters.forEach((w, i) => {
          if (w.state === 'done') return;
          this.#settle(w);
          w.resolve(parts[i]!);
        });
      },
      (error: unknown) => {
        for (const w of waiters) {
          if (w.state === 'done') continue;
          this.#settle(w);
          w.reject(error);
        }
      },
    );
  }
}
