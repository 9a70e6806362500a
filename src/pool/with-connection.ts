/**
 * The one `withConnection`: acquire, run, always give back. Shared by the pool and the legacy
 * single connection.
 *
 * The function runs inside a FailureLog scope (src/weaviate/failure.ts), so every gRPC call it
 * makes records its real outcome (status code, who cancelled) before weaviate-client rewraps
 * the error. If it throws, the log is attached to the error (callers classify it later with
 * `classifyFailure(error, { signal })`). A connection that saw a transport failure is marked
 * suspect and checked before it is lent again; the caller's own deadline or abort, and
 * Weaviate's application errors, never make it suspect.
 */
import { FailureLog, attachFailureLog, classifyFailure, withFailureLog } from '../weaviate/failure.ts';
import type { AcquireOptions, Lease } from './types.ts';

/** A lease that can be flagged for a health check before its connection is lent again. */
export interface SuspectableLease {
  markSuspect?(): void;
}

export async function withConnection<C, T>(
  acquire: (options?: AcquireOptions) => Promise<Lease<C>>,
  fn: (client: C, lease: Lease<C>) => Promise<T> | T,
  options?: AcquireOptions,
): Promise<T> {
  const lease = await acquire(options);
  const log = new FailureLog();
  let failed = false;
  try {
    return await withFailureLog(log, () => fn(lease.client, lease));
  } catch (error) {
    failed = classifyFailure(error, { signal: options?.signal, log }) === 'transport';
    attachFailureLog(error, log);
    throw error;
  } finally {
    if (failed || log.sawTransportFailure) (lease as SuspectableLease).markSuspect?.();
    lease.release();
  }
}
