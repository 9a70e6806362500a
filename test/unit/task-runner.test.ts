/**
 * The worker-side runner with a scripted connection source: transport failures of idempotent
 * work are retried within the deadline and the retry budget; others are not.
 */
import { describe, expect, it } from 'vitest';
import type { WeaviateClient } from 'weaviate-client';
import { epochNow, type TaskMessage } from '../../src/engine/protocol.ts';
import { ClientError, Status } from 'nice-grpc';
import { TaskRunner } from '../../src/engine/task-runner.ts';
import { resolvePoolConfig } from '../../src/pool/config.ts';
import type { ConnectionSource, Lease } from '../../src/pool/types.ts';

/** A connection source whose first `failures` uses fail with `error` before the task runs. */
function scriptedSource(failures: number, error: Error) {
  let calls = 0;
  const source = {
    config: resolvePoolConfig({}, {}),
    async withConnection<T>(fn: (client: WeaviateClient, lease: Lease<WeaviateClient>) => Promise<T> | T): Promise<T> {
      calls++;
      if (calls <= failures) throw error;
      return fn({ answer: 42 } as unknown as WeaviateClient, { connectionId: calls } as unknown as Lease<WeaviateClient>);
    },
  } as unknown as ConnectionSource<WeaviateClient>;
  return { source, calls: () => calls };
}

const tasks = { answer: (client: { answer: number }) => client.answer };
const task = (idempotent: boolean, deadlineMs = 5000): TaskMessage => ({ kind: 'task', id: 1, name: 'answer', args: null, lane: 'normal', deadlineAt: epochNow() + deadlineMs, idempotent });
// What nice-grpc throws (the status code is what counts, never the text).
const unavailable = new ClientError('/weaviate.v1.Weaviate/Search', Status.UNAVAILABLE, 'Connection dropped');
const invalid = new ClientError('/weaviate.v1.Weaviate/Search', Status.INVALID_ARGUMENT, 'bad filter');

describe('task runner retries', () => {
  it('does not take message text for a transport failure (our own deadline text included)', async () => {
    const s = scriptedSource(1, new Error('14 UNAVAILABLE: Deadline passed while running; timed out'));
    const reply = await new TaskRunner(async () => s.source, async () => tasks, 1).run(task(true));
    expect(reply.ok).toBe(false);
    expect(s.calls()).toBe(1);
  });

  it('retries idempotent work on another connection after a transport failure', async () => {
    const s = scriptedSource(2, unavailable);
    const runner = new TaskRunner(async () => s.source, async () => tasks, 1);
    const reply = await runner.run(task(true));
    expect(reply).toMatchObject({ ok: true, value: 42 });
    expect(s.calls()).toBe(3);
    expect(runner.budget.retries).toBe(2);
  });

  it('does not retry work that is not idempotent, nor failures that are not transport failures', async () => {
    const a = scriptedSource(1, unavailable);
    const r1 = await new TaskRunner(async () => a.source, async () => tasks, 1).run(task(false));
    expect(r1.ok).toBe(false);
    expect(a.calls()).toBe(1);
    const b = scriptedSource(1, invalid);
    const r2 = await new TaskRunner(async () => b.source, async () => tasks, 1).run(task(true));
    expect(r2.ok).toBe(false);
    expect(b.calls()).toBe(1);
  });

  it('stops retrying when the budget is spent (gRPC A6: more than half of 10 tokens must remain)', async () => {
    const s = scriptedSource(1000, unavailable);
    const runner = new TaskRunner(async () => s.source, async () => tasks, 1);
    const reply = await runner.run(task(true));
    expect(reply.ok).toBe(false);
    expect(runner.budget.retries).toBe(4); // tokens 10 -> 9, 8, 7, 6 allow; 5 refuses
    expect(runner.budget.refused).toBe(1);
  });
});

describe('task runner deadlines', () => {
  it('answers only when the work has really ended (the lease is held until then), with the deadline error, counting it overdue meanwhile', async () => {
    const s = scriptedSource(0, unavailable);
    let ended = false;
    const slow = {
      slow: async () => {
        await new Promise((r) => setTimeout(r, 150)); // ignores ctx.signal
        ended = true;
        return 'late';
      },
    };
    const runner = new TaskRunner(async () => s.source, async () => slow, 1);
    const reply = runner.run({ kind: 'task', id: 2, name: 'slow', args: null, lane: 'normal', deadlineAt: epochNow() + 20, idempotent: false });
    await new Promise((r) => setTimeout(r, 60));
    expect(runner.overdue).toBe(1);
    const answer = await reply;
    expect(ended).toBe(true);
    expect(answer).toMatchObject({ ok: false, error: { code: 'WEX_DEADLINE_EXCEEDED' } });
    expect(runner.overdue).toBe(0);
    expect(runner.inFlight).toBe(0);
  });
});
