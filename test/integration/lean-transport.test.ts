/**
 * The lean path's transport promises on the real Weaviate (src/wire/call.ts): auth metadata,
 * message size limits, deadlines (grpc-timeout) and cancellation, each ending in the same typed
 * error as weaviate-client where weaviate-client has the case, and none of them poisoning the
 * channel: the same channel answers the next query.
 */
import { Secret } from '../../src/secret.ts';
import { Channel, credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { createExecutor } from '../../src/engine/executor.ts';
import { isExecutorError } from '../../src/errors.ts';
import { classifyFailure } from '../../src/weaviate/failure.ts';
import type { WeaviateNode } from '../../src/launcher/node.ts';
import { silentLogger } from '../../src/log.ts';
import { resolveTarget } from '../../src/pool/config.ts';
import { executeSpec } from '../../src/query/execute.ts';
import type { QuerySpec } from '../../src/query/spec.ts';
import { createLeanPath, leanPathOf, type LeanPath } from '../../src/wire/lean-path.ts';
import { createOwnChannelClient } from '../../src/weaviate/client.ts';
import type { ReadSpec } from '../../src/wire/request.ts';
import { startLoadedNode } from '../support/loaded-node.ts';
import { sharedTarget } from '../support/weaviate.ts';

const target = resolveTarget(sharedTarget());
const small: ReadSpec = { kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 3 };
const heavy: ReadSpec = { kind: 'fetchObjects', collection: SAMPLE_COLLECTION, limit: 5000, includeVector: true };
const channels: Channel[] = [];

function leanOn(options: Record<string, number> = {}, headers: Record<string, string> = {}, address = `${target.grpcHost}:${target.grpcPort}`): Promise<LeanPath> {
  const channel = new Channel(address, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, ...options });
  channels.push(channel);
  return createLeanPath({ channel, headers, queryTimeoutMs: 10_000 });
}

afterAll(() => {
  for (const c of channels) c.close();
});

describe('lean path transport (real Weaviate)', () => {
  it("a reply above the channel's receive limit fails typed (RESOURCE_EXHAUSTED), and the channel keeps serving", async () => {
    const lean = await leanOn({ 'grpc.max_receive_message_length': 50_000 });
    const error = (await lean.search(heavy).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('WeaviateQueryError');
    expect(error.message).toMatch(/RESOURCE_EXHAUSTED/);
    expect(classifyFailure(error)).toBe('server'); // the connection is fine: not suspect, not retried
    expect((await lean.search(small)).objects).toHaveLength(3);
  });

  it('the engine deadline reaches Weaviate as grpc-timeout and ends the call as DeadlineExceededError; the channel keeps serving', async () => {
    const lean = await leanOn();
    const error = await lean.search(heavy, undefined, Date.now() + 2).catch((e: unknown) => e);
    expect(isExecutorError(error) && error.code).toBe('WEX_DEADLINE_EXCEEDED');
    expect(classifyFailure(error)).toBe('cancelled'); // our deadline: never a reason to distrust the connection
    expect((await lean.search(small)).objects).toHaveLength(3);
  });

  it("the caller's abort cancels the call at once with the signal's reason; the channel keeps serving", async () => {
    const lean = await leanOn();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const started = performance.now();
    const pending = lean.search(heavy, controller.signal);
    setTimeout(() => controller.abort(reason), 5);
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(5000); // bounded, not the heavy query's full time
    expect((await lean.search(small)).objects).toHaveLength(3);
  });

  it('a closed channel fails typed, as weaviate-client does (a transport failure the task runner retries elsewhere)', async () => {
    const lean = await leanOn();
    channels.at(-1)!.close();
    const error = (await lean.search(small).catch((e: unknown) => e)) as Error;
    expect({ name: error.name, message: error.message }).toEqual({ name: 'WeaviateQueryError', message: 'Query call with protocol gRPC failed with message: Channel has been shut down' });
    expect(classifyFailure(error)).toBe('transport');
  });

  it('a server that is not there fails typed (UNAVAILABLE, a transport failure the task runner retries)', async () => {
    const lean = await leanOn({}, {}, '127.0.0.1:1');
    const error = (await lean.search(small).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('WeaviateQueryError');
    expect(error.message).toMatch(/UNAVAILABLE/);
    expect(classifyFailure(error)).toBe('transport'); // by its status, not its text
  });

  describe('auth metadata (a node with an API key)', () => {
    const KEY = 'wx-lean-key-0f1e2d3c4b5a';
    let node: WeaviateNode;
    beforeAll(async () => {
      node = await startLoadedNode(50, { apiKey: { key: KEY } });
    });
    afterAll(async () => {
      await node?.stop();
    });

    it('the engine reads over the lean path with the key; a wrong key fails as it does with weaviate-client', async () => {
      const engine = await createExecutor({ weaviate: { ...node.target, apiKey: KEY }, workers: 0, minConnections: 1, maxConnections: 1, logger: silentLogger }, {});
      try {
        const r = (await engine.query({ ...small, limit: 2 })) as { objects: unknown[] };
        expect(r.objects).toHaveLength(2);
      } finally {
        await engine.close();
      }
      // A wrong key through the pooled client's own header building, once per path (the server
      // version is seeded, so neither makes a REST call that would fail on its own).
      const answer = async (path: 'lean' | 'client') => {
        const own = await createOwnChannelClient({ ...resolveTarget({ ...node.target }, {}), apiKey: new Secret('not-the-key') }, { keepaliveTimeMs: 300_000, keepaliveTimeoutMs: 20_000, queryTimeoutMs: 10_000, queryPath: path }, '1.39.0');
        try {
          expect(leanPathOf(own.client) !== undefined).toBe(path === 'lean');
          const e = (await executeSpec(own.client, small as QuerySpec).catch((x: unknown) => x)) as Error;
          return { name: e.name, message: e.message };
        } finally {
          await own.close();
        }
      };
      const lean = await answer('lean');
      expect(lean.name).toMatch(/^Weaviate/);
      expect(lean.message).toMatch(/api key/i);
      expect(lean).toEqual(await answer('client'));
    });
  });
});
