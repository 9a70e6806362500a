import { SAMPLE_COLLECTION, embed } from '../../src/data/sample.ts';
import type { QuerySpec } from '../../src/query/spec.ts';

const WORDS = ['삼성전자', '현대차', '카카오', 'SK하이닉스', 'NAVER', 'LG화학'];
const VECTORS = WORDS.map((w) => embed(w));

/** A small read (bm25 or nearVector, limit 3) over the sample collection. */
export function read(i: number): QuerySpec {
  return i % 2 === 0
    ? { kind: 'bm25', collection: SAMPLE_COLLECTION, query: WORDS[i % WORDS.length]!, limit: 3 }
    : { kind: 'nearVector', collection: SAMPLE_COLLECTION, vector: VECTORS[i % VECTORS.length]!, limit: 3 };
}

/** `callers` loops, each sending its next request when the previous settles, until `stop()` says so. */
export async function closedLoad(callers: number, stop: () => boolean, send: (i: number) => Promise<unknown>): Promise<number> {
  let i = 0;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (!stop()) {
        await send(i++);
        // Yield to timers and I/O: a send that settles at once (e.g. every request refused by a
        // closing engine) would otherwise spin in microtasks, and `stop` (set by a timer or by
        // the test's own cleanup) could never become true.
        await new Promise<void>((r) => setImmediate(r));
      }
    }),
  );
  return i;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
