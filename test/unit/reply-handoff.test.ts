/**
 * The main thread's half of the bytes hand-off (src/engine/reply-handoff.ts): SearchReply bytes
 * that crossed a real MessageChannel in a transfer list decode to what the worker would have
 * built, and bytes that cannot be decoded fail with the typed error a worker would have sent.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { QueryError } from '../../src/errors.ts';
import { HandedReplyDecoder, decodeHandedReply, handedReplies } from '../../src/engine/reply-handoff.ts';
import type { QuerySpec } from '../../src/query/spec.ts';
import { codecs, loadCodecs } from '../../src/wire/codecs.ts';
import { decodeSearchReply } from '../../src/wire/reply-decoder.ts';
import type { ReadSpec } from '../../src/wire/request.ts';

await loadCodecs();

const f32 = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

function across(bytes: Uint8Array): Promise<{ received: Uint8Array; detached: boolean }> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    (port2 as MessagePort).once('message', (received: Uint8Array) => {
      port1.close();
      resolve({ received, detached: bytes.buffer.byteLength === 0 });
    });
    port1.postMessage(bytes, [bytes.buffer as ArrayBuffer]);
  });
}

describe('reply hand-off as bytes', () => {
  const results = [
    { properties: { nonRefProps: { fields: { title: { textValue: '삼성전자' }, when: { dateValue: '2024-01-02T03:04:05.000Z' } } } }, metadata: { id: 'a', distance: 0.25, distancePresent: true, vectorBytes: f32([0.5, -1]) } },
    { properties: { nonRefProps: { fields: { title: { textValue: 'b' } } } }, metadata: { id: 'b', distance: 0.5, distancePresent: true, vectorBytes: f32([2, 0.25]) } },
  ];
  const reply = Buffer.from(codecs.SearchReply.encode(codecs.SearchReply.fromPartial({ results } as never)).finish());
  const spec = { kind: 'nearVector', collection: 'C', vector: [1, 0], includeVector: true, returnMetadata: ['distance'] } as QuerySpec;

  it('moved bytes (not copied: the sender loses them) decode to the result the worker would have posted', async () => {
    const { received, detached } = await across(new Uint8Array(reply));
    expect(detached).toBe(true);
    const before = handedReplies.decoded;
    for (const format of ['array', 'float32'] as const) {
      expect(decodeHandedReply(received, spec, format)).toStrictEqual(decodeSearchReply(reply, spec as ReadSpec, format));
    }
    expect(handedReplies.decoded - before).toBe(2);
    const r = decodeHandedReply(received, spec, 'array');
    expect(r.objects.map((o) => o.uuid)).toEqual(['a', 'b']);
    expect(r.objects[0]!.properties['when']).toBeInstanceOf(Date);
  });

  it('bytes that cannot be decoded fail as in the worker: QueryError naming the deserialization error', () => {
    const error = (() => {
      try {
        decodeHandedReply(new Uint8Array([0x12, 0x7f, 0x0a]), spec, 'array');
      } catch (e) {
        return e;
      }
      return undefined;
    })() as QueryError;
    expect(error).toBeInstanceOf(QueryError);
    expect(error.code).toBe('WEX_QUERY_FAILED');
    expect(error.message).toMatch(/Malformed SearchReply/);
    expect(error.details).toMatchObject({ weaviateError: 'WeaviateDeserializationError' });
  });

  it('a decode slice: a burst of replies in one turn is decoded in order, partly in later turns, with timers running in between', async () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ properties: { nonRefProps: { fields: { title: { textValue: `t${i}` } } } }, metadata: { id: `id${i}`, vectorBytes: f32(Array.from({ length: 64 }, (_, k) => k / 64)) } }));
    const big = Buffer.from(codecs.SearchReply.encode(codecs.SearchReply.fromPartial({ results: many } as never)).finish());
    const expected = decodeSearchReply(big, spec as ReadSpec, 'array');
    const sliced = new HandedReplyDecoder(0.01);
    const events: string[] = [];
    setImmediate(() => events.push('other work'));
    const answers = Array.from({ length: 20 }, (_, i) => Promise.resolve(sliced.decode(new Uint8Array(big), spec, 'array')).then((r) => {
      events.push(`reply${i}`);
      return r;
    }));
    for (const r of await Promise.all(answers)) expect(r).toStrictEqual(expected);
    expect(events.filter((e) => e.startsWith('reply'))).toEqual(answers.map((_, i) => `reply${i}`));
    expect(sliced.deferred).toBeGreaterThan(0);
    expect(events.indexOf('other work')).toBeLessThan(events.length - 1); // other callbacks ran before the last reply was decoded
    // Slice 0: every reply decoded as it arrives, none deferred.
    const eager = new HandedReplyDecoder(0);
    expect(eager.decode(new Uint8Array(big), spec, 'array')).toStrictEqual(expected);
    expect(eager.deferred).toBe(0);
  });

  it('a deferred reply that cannot be decoded rejects with the typed error', async () => {
    const sliced = new HandedReplyDecoder(0.000001);
    const first = sliced.decode(new Uint8Array(reply), spec, 'array'); // spends the slice
    const bad = sliced.decode(new Uint8Array([0x12, 0x7f, 0x0a]), spec, 'array');
    expect(first).not.toBeInstanceOf(Promise);
    expect(bad).toBeInstanceOf(Promise);
    await expect(bad).rejects.toBeInstanceOf(QueryError);
  });
});
