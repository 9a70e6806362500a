/**
 * A bound on REST sockets to Weaviate, scoped to the engine's own clients.
 *
 * weaviate-client sends REST (schema, meta, readiness, single-object CRUD) through the global
 * `fetch`, whose default dispatcher opens as many sockets as there are concurrent requests, and
 * `client.close()` does not close them. Replacing undici's global dispatcher would bound them,
 * but it would also change every fetch of the host application. So nothing global is touched:
 *
 * - `boundRestSockets(origin, n)` keeps, per thread, one undici Pool per Weaviate origin capped
 *   at n sockets (reference-counted: pools in one thread share it; closed with the last holder).
 * - `scopeRestFetch(connection, origin)` makes ONE weaviate-client connection send its REST
 *   calls through that Pool. weaviate-client's `http` object calls `fetch` synchronously from
 *   each of its methods, so each method is wrapped to run with our fetch in place of the
 *   global one for the duration of that synchronous call only (the same technique
 *   src/weaviate/client.ts uses to capture the gRPC connection): no other code can run in
 *   between, so no other fetch of the process ever sees it.
 */
import { Pool, fetch as undiciFetch } from 'undici';
import { nodeTlsOptions, type TlsSettings } from './tls.ts';

interface Bound {
  pool: Pool;
  refs: number;
  connections: number;
}

/** Per thread (module state is per thread): origin -> its REST socket pool. */
const bounds = new Map<string, Bound>();

function normalize(origin: string): string {
  return new URL(origin).origin;
}

/**
 * Cap the sockets this thread's pooled clients open to `origin` for REST at `connections`.
 * Returns the release function (idempotent); the cap stays while any holder has not released it.
 * Over https, `tls` (CA, client certificate, server name) applies to this Pool's sockets only.
 */
export function boundRestSockets(origin: string, connections: number, tls?: Readonly<TlsSettings>): () => Promise<void> {
  const key = normalize(origin);
  let bound = bounds.get(key);
  if (!bound) {
    const connect = { timeout: 10_000, ...nodeTlsOptions(tls) };
    bound = { pool: new Pool(key, { connections, keepAliveTimeout: 10_000, connect }), refs: 0, connections };
    bounds.set(key, bound);
  }
  bound.refs++;
  const entry = bound;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    entry.refs--;
    if (entry.refs > 0) return;
    if (bounds.get(key) === entry) bounds.delete(key);
    await entry.pool.close().catch(() => entry.pool.destroy());
  };
}

/** The cap in force for an origin in this thread, if any (for stats and tests). */
export function restSocketBound(origin: string): number | undefined {
  return bounds.get(normalize(origin))?.connections;
}

/** The undici Pool that carries this thread's pooled REST traffic to `origin` (for tests). */
export function restDispatcher(origin: string): Pool | undefined {
  return bounds.get(normalize(origin))?.pool;
}

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * Send the REST calls of one weaviate-client connection (its `http` member) through the bound
 * Pool of `origin`, without touching the global fetch or dispatcher. Without a bound for the
 * origin at call time (the pool was closed), calls go to the global fetch as in a stock client.
 */
export function scopeRestFetch(connection: Record<string, unknown>, origin: string): void {
  const http = connection['http'] as Record<string, unknown> | undefined;
  if (!http || typeof http !== 'object') {
    throw new Error('weaviate-client connection has no `http` member; this version of weaviate-client is not supported (src/weaviate/rest-sockets.ts)');
  }
  const key = normalize(origin);
  /** The host's fetch as it was when the wrapped call began. */
  let globalFetch: typeof fetch = globalThis.fetch;
  const scopedFetch = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) => {
    // Only Weaviate's own origin goes through its Pool (a Pool sends everything to its origin);
    // anything else (the client's externalGet/externalPost, e.g. OIDC) takes the global fetch.
    const pool = bounds.get(key)?.pool;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : (input as { url: string }).url;
    if (!pool || !URL.canParse(url) || new URL(url).origin !== key) return globalFetch(input as never, init as never);
    return undiciFetch(input, { ...init, dispatcher: pool });
  }) as unknown as typeof fetch;
  const scoped: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(http)) {
    if (typeof value !== 'function' || name === 'close') {
      scoped[name] = value;
      continue;
    }
    const method = value as AnyFunction;
    scoped[name] = (...args: unknown[]) => {
      const global = globalThis.fetch;
      globalFetch = global;
      globalThis.fetch = scopedFetch;
      try {
        return method(...args);
      } finally {
        globalThis.fetch = global;
      }
    };
  }
  connection['http'] = scoped;
}
