/**
 * The failure classifier on the real path: weaviate-client over a pooled connection against the
 * real Weaviate. The status code is lost in weaviate-client's rewrap, so what is checked here is
 * that the middleware saw it: Weaviate's application errors and the caller's own deadline leave
 * the connection alone, a transport failure sends it to a health check.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPool, type WeaviatePool } from '../../src/pool/create.ts';
import type { ConnectionPool, TransitionEvent } from '../../src/pool/pool.ts';
import { SAMPLE_COLLECTION, embed } from '../../src/data/sample.ts';
import { classifyFailure } from '../../src/weaviate/failure.ts';
import { raceAbort } from '../../src/abort.ts';
import { DeadlineExceededError } from '../../src/errors.ts';
import type { WeaviateClient } from 'weaviate-client';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
let pool: WeaviatePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

async function start() {
  pool = await createPool({ weaviate: target, minConnections: 1, maxConnections: 1, maxStreamsPerConnection: 2 });
  const transitions: TransitionEvent[] = [];
  (pool as ConnectionPool<WeaviateClient>).events.on('transition', (e) => transitions.push(e));
  return { pool, transitions };
}

const failureOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e);

describe('failure classification on the real path (issue 9, item 2)', () => {
  it("Weaviate's application error is 'server' and leaves the connection alone", async () => {
    const { pool, transitions } = await start();
    const error = await failureOf(pool.withConnection((c) => c.collections.use(SAMPLE_COLLECTION).query.nearVector([1, 2, 3], { limit: 1 })));
    expect(classifyFailure(error)).toBe('server');
    expect(transitions.filter((t) => t.to === 'validating')).toEqual([]);
    expect(pool.stats()).toMatchObject({ total_connections: 1, dead_connections_detected: 0 });
  });

  it("the caller's own deadline is 'cancelled' and never makes the connection suspect", async () => {
    const { pool, transitions } = await start();
    let cancelled = 0;
    for (let i = 0; i < 20; i++) {
      // As the task runner does: the query gets the deadline's signal, and the lease's function
      // is raced against it; the deadline fires while the call is in flight.
      const deadline = new AbortController();
      const running = pool.withConnection(
        (c) => raceAbort(c.collections.use(SAMPLE_COLLECTION).query.nearVector(embed('반도체'), { limit: 100, includeVector: true, abortSignal: deadline.signal } as never), deadline.signal),
        { signal: deadline.signal },
      );
      setImmediate(() => deadline.abort(new DeadlineExceededError('Deadline passed while running on a worker (lane `normal`)', {})));
      const error = await failureOf(running).catch((e: unknown) => e);
      if (error instanceof Error && error.message === 'expected a failure') continue; // it finished first
      expect(classifyFailure(error, { signal: deadline.signal })).toBe('cancelled');
      cancelled++;
    }
    expect(cancelled).toBeGreaterThan(0);
    expect(transitions.filter((t) => t.to === 'validating')).toEqual([]);
    expect(pool.stats()).toMatchObject({ total_connections: 1, health_check_failures: 0, total_connections_closed: 0 });
  });

  it("a call on a connection whose channel is gone is 'transport': the connection is checked and replaced", async () => {
    const { pool, transitions } = await start();
    const error = await failureOf(
      pool.withConnection(async (c) => {
        await c.close(); // the socket goes away under the lease
        return c.collections.use(SAMPLE_COLLECTION).query.bm25('삼성전자', { limit: 1 });
      }),
    );
    expect(classifyFailure(error)).toBe('transport');
    await waitFor(() => pool.stats().total_connections_created === 2 && pool.stats().total_connections === 1, { what: 'the connection to be replaced' });
    expect(transitions.some((t) => t.to === 'validating' || (t.to === 'retiring' || t.to === 'closing'))).toBe(true);
    const r = await pool.withConnection((c) => c.collections.use(SAMPLE_COLLECTION).query.bm25('삼성전자', { limit: 1 }));
    expect(r.objects.length).toBe(1);
  });
});
