/**
 * Weaviate's SearchReply bytes -> the engine's plain QueryResult in one pass, with no
 * intermediate message objects: the generated decoder (weaviate-client's search_get.js) first
 * builds a SearchReply with a full MetadataResult and a `fields` map of Value objects per
 * object, which then has to be walked again; for a large reply (100 objects with vectors) that
 * was the biggest share of the client's CPU (bench/RESULTS.md).
 *
 * Field numbers and wire types are those of weaviate-client 3.14's generated code for
 * v1/search_get.proto, v1/properties.proto and v1/base.proto (its proto/v1/*.js `decode`); the
 * values come out exactly as weaviate-client's Deserialize followed by execute.ts's `plain()`
 * would give them (dates as Date, 64-bit lists from little-endian bytes, a null property as a
 * key holding undefined, metadata only as asked, one `default` vector unwrapped).
 * test/integration/lean-differential.test.ts holds this equal to weaviate-client on a real
 * Weaviate; test/unit/reply-decoder.test.ts checks it against the generated decoder plus a
 * field-for-field mapping (test/support/generated-reply.ts) on random replies.
 */
import type { QueryResult, ResultObject } from '../query/spec.ts';
import { codecs } from './codecs.ts';
import type { ReadSpec } from './request.ts';
import type { VectorFormat } from './options.ts';

const TWO_32 = 4294967296;
const MAX_SAFE_HI = 0x1fffff; // Number.MAX_SAFE_INTEGER = 0x1fffff_ffffffff

class Reader {
  pos: number;
  readonly buf: Buffer;
  constructor(buf: Buffer, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }
  uint32(): number {
    const b = this.buf;
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = b[this.pos++]!;
      if (shift < 28) value |= (byte & 0x7f) << shift;
      else if (shift === 28) value = (value | ((byte & 0x0f) << 28)) >>> 0;
      shift += 7;
      if (byte < 0x80) return value >>> 0;
      if (shift > 63) throw new RangeError('invalid varint');
    }
  }
  /** int64 as weaviate-client's `longToNumber(reader.int64())`. */
  int64(): number {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (; i < 4; i++) {
      const byte = b[this.pos++]!;
      lo = (lo | ((byte & 0x7f) << (i * 7))) >>> 0;
      if (byte < 0x80) return lo;
    }
    let byte = b[this.pos++]!;
    lo = (lo | ((byte & 0x7f) << 28)) >>> 0;
    hi = (byte & 0x7f) >> 4;
    if (byte >= 0x80) {
      for (i = 0; i < 5; i++) {
        byte = b[this.pos++]!;
        hi = (hi | ((byte & 0x7f) << (i * 7 + 3))) >>> 0;
        if (byte < 0x80) break;
      }
      if (byte >= 0x80) throw new RangeError('invalid varint');
    }
    const signedHi = hi | 0;
    if (signedHi > MAX_SAFE_HI) throw new Error('Value is larger than Number.MAX_SAFE_INTEGER');
    return signedHi * TWO_32 + lo;
  }
  bool(): boolean {
    return this.uint32() !== 0;
  }
  float(): number {
    const v = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return v;
  }
  double(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }
  /** A length-delimited field: returns its end and leaves pos at its start. */
  len(): number {
    const n = this.uint32(); // before reading pos: the varint moves it
    const end = this.pos + n;
    if (end > this.buf.length) throw new RangeError(`field length beyond the message (${end} > ${this.buf.length})`);
    return end;
  }
  string(): string {
    const end = this.len();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end;
    return s;
  }
  bytes(): Uint8Array {
    const end = this.len();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }
  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        while (this.buf[this.pos++]! >= 0x80);
        break;
      case 1:
        this.pos += 8;
        break;
      case 2:
        this.pos = this.len();
        break;
      case 5:
        this.pos += 4;
        break;
      default:
        throw new RangeError(`invalid wire type ${wireType} at offset ${this.pos}`);
    }
  }
}

