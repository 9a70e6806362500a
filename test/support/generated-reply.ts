/**
 * The reference the one-pass decoder (src/wire/reply-decoder.ts) is checked against in
 * test/unit/reply-decoder.test.ts: weaviate-client's generated SearchReply decoder followed by
 * this field-for-field mapping (it was the lean path's first decoder; measured slower).
 *
 * Weaviate's SearchReply -> the engine's plain QueryResult, the same values src/query/execute.ts
 * gets from weaviate-client (its collections/deserialize/index.js followed by `plain()`): dates
 * as Date, int and number lists from little-endian 64-bit bytes, a null property as a key
 * holding undefined, metadata filtered to what was asked, vectors as arrays of numbers (one
 * `default` vector unwrapped). No intermediate weaviate-client objects, no promise per object.
 */
import type { QueryResult, ResultObject } from '../../src/query/spec.ts';
import { codecs, type ListValue, type MetadataResult, type PropertiesFields, type PropertiesValue, type SearchReply } from '../../src/wire/codecs.ts';
import type { ReadSpec } from '../../src/wire/request.ts';

function value(v: PropertiesValue): unknown {
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.dateValue !== undefined) return new Date(v.dateValue);
  if (v.intValue !== undefined) return v.intValue;
  if (v.listValue !== undefined) return list(v.listValue);
  if (v.numberValue !== undefined) return v.numberValue;
  if (v.objectValue !== undefined) return object(v.objectValue);
  if (v.textValue !== undefined) return v.textValue;
  if (v.uuidValue !== undefined) return v.uuidValue;
  if (v.blobValue !== undefined) return v.blobValue;
  if (v.geoValue !== undefined) return v.geoValue;
  if (v.phoneValue !== undefined) return v.phoneValue;
  if (v.nullValue !== undefined) return undefined;
  throw new codecs.WeaviateDeserializationError(`Unknown value type: ${JSON.stringify(v, null, 2)}`);
}

/** 64-bit little-endian values (Weaviate's int and number lists); copies to an aligned buffer when needed. */
function view64<T extends BigInt64Array | Float64Array>(bytes: Uint8Array, Kind: new (b: ArrayBufferLike, o: number, n: number) => T): T {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes); // a copy (Buffer#slice would not copy)
  return new Kind(aligned.buffer, aligned.byteOffset, aligned.byteLength / 8);
}

function list(v: ListValue): unknown {
  if (v.boolValues !== undefined) return v.boolValues.values;
  if (v.dateValues !== undefined) return v.dateValues.values.map((d) => new Date(d));
  if (v.intValues !== undefined) return Array.from(view64(v.intValues.values, BigInt64Array), Number);
  if (v.numberValues !== undefined) return Array.from(view64(v.numberValues.values, Float64Array));
  if (v.objectValues !== undefined) return v.objectValues.values.map(object);
  if (v.textValues !== undefined) return v.textValues.values;
  if (v.uuidValues !== undefined) return v.uuidValues.values;
  throw new Error(`Unknown list value type: ${JSON.stringify(v, null, 2)}`);
}

function object(p: PropertiesFields | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (p) for (const key in p.fields) out[key] = value(p.fields[key]!);
  return out;
}

/** A float32 vector as numbers (the engine's shape today). A plain loop: Array.from over a typed array was 9 % of a large reply's CPU. */
function vectorOf(bytes: Uint8Array): number[] {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  const f32 = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
  const out = new Array<number>(f32.length);
  for (let i = 0; i < f32.length; i++) out[i] = f32[i]!;
  return out;
}

/** A multi-vector: uint16 dimension, then the vectors. */
function multiVectorOf(bytes: Uint8Array): number[][] {
  const dim = bytes[0]! | (bytes[1]! << 8);
  const out: number[][] = [];
  for (let at = 2; dim > 0 && at + dim * 4 <= bytes.byteLength; at += dim * 4) out.push(vectorOf(bytes.subarray(at, at + dim * 4)));
  return out;
}

function metadataOf(m: MetadataResult, wanted: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of wanted) {
    switch (key) {
      case 'creationTime':
        if (m.creationTimeUnixPresent) out[key] = new Date(m.creationTimeUnix);
        break;
      case 'updateTime':
        if (m.lastUpdateTimeUnixPresent) out[key] = new Date(m.lastUpdateTimeUnix);
        break;
      case 'distance':
        if (m.distancePresent) out[key] = m.distance;
        break;
      case 'certainty':
        if (m.certaintyPresent) out[key] = m.certainty;
        break;
      case 'score':
        if (m.scorePresent) out[key] = m.score;
        break;
      case 'explainScore':
        if (m.explainScorePresent) out[key] = m.explainScore;
        break;
      case 'isConsistent':
        if (m.isConsistent) out[key] = m.isConsistent;
        break;
    }
  }
  return out;
}

function vectorsOf(m: MetadataResult): ResultObject['vector'] {
  if (m.vectorBytes.length > 0) return vectorOf(m.vectorBytes);
  const named: Record<string, number[]> = {};
  for (const v of m.vectors) named[v.name] = (v.type === codecs.VectorTypeMultiFp32 ? multiVectorOf(v.vectorBytes) : vectorOf(v.vectorBytes)) as number[];
  const keys = Object.keys(named);
  return keys.length === 1 && keys[0] === 'default' ? named['default'] : named;
}

export function queryResult(reply: SearchReply, spec: ReadSpec): QueryResult {
  const wanted = spec.returnMetadata;
  const withVector = spec.includeVector === true;
  const objects: ResultObject[] = new Array(reply.results.length);
  for (let i = 0; i < reply.results.length; i++) {
    const r = reply.results[i]!;
    const m = r.metadata;
    if (!m || !(m.id.length > 0)) throw new codecs.WeaviateDeserializationError('No uuid returned from server');
    const out: ResultObject = { uuid: m.id, properties: object(r.properties?.nonRefProps) };
    if (wanted) out.metadata = metadataOf(m, wanted);
    if (withVector) out.vector = vectorsOf(m);
    objects[i] = out;
  }
  return { objects };
}
