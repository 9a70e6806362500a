/**
 * The one-pass reply decoder (src/wire/reply-decoder.ts) against the reference: weaviate-client's
 * generated SearchReply decoder followed by the field-for-field mapping of test/support/generated-reply.ts.
 * Random replies (every property value kind, nested objects, lists, metadata with and without
 * "present" flags, unnamed, named and multi vectors) are encoded with the generated encoder, so
 * the bytes are what a protobuf peer would send. No server needed; the integration test
 * lean-differential.test.ts checks the whole path against weaviate-client on a real Weaviate.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { METADATA_FIELDS, type MetadataField } from '../../src/query/spec.ts';
import { codecs, loadCodecs } from '../../src/wire/codecs.ts';
import { decodeSearchReply } from '../../src/wire/reply-decoder.ts';
import { queryResult } from '../support/generated-reply.ts';
import type { ReadSpec } from '../../src/wire/request.ts';

await loadCodecs();

const le64 = (xs: bigint[] | number[], kind: 'int' | 'float') => {
  const arr = kind === 'int' ? BigInt64Array.from(xs as bigint[]) : Float64Array.from(xs as number[]);
  return new Uint8Array(arr.buffer);
};
const f32 = (xs: number[]) => new Uint8Array(Float32Array.from(xs).buffer);

const isoDate = fc.integer({ min: 0, max: 4_000_000_000_000 }).map((ms) => new Date(ms).toISOString());
const text = fc.string({ maxLength: 12 });
const safeInt = fc.integer({ min: -(2 ** 40), max: 2 ** 40 });

const scalar = fc.oneof(
  fc.double({ noNaN: true }).map((numberValue) => ({ numberValue })),
  fc.boolean().map((boolValue) => ({ boolValue })),
  isoDate.map((dateValue) => ({ dateValue })),
  fc.uuid().map((uuidValue) => ({ uuidValue })),
  safeInt.map((intValue) => ({ intValue })),
  text.map((textValue) => ({ textValue })),
  text.map((blobValue) => ({ blobValue })),
  fc.record({ latitude: fc.float({ noNaN: true }), longitude: fc.float({ noNaN: true }) }).map((geoValue) => ({ geoValue })),
  fc.constant({ nullValue: 0 }),
);

const { value } = fc.letrec<{ value: Record<string, unknown>; props: Record<string, unknown> }>((tie) => ({
  props: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie('value'), { maxKeys: 4 }).map((fields) => ({ fields })),
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    tie('props').map((objectValue) => ({ objectValue })),
    fc.oneof(
      fc.array(fc.boolean(), { maxLength: 4 }).map((values) => ({ boolValues: { values } })),
      fc.array(isoDate, { maxLength: 3 }).map((values) => ({ dateValues: { values } })),
      fc.array(fc.bigInt({ min: -(2n ** 50n), max: 2n ** 50n }), { maxLength: 4 }).map((xs) => ({ intValues: { values: le64(xs, 'int') } })),
      fc.array(fc.double({ noNaN: true }), { maxLength: 4 }).map((xs) => ({ numberValues: { values: le64(xs, 'float') } })),
      fc.array(tie('props'), { maxLength: 2 }).map((values) => ({ objectValues: { values } })),
      fc.array(text, { maxLength: 3 }).map((values) => ({ textValues: { values } })),
      fc.array(fc.uuid(), { maxLength: 3 }).map((values) => ({ uuidValues: { values } })),
    ).map((listValue) => ({ listValue })),
  ),
}));

const vector = (n: number) => fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: n, maxLength: n });

const metadata = fc.record({
  id: fc.uuid(),
  creationTimeUnix: fc.integer({ min: 0, max: 4_000_000_000_000 }),
  creationTimeUnixPresent: fc.boolean(),
  lastUpdateTimeUnix: fc.integer({ min: 0, max: 4_000_000_000_000 }),
  lastUpdateTimeUnixPresent: fc.boolean(),
  distance: fc.float({ noNaN: true }),
  distancePresent: fc.boolean(),
  certainty: fc.float({ noNaN: true }),
  certaintyPresent: fc.boolean(),
  score: fc.float({ noNaN: true }),
  scorePresent: fc.boolean(),
  explainScore: text,
  explainScorePresent: fc.boolean(),
  isConsistent: fc.option(fc.boolean(), { nil: undefined }),
  vectorBytes: fc.option(vector(4).map(f32), { nil: undefined }),
  vectors: fc.array(
    fc.oneof(
      fc.record({ name: fc.constantFrom('default', 'a', 'b'), vectorBytes: vector(3).map(f32), type: fc.constant(codecs.VectorTypeSingleFp32) }),
      fc.record({
        name: fc.constantFrom('m', 'n'),
        vectorBytes: fc.array(vector(2), { minLength: 1, maxLength: 3 }).map((vs) => new Uint8Array([2, 0, ...f32(vs.flat())])),
        type: fc.constant(codecs.VectorTypeMultiFp32),
      }),
    ),
    { maxLength: 2 },
  ),
});

const reply = fc.array(
  fc.record({ properties: fc.record({ nonRefProps: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 5 }).map((fields) => ({ fields })) }), metadata }),
  { maxLength: 4 },
);

const spec = fc.record({
  returnMetadata: fc.option(fc.subarray([...METADATA_FIELDS] as MetadataField[], { minLength: 1 }), { nil: undefined }),
  includeVector: fc.boolean(),
});

describe('reply decoder (one pass) = generated decoder + mapping', () => {
  it('gives the same plain result for random replies', () => {
    fc.assert(
      fc.property(reply, spec, (results, s) => {
        const bytes = Buffer.from(codecs.SearchReply.encode(codecs.SearchReply.fromPartial({ took: 1.5, results } as never)).finish());
        const full = { kind: 'fetchObjects', collection: 'C', ...(s.returnMetadata ? { returnMetadata: s.returnMetadata } : {}), includeVector: s.includeVector } as ReadSpec;
        expect(decodeSearchReply(bytes, full)).toStrictEqual(queryResult(codecs.SearchReply.decode(bytes), full));
      }),
      { numRuns: 300 },
    );
  });

  it('float32 format: the same vectors as Float32Array copies, everything else equal', () => {
    fc.assert(
      fc.property(reply, (results) => {
        const bytes = Buffer.from(codecs.SearchReply.encode(codecs.SearchReply.fromPartial({ results } as never)).finish());
        const s = { kind: 'fetchObjects', collection: 'C', includeVector: true } as ReadSpec;
        const typed = decodeSearchReply(bytes, s, 'float32');
        const plain = decodeSearchReply(bytes, s, 'array');
        const back = (v: unknown): unknown => (v instanceof Float32Array ? Array.from(v) : Array.isArray(v) ? v : Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, back(x)])));
        typed.objects.forEach((o, i) => {
          expect(o.vector instanceof Float32Array || Object.values(o.vector ?? {}).every((x) => x instanceof Float32Array || Array.isArray(x))).toBe(true);
          expect({ ...o, vector: back(o.vector) }).toStrictEqual(plain.objects[i]);
          if (o.vector instanceof Float32Array) expect(o.vector.buffer.byteLength).toBe(o.vector.byteLength); // its own buffer, not a view of the reply
        });
      }),
      { numRuns: 200 },
    );
  });

  it('reads values at odd offsets inside a larger buffer (a gRPC frame is a slice of a socket read)', () => {
    const results = [{ properties: { nonRefProps: { fields: { n: { listValue: { numberValues: { values: le64([1.5, -2], 'float') } } } } } }, metadata: { id: 'x', vectorBytes: f32([0.25, 0.5]) } }];
    const bytes = Buffer.from(codecs.SearchReply.encode(codecs.SearchReply.fromPartial({ results } as never)).finish());
    const shifted = Buffer.concat([Buffer.from([1, 2, 3]), bytes]).subarray(3);
    const s = { kind: 'fetchObjects', collection: 'C', includeVector: true } as ReadSpec;
    expect(decodeSearchReply(shifted, s)).toStrictEqual({ objects: [{ uuid: 'x', properties: { n: [1.5, -2] }, vector: [0.25, 0.5] }] });
  });

  it('a reply without a uuid, or malformed bytes, is a typed deserialization error', () => {
    const s = { kind: 'fetchObjects', collection: 'C' } as ReadSpec;
    const noId = Buffer.from(codecs.SearchReply.encode(codecs.SearchReply.fromPartial({ results: [{ metadata: { id: '' } }] } as never)).finish());
    expect(() => decodeSearchReply(noId, s)).toThrow(/No uuid returned from server/);
    expect(() => decodeSearchReply(Buffer.from([0x12, 0x7f, 0x0a]), s)).toThrow(expect.objectContaining({ name: 'WeaviateDeserializationError' }));
  });
});
