/**
 * The one failure classifier (src/weaviate/failure.ts): by gRPC status and by who cancelled,
 * never by message text.
 */
import { describe, expect, it } from 'vitest';
import { ClientError, Status } from 'nice-grpc';
import { AbortError, DeadlineExceededError, QueryError, TimeoutError } from '../../src/errors.ts';
import { FailureLog, attachFailureLog, classifyCallError, classifyFailure, recordFailures, withFailureLog } from '../../src/weaviate/failure.ts';

const SEARCH = '/weaviate.v1.Weaviate/Search';
const status = (code: Status, details = 'x') => new ClientError(SEARCH, code, details);

/** Drive the middleware over a call that fails with `failure`, as nice-grpc would. */
async function throughMiddleware(failure: unknown, signal: AbortSignal = new AbortController().signal): Promise<unknown> {
  const call = { request: {}, next: async function* (): AsyncGenerator<never, never> { throw failure; } };
  try {
    const it = recordFailures(call as never, { signal });
    await it.next();
  } catch (error) {
    return error;
  }
  throw new Error('the middleware did not rethrow');
}

/** What weaviate-client does with the error: a new one with the message, without the code. */
const rewrap = (error: unknown) => new Error(`Query call with protocol gRPC failed with message: ${(error as Error).message}`);

describe('classifyFailure', () => {
  it('classifies gRPC statuses: transport for UNAVAILABLE/INTERNAL/unrequested CANCELLED, server for application codes', () => {
    expect(classifyFailure(status(Status.UNAVAILABLE))).toBe('transport');
    expect(classifyFailure(status(Status.INTERNAL, 'Received RST_STREAM with code 2'))).toBe('transport');
    expect(classifyFailure(status(Status.CANCELLED))).toBe('transport');
    for (const code of [Status.INVALID_ARGUMENT, Status.NOT_FOUND, Status.UNKNOWN, Status.PERMISSION_DENIED, Status.RESOURCE_EXHAUSTED, Status.DEADLINE_EXCEEDED]) {
      expect(classifyFailure(status(code))).toBe('server');
    }
  });

  it('our own cancellation is cancelled, whatever the message says', () => {
    const deadline = new AbortController();
    const reason = new DeadlineExceededError('Deadline passed while running on a worker (lane `normal`)', {});
    deadline.abort(reason);
    expect(classifyFailure(reason, { signal: deadline.signal })).toBe('cancelled');
    expect(classifyFailure(reason)).toBe('cancelled');
    expect(classifyFailure(new AbortError('Aborted by the caller while running: gone', {}))).toBe('cancelled');
    expect(classifyFailure(new DOMException('signal timed out', 'TimeoutError'))).toBe('cancelled');
    // CANCELLED after our signal fired is ours, not the transport's.
    expect(classifyFailure(status(Status.CANCELLED), { signal: deadline.signal })).toBe('cancelled');
    // Any failure that surfaces after our signal fired, with nothing better known.
    expect(classifyFailure(new Error('something'), { signal: deadline.signal })).toBe('cancelled');
  });

  it('never reads message text', () => {
    expect(classifyFailure(new Error('14 UNAVAILABLE: Connection dropped'))).toBe('other');
    expect(classifyFailure(new Error('read ECONNRESET'))).toBe('other');
    expect(classifyFailure(new Error('timed out'))).toBe('other');
    expect(classifyFailure(new QueryError('Weaviate said INTERNAL', {}))).toBe('other');
    // The pool's acquire time-out is named TimeoutError, but it is no cancellation of a call.
    expect(classifyFailure(new TimeoutError('Failed to get connection within 1 seconds', {}))).toBe('other');
    expect(classifyFailure('a string')).toBe('other');
    expect(classifyFailure(undefined)).toBe('other');
  });

  it('socket error codes of Node and undici (on the error or its cause) are transport', () => {
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('transport');
    expect(classifyFailure(new TypeError('fetch failed', { cause: Object.assign(new Error('y'), { code: 'UND_ERR_SOCKET' }) }))).toBe('transport');
    expect(classifyFailure(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBe('other');
  });

  it("keeps the status through weaviate-client's rewrap: the middleware records it in the scope's log", async () => {
    const log = new FailureLog();
    const wrapped = await withFailureLog(log, async () => rewrap(await throughMiddleware(status(Status.UNAVAILABLE))));
    expect(log.last).toEqual({ kind: 'transport', code: Status.UNAVAILABLE });
    expect(log.sawTransportFailure).toBe(true);
    expect(classifyFailure(wrapped, { log })).toBe('transport');
    // The log travels with the error to whoever catches it later (the task runner).
    attachFailureLog(wrapped, log);
    expect(classifyFailure(wrapped)).toBe('transport');

    const serverLog = new FailureLog();
    const bad = await withFailureLog(serverLog, async () => rewrap(await throughMiddleware(status(Status.INVALID_ARGUMENT))));
    attachFailureLog(bad, serverLog);
    expect(classifyFailure(bad)).toBe('server');
    expect(serverLog.sawTransportFailure).toBe(false);
  });

  it('an abort of the call\'s own signal (weaviate-client\'s time-out or the caller) is recorded as cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const abort = Object.assign(new Error('The operation has been aborted'), { name: 'AbortError' });
    const log = new FailureLog();
    await withFailureLog(log, () => throughMiddleware(abort, controller.signal));
    expect(log.last?.kind).toBe('cancelled');
    expect(classifyCallError(status(Status.CANCELLED), controller.signal).kind).toBe('cancelled');
  });

  it('a call that could not be made (channel shut down: a plain Error) is transport; scopes do not leak into each other', async () => {
    const a = new FailureLog();
    const b = new FailureLog();
    await Promise.all([
      withFailureLog(a, () => throughMiddleware(new Error('Channel has been shut down'))),
      withFailureLog(b, () => throughMiddleware(status(Status.NOT_FOUND))),
    ]);
    expect(a.last?.kind).toBe('transport');
    expect(b.last?.kind).toBe('server');
    expect(a.counts).toMatchObject({ transport: 1, server: 0 });
  });
});
