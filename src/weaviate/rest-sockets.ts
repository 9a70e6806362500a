/**
 * A bound on REST sockets to Weaviate. weaviate-client sends REST (schema, meta, readiness,
 * single-object CRUD) through the global `fetch`, whose default dispatcher opens as many
 * sockets as there are concurrent requests, and `client.close()` does not close them.
 *
 * The pool installs, per thread, a routing dispatcher in front of the global one: requests to a
 * bound Weaviate origin go through an undici Pool capped at `restMaxSockets`; everything else
 * goes to the dispatcher that was there before, untouched. Bounds are reference-counted (pools
 * in one thread share one per origin) and the previous dispatcher comes back when the last
 * bound is released.
 */
import { Dispatcher, Pool, getGlobalDispatcher, setGlobalDispatcher } from 'undici';

interface Bound {
  pool: Pool;
  refs: number;
  connections: number;
}

class OriginRouter extends Dispatcher {
  readonly fallback: Dispatcher;
  readonly origins = new Map<string, Bound>();

  constructor(fallback: Dispatcher) {
    super();
    this.fallback = fallback;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const origin = options.origin === undefined ? undefined : normalize(String(options.origin));
    const bound = origin === undefined ? undefined : this.origins.get(origin);
    return (bound ? bound.pool : this.fallback).dispatch(options, handler);
  }

  override async close(): Promise<void> {
    await Promise.all([...this.origins.values()].map((b) => b.pool.close()));
  }

  override async destroy(): Promise<void> {
    await Promise.all([...this.origins.values()].map((b) => b.pool.destroy()));
  }
}

function normalize(origin: string): string {
  return new URL(origin).origin;
}

let router: OriginRouter | undefined;

/**
 * Cap the sockets this thread opens to `origin` for REST at `connections`. Returns the release
 * function (idempotent); the cap stays while any holder has not released it.
 */
export function boundRestSockets(origin: string, connections: number): () => Promise<void> {
  const key = normalize(origin);
  if (!router || getGlobalDispatcher() !== router) {
    router = new OriginRouter(getGlobalDispatcher());
    setGlobalDispatcher(router);
  }
  const owner = router;
  let bound = owner.origins.get(key);
  if (!bound) {
    bound = {
      pool: new Pool(key, { connections, keepAliveTimeout: 10_000, connectTimeout: 10_000 }),
      refs: 0,
      connections,
    };
    owner.origins.set(key, bound);
  }
  bound.refs++;
  const entry = bound;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    entry.refs--;
    if (entry.refs > 0) return;
    owner.origins.delete(key);
    if (owner.origins.size === 0 && getGlobalDispatcher() === owner) {
      setGlobalDispatcher(owner.fallback);
      if (router === owner) router = undefined;
    }
    await entry.pool.close().catch(() => entry.pool.destroy());
  };
}

/** The cap in force for an origin in this thread, if any (for stats and tests). */
export function restSocketBound(origin: string): number | undefined {
  return router?.origins.get(normalize(origin))?.connections;
}