// ---- properties (v1/properties.proto) ----------------------------------------------------------

/** Value: the first set field in weaviate-client's order (bool, date, int, list, number, object, text, uuid, blob, geo, phone, null). */
function value(r: Reader, end: number): unknown {
  let bool: boolean | undefined;
  let date: string | undefined;
  let int: number | undefined;
  let list: unknown;
  let hasList = false;
  let number: number | undefined;
  let object: Record<string, unknown> | undefined;
  let text: string | undefined;
  let uuid: string | undefined;
  let blob: string | undefined;
  let geo: unknown;
  let phone: unknown;
  let isNull = false;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 9: number = r.double(); break;
      case 24: bool = r.bool(); break;
      case 34: object = properties(r, r.len()); break;
      case 42: list = listValue(r, r.len()); hasList = true; break;
      case 50: date = r.string(); break;
      case 58: uuid = r.string(); break;
      case 64: int = r.int64(); break;
      case 74: geo = codecs.GeoCoordinate.decode(r.bytes()); break;
      case 82: blob = r.string(); break;
      case 90: phone = codecs.PhoneNumber.decode(r.bytes()); break;
      case 96: r.uint32(); isNull = true; break;
      case 106: text = r.string(); break;
      default: r.skip(tag & 7);
    }
  }
  if (bool !== undefined) return bool;
  if (date !== undefined) return new Date(date);
  if (int !== undefined) return int;
  if (hasList) return list;
  if (number !== undefined) return number;
  if (object !== undefined) return object;
  if (text !== undefined) return text;
  if (uuid !== undefined) return uuid;
  if (blob !== undefined) return blob;
  if (geo !== undefined) return geo;
  if (phone !== undefined) return phone;
  if (isNull) return undefined;
  throw new codecs.WeaviateDeserializationError('Unknown value type: {}');
}

/** Properties: map<string, Value> (entries key = 1, value = 2); an entry without a value is dropped. */
function properties(r: Reader, end: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag !== 10) {
      r.skip(tag & 7);
      continue;
    }
    const entryEnd = r.len();
    let key = '';
    let v: unknown;
    let hasValue = false;
    while (r.pos < entryEnd) {
      const t = r.uint32();
      if (t === 10) key = r.string();
      else if (t === 18) {
        v = value(r, r.len());
        hasValue = true;
      } else r.skip(t & 7);
    }
    if (hasValue) out[key] = v;
  }
  return out;
}

function repeatedStrings(r: Reader, end: number): string[] {
  const out: string[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) out.push(r.string());
    else r.skip(tag & 7);
  }
  return out;
}

function lastBytes(r: Reader, end: number): Uint8Array {
  let out: Uint8Array = new Uint8Array(0);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) out = r.bytes();
    else r.skip(tag & 7);
  }
  return out;
}

function int64List(bytes: Uint8Array): number[] {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  return Array.from(new BigInt64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 3), Number);
}

function float64List(bytes: Uint8Array): number[] {
  const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  return Array.from(new Float64Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 3));
}

