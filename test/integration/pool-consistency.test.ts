/**
 * 1,000 mixed acquire/release/error cycles against the real server: good queries, bad queries
 * (Weaviate errors), destroyed leases, abandoned waits and time-outs under exhaustion. After it:
 * every promise settled, the stats add up, the sockets match, and the connections still work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type WeaviatePool } from '../../src/pool/create.ts';
import { SAMPLE_COLLECTION, embed, prng } from '../../src/data/sample.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { sharedTarget, waitFor } from '../support/weaviate.ts';

const target = sharedTarget();
let pool: WeaviatePool;
beforeAll(async () => {
  pool = await createPool({ weaviate: target, minConnections: 2, maxConnections: 4, acquireTimeoutMs: 2000 });
});
afterAll(() => pool.close());

describe('stats consistency after 1,000 mixed cycles (real Weaviate)', () => {
  it('adds up, settles everything, and leaves working connections', async () => {
    const rand = prng(42);
    const outcomes: Record<string, number> = {};
    const count = (k: string) => (outcomes[k] = (outcomes[k] ?? 0) + 1);
    let acquires = 0;
    const cycle = async (i: number) => {
      const r = rand();
      acquires++;
      try {
        if (r < 0.45) {
          await pool.withConnection((c) => c.collections.use(SAMPLE_COLLECTION).query.nearVector(embed(`문서 ${i}`), { limit: 2 }));
          count('ok');
        } else if (r < 0.65) {
          // A bad query: Weaviate rejects it; the connection must not be poisoned by it.
          await pool.withConnection((c) => c.collections.use('No_such_collection_xyz').query.bm25('x', { limit: 1 }));
          count('unexpected-ok');
        } else if (r < 0.75) {
          const lease = await pool.acquire();
          lease.destroy('test destroys it');
          count('destroyed');
        } else if (r < 0.85) {
          const controller = new AbortController();
          const p = pool.acquire({ signal: controller.signal });
          controller.abort(new Error('caller gave up'));
          // An idle connection is handed out at once, before the abort: that is not an error.
          (await p).release();
          count('acquired-before-abort');
        } else {
          const lease = await pool.acquire({ timeoutMs: 1 + Math.floor(rand() * 5) });
          await new Promise((res) => setTimeout(res, 2));
          lease.release();
          count('held');
        }
      } catch (error) {
        count((error as { code?: string }).code ?? 'weaviate-error');
      }
    };
    // 20 concurrent callers, 50 rounds.
    for (let round = 0; round < 50; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, k) => cycle(round * 20 + k)));
    }
    console.log('outcomes', outcomes);
    expect(Object.values(outcomes).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(outcomes['unexpected-ok'] ?? 0).toBe(0);
    expect(outcomes['ok']).toBeGreaterThan(300);
    expect(outcomes['weaviate-error'] ?? 0).toBeGreaterThan(100);
    expect(outcomes['WEX_ABORTED'] ?? 0).toBeGreaterThan(0);

    const s = pool.stats();
    expect(s.total_requests).toBe(acquires);
    expect(s.waiting).toBe(0);
    expect(s.current_active).toBe(0);
    expect(s.current_active + s.current_idle).toBe(s.total_connections);
    expect(s.total_connections_created - s.total_connections_closed).toBe(s.total_connections);
    expect(s.total_connections).toBeGreaterThanOrEqual(2);
    expect(s.total_connections).toBeLessThanOrEqual(4);
    await waitFor(() => countEstablished(target.grpcPort!) === pool.stats().total_connections, { what: 'sockets = total' });
    // Every connection still answers (bad queries did not poison them).
    const leases = await Promise.all(Array.from({ length: s.total_connections }, () => pool.acquire()));
    const results = await Promise.all(leases.map((l) => l.client.collections.use(SAMPLE_COLLECTION).query.bm25('삼성전자', { limit: 1 })));
    expect(results.every((r) => r.objects.length === 1)).toBe(true);
    for (const l of leases) l.release();
  });
});
