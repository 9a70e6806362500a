/**
 * scopeRestFetch on real local HTTP servers: the wrapped client's calls to its origin go through
 * the bounded Pool, calls elsewhere reach their own server through the host's fetch, and the
 * global fetch is the host's before, during (for other code) and after.
 */
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boundRestSockets, restDispatcher, scopeRestFetch } from '../../src/weaviate/rest-sockets.ts';

async function server(name: string): Promise<{ server: Server; origin: string; seen: string[] }> {
  const seen: string[] = [];
  const s = createServer((req, res) => {
    seen.push(req.url ?? '');
    res.end(name);
  });
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  return { server: s, origin: `http://127.0.0.1:${(s.address() as { port: number }).port}`, seen };
}

let weaviate: Awaited<ReturnType<typeof server>>;
let other: Awaited<ReturnType<typeof server>>;
beforeAll(async () => {
  weaviate = await server('weaviate');
  other = await server('other');
});
afterAll(() => {
  weaviate.server.close();
  other.server.close();
});

describe('scopeRestFetch', () => {
  it('sends the origin through the bounded pool, other URLs through the host fetch, and leaves the global fetch alone', async () => {
    const hostFetch = globalThis.fetch;
    const release = boundRestSockets(weaviate.origin, 1);
    try {
      // The shape of weaviate-client's http object: methods that call the global fetch synchronously.
      const connection: Record<string, unknown> = {
        http: {
          get: (path: string) => fetch(`${weaviate.origin}${path}`).then((r) => r.text()),
          externalGet: (url: string) => fetch(url).then((r) => r.text()),
          close: () => undefined,
        },
      };
      scopeRestFetch(connection, weaviate.origin);
      const http = connection['http'] as { get(p: string): Promise<string>; externalGet(u: string): Promise<string> };
      const answers = await Promise.all([http.get('/v1/meta'), http.get('/v1/schema'), http.externalGet(`${other.origin}/oidc`), http.get('/v1/nodes')]);
      expect(answers).toEqual(['weaviate', 'weaviate', 'other', 'weaviate']);
      expect(weaviate.seen.sort()).toEqual(['/v1/meta', '/v1/nodes', '/v1/schema']);
      expect(other.seen).toEqual(['/oidc']);
      expect(restDispatcher(weaviate.origin)!.stats.connected).toBe(1); // three concurrent calls, one socket
      expect(globalThis.fetch).toBe(hostFetch);
    } finally {
      await release();
    }
    expect(restDispatcher(weaviate.origin)).toBeUndefined();
  });
});