function listValue(r: Reader, end: number): unknown {
  // weaviate-client's order: bool, date, int, number, object, text, uuid.
  let bools: boolean[] | undefined;
  let dates: string[] | undefined;
  let ints: Uint8Array | undefined;
  let numbers: Uint8Array | undefined;
  let objects: Record<string, unknown>[] | undefined;
  let texts: string[] | undefined;
  let uuids: string[] | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 18: numbers = lastBytes(r, r.len()); break;
      case 26: {
        const e = r.len();
        bools = [];
        while (r.pos < e) {
          const t = r.uint32();
          if (t === 8) bools.push(r.bool());
          else if (t === 10) {
            const pe = r.len();
            while (r.pos < pe) bools.push(r.bool());
          } else r.skip(t & 7);
        }
        break;
      }
      case 34: {
        const e = r.len();
        objects = [];
        while (r.pos < e) {
          const t = r.uint32();
          if (t === 10) objects.push(properties(r, r.len()));
          else r.skip(t & 7);
        }
        break;
      }
      case 42: dates = repeatedStrings(r, r.len()); break;
      case 50: uuids = repeatedStrings(r, r.len()); break;
      case 58: ints = lastBytes(r, r.len()); break;
      case 66: texts = repeatedStrings(r, r.len()); break;
      default: r.skip(tag & 7);
    }
  }
  if (bools !== undefined) return bools;
  if (dates !== undefined) return dates.map((d) => new Date(d));
  if (ints !== undefined) return int64List(ints);
  if (numbers !== undefined) return float64List(numbers);
  if (objects !== undefined) return objects;
  if (texts !== undefined) return texts;
  if (uuids !== undefined) return uuids;
  throw new Error('Unknown list value type: {}');
}

// ---- metadata and vectors (v1/search_get.proto MetadataResult, v1/base.proto Vectors) -----------

function floats(buf: Buffer, start: number, end: number): number[] {
  const n = (end - start) >> 2;
  const out = new Array<number>(n);
  if ((buf.byteOffset + start) % 4 === 0) {
    const f32 = new Float32Array(buf.buffer, buf.byteOffset + start, n);
    for (let i = 0; i < n; i++) out[i] = f32[i]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(start + 4 * i);
  }
  return out;
}

interface Meta {
  id: string;
  creationTime?: Date;
  updateTime?: Date;
  distance?: number;
  certainty?: number;
  score?: number;
  explainScore?: string;
  isConsistent?: boolean;
  /** vector_bytes (the unnamed vector) as [start, end) of the buffer, when present. */
  vectorAt?: [number, number];
  vectors?: { name: string; at: [number, number]; type: number }[];
}

function vectorsEntry(r: Reader, end: number): { name: string; at: [number, number]; type: number } {
  let name = '';
  let at: [number, number] = [0, 0];
  let type = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) name = r.string();
    else if (tag === 26) {
      const e = r.len();
      at = [r.pos, e];
      r.pos = e;
    } else if (tag === 32) type = r.uint32() | 0;
    else r.skip(tag & 7);
  }
  return { name, at, type };
}

function metadata(r: Reader, end: number): Meta {
  const m: Meta = { id: '' };
  let creation = 0, creationPresent = false;
  let update = 0, updatePresent = false;
  let distance = 0, distancePresent = false;
  let certainty = 0, certaintyPresent = false;
  let score = 0, scorePresent = false;
  let explain = '', explainPresent = false;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 10: m.id = r.string(); break;
      case 24: creation = r.int64(); break;
      case 32: creationPresent = r.bool(); break;
      case 40: update = r.int64(); break;
      case 48: updatePresent = r.bool(); break;
      case 61: distance = r.float(); break;
      case 64: distancePresent = r.bool(); break;
      case 77: certainty = r.float(); break;
      case 80: certaintyPresent = r.bool(); break;
      case 93: score = r.float(); break;
      case 96: scorePresent = r.bool(); break;
      case 106: explain = r.string(); break;
      case 112: explainPresent = r.bool(); break;
      case 120: m.isConsistent = r.bool(); break;
      case 154: {
        const e = r.len();
        m.vectorAt = e > r.pos ? [r.pos, e] : undefined;
        r.pos = e;
        break;
      }
      case 186: (m.vectors ??= []).push(vectorsEntry(r, r.len())); break;
      default: r.skip(tag & 7);
    }
  }
  // A value and its "present" flag may come in either order: combine them at the end.
  if (creationPresent) m.creationTime = new Date(creation);
  if (updatePresent) m.updateTime = new Date(update);
  if (distancePresent) m.distance = distance;
  if (certaintyPresent) m.certainty = certainty;
  if (scorePresent) m.score = score;
  if (explainPresent) m.explainScore = explain;
  return m;
}

