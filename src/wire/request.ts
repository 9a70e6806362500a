/**
 * A read spec -> Weaviate's SearchRequest, field for field what weaviate-client 3.14 builds for
 * the same query through `collection.query.*` (its collections/serialize/index.js, for a server
 * >= 1.29 where vectors travel in the `vectors` field), without its option objects, filter
 * classes and promise chain. Encoded by weaviate-client's own generated codec.
 * test/integration/lean-differential.test.ts holds the two paths equal on a real Weaviate.
 */
import type { FilterOperator, FilterSpec, QuerySpec } from '../query/spec.ts';
import { storedName } from '../query/schema.ts';
import { codecs, type SearchRequest } from './codecs.ts';

export type ReadSpec = Exclude<QuerySpec, { kind: 'insertMany' }>;

let operators: Record<FilterOperator | 'and' | 'or' | 'not', number> | undefined;

/** base.proto's Filters_Operator values by our operator names (read once the codecs are loaded). */
function op(name: FilterOperator | 'and' | 'or' | 'not'): number {
  if (!operators) {
    const OP = codecs.FiltersOperator;
    operators = {
      and: OP['OPERATOR_AND']!,
      or: OP['OPERATOR_OR']!,
      not: OP['OPERATOR_NOT']!,
      equal: OP['OPERATOR_EQUAL']!,
      notEqual: OP['OPERATOR_NOT_EQUAL']!,
      lessThan: OP['OPERATOR_LESS_THAN']!,
      lessThanEqual: OP['OPERATOR_LESS_THAN_EQUAL']!,
      greaterThan: OP['OPERATOR_GREATER_THAN']!,
      greaterThanEqual: OP['OPERATOR_GREATER_THAN_EQUAL']!,
      like: OP['OPERATOR_LIKE']!,
      containsAny: OP['OPERATOR_CONTAINS_ANY']!,
      containsAll: OP['OPERATOR_CONTAINS_ALL']!,
      isNull: OP['OPERATOR_IS_NULL']!,
    };
  }
  return operators[name];
}

const isInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x);
const isFloat = (x: unknown) => typeof x === 'number' && !Number.isInteger(x);

/** weaviate-client's `Serialize.filtersGRPC` for property targets, with its value guards. */
function filter(f: FilterSpec): Record<string, unknown> {
  if ('and' in f) return { operator: op('and'), filters: f.and.map(filter) };
  if ('or' in f) return { operator: op('or'), filters: f.or.map(filter) };
  if ('not' in f) return { operator: op('not'), filters: [filter(f.not)] };
  const v = f.value as unknown;
  const list = Array.isArray(v) ? (v as unknown[]) : undefined;
  return {
    operator: op(f.operator),
    target: { property: f.property },
    valueText: typeof v === 'string' ? v : undefined,
    valueTextArray: list?.every((x) => typeof x === 'string') ? { values: list } : undefined,
    valueInt: isInt(v) ? v : undefined,
    valueIntArray: list?.every(isInt) ? { values: list } : undefined,
    valueNumber: isFloat(v) ? v : undefined,
    valueNumberArray: list?.every(isFloat) ? { values: list } : undefined,
    valueBoolean: typeof v === 'boolean' ? v : undefined,
    valueBooleanArray: list?.every((x) => typeof x === 'boolean') ? { values: list } : undefined,
  };
}

/** Little-endian float32, as weaviate-client's `Serialize.vectorToBytes`. */
export function vectorBytes(vector: readonly number[]): Uint8Array {
  const out = new Float32Array(vector.length);
  out.set(vector); // Float32Array is little-endian on every platform Node runs on (x64, arm64)
  return new Uint8Array(out.buffer);
}

const METADATA_KEY: Record<string, string> = { creationTime: 'creationTimeUnix', updateTime: 'lastUpdateTimeUnix' };

function common(spec: ReadSpec): Record<string, unknown> {
  const metadata: Record<string, unknown> = {
    uuid: true,
    vector: spec.includeVector === true && spec.targetVector === undefined,
    vectors: spec.includeVector === true && spec.targetVector !== undefined ? [spec.targetVector] : [],
  };
  for (const key of spec.returnMetadata ?? []) metadata[METADATA_KEY[key] ?? key] = true;
  return {
    collection: storedName(spec.collection),
    tenant: spec.tenant,
    consistencyLevel: codecs.ConsistencyUnspecified,
    limit: spec.limit,
    offset: spec.offset,
    filters: spec.filters ? filter(spec.filters) : undefined,
    properties: spec.returnProperties
      ? { nonRefProperties: spec.returnProperties, returnAllNonrefProperties: false, refProperties: [], objectProperties: [] }
      : undefined,
    metadata,
    uses123Api: true,
    uses125Api: true,
    uses127Api: true,
  };
}

function targets(spec: ReadSpec): Record<string, unknown> {
  return spec.targetVector === undefined ? {} : { targets: { targetVectors: [spec.targetVector] } };
}

function singleVector(vector: readonly number[]): Record<string, unknown>[] {
  return [{ type: codecs.VectorTypeSingleFp32, vectorBytes: vectorBytes(vector) }];
}

/** The SearchRequest for a read spec (validated beforehand by validateSpec). */
export function searchRequest(spec: ReadSpec): SearchRequest {
  const req = common(spec);
  switch (spec.kind) {
    case 'bm25':
      req['bm25Search'] = { query: spec.query, properties: spec.queryProperties };
      break;
    case 'hybrid':
      req['hybridSearch'] = {
        query: spec.query,
        alpha: spec.alpha ?? 0.5, // weaviate-client's default, not Weaviate's 0.75: the same answers as the client
        properties: spec.queryProperties,
        ...targets(spec),
        ...(spec.vector ? { vectors: singleVector(spec.vector) } : {}),
      };
      break;
    case 'nearVector':
      req['nearVector'] = { certainty: spec.certainty, distance: spec.distance, ...targets(spec), vectors: singleVector(spec.vector) };
      break;
    case 'fetchObjects':
      if (spec.sort) req['sortBy'] = [{ ascending: spec.sort.ascending ?? true, path: [spec.sort.property] }];
      break;
  }
  return codecs.SearchRequest.fromPartial(req);
}

/** The request as gRPC message bytes. */
export function encodeSearchRequest(request: SearchRequest): Buffer {
  const bytes = codecs.SearchRequest.encode(request).finish();
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
