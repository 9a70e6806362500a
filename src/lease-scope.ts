/**
 * Where a leased client may be used: a task runs inside an AsyncLocalStorage scope that carries
 * its lease, and the gRPC entry points of our clients (src/weaviate/client.ts) check it. Work the
 * task left behind (a promise it did not await, a timer) keeps the scope, so a call made after
 * the lease went back fails with ConnectionReleasedError instead of using a connection that is
 * now someone else's (and overbooking it past maxStreamsPerConnection).
 *
 * Calls made outside any scope (the pool's own health checks, the CLI) are not affected.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ConnectionReleasedError } from './errors.ts';

interface Scope {
  connectionId: number;
  released: boolean;
}

const storage = new AsyncLocalStorage<Scope>();

/** Run `fn` inside a lease scope; call the returned `end()` when the lease goes back. */
export function withinLeaseScope<T>(connectionId: number, fn: () => T): { result: T; end: () => void } {
  const scope: Scope = { connectionId, released: false };
  const result = storage.run(scope, fn);
  return {
    result,
    end: () => {
      scope.released = true;
    },
  };
}

/** Throws ConnectionReleasedError when called from work whose lease has gone back. */
export function assertLeaseHeld(): void {
  const scope = storage.getStore();
  if (scope?.released) {
    throw new ConnectionReleasedError(
      `Connection ${scope.connectionId} was used after its lease ended (work a task left running after it returned or after its deadline)`,
      { connection: scope.connectionId },
    );
  }
}