function multiVector(buf: Buffer, start: number, end: number): number[][] {
  const dim = buf[start]! | (buf[start + 1]! << 8);
  const out: number[][] = [];
  for (let at = start + 2; dim > 0 && at + dim * 4 <= end; at += dim * 4) out.push(floats(buf, at, at + dim * 4));
  return out;
}

/** A single vector as its own Float32Array (a copy: the reply buffer is grpc-js's and is not kept). */
function float32(buf: Buffer, start: number, end: number): Float32Array {
  const out = new Float32Array((end - start) >> 2);
  new Uint8Array(out.buffer).set(buf.subarray(start, end));
  return out;
}

function vectorOf(buf: Buffer, m: Meta, format: VectorFormat): ResultObject['vector'] {
  const one = format === 'float32' ? float32 : floats;
  if (m.vectorAt) return one(buf, m.vectorAt[0], m.vectorAt[1]) as number[];
  const named: Record<string, number[]> = {};
  for (const v of m.vectors ?? []) named[v.name] = (v.type === codecs.VectorTypeMultiFp32 ? multiVector(buf, v.at[0], v.at[1]) : one(buf, v.at[0], v.at[1])) as number[];
  const keys = Object.keys(named);
  return keys.length === 1 && keys[0] === 'default' ? named['default'] : named;
}

const METADATA_READ: Record<string, (m: Meta) => unknown> = {
  creationTime: (m) => m.creationTime,
  updateTime: (m) => m.updateTime,
  distance: (m) => m.distance,
  certainty: (m) => m.certainty,
  score: (m) => m.score,
  explainScore: (m) => m.explainScore,
  isConsistent: (m) => m.isConsistent || undefined,
};

// ---- the reply ---------------------------------------------------------------------------------

/**
 * How vectors come out: `array` (numbers, the engine's shape, what weaviate-client gives) or
 * `float32` (a Float32Array per vector: a structured clone copies its bytes in one go instead of
 * one heap number per element; see bench/RESULTS.md for the hand-off it saves).
 */
export type { VectorFormat } from './options.ts';

function result(r: Reader, end: number, spec: ReadSpec, format: VectorFormat): ResultObject {
  let props: Record<string, unknown> = {};
  let meta: Meta | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 10) {
      const e = r.len();
      while (r.pos < e) {
        const t = r.uint32();
        if (t === 90) props = properties(r, r.len());
        else r.skip(t & 7);
      }
    } else if (tag === 18) meta = metadata(r, r.len());
    else r.skip(tag & 7);
  }
  if (!meta || !(meta.id.length > 0)) throw new codecs.WeaviateDeserializationError('No uuid returned from server');
  const out: ResultObject = { uuid: meta.id, properties: props };
  if (spec.returnMetadata) {
    const md: Record<string, unknown> = {};
    for (const key of spec.returnMetadata) {
      const v = METADATA_READ[key]?.(meta);
      if (v !== undefined) md[key] = v;
    }
    out.metadata = md;
  }
  if (spec.includeVector === true) out.vector = vectorOf(r.buf, meta, format);
  return out;
}

/** Decode a SearchReply message (gRPC frame payload) into the plain result of `spec`. */
export function decodeSearchReply(buf: Buffer, spec: ReadSpec, format: VectorFormat = 'array'): QueryResult {
  const r = new Reader(buf);
  const objects: ResultObject[] = [];
  try {
    while (r.pos < buf.length) {
      const tag = r.uint32();
      if (tag === 18) objects.push(result(r, r.len(), spec, format));
      else r.skip(tag & 7);
    }
  } catch (error) {
    if (error instanceof codecs.WeaviateDeserializationError) throw error;
    throw new codecs.WeaviateDeserializationError(`Malformed SearchReply from the server: ${(error as Error).message}`);
  }
  return { objects };
}
