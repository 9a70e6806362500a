/**
 * Query specs: plain, serialisable descriptions of a Weaviate query (or write) that can cross
 * a thread boundary and an HTTP body alike. `validateSpec` checks one completely BEFORE it is
 * queued, and names the field at fault with its JSON path (`filters.and[1].value`), so a bad
 * request fails at once with a typed ValidationError instead of poisoning a connection, a
 * worker or a lane.
 */
import { ValidationError } from '../errors.ts';
import { show } from '../validate.ts';
import type { CollectionShape } from './schema.ts';

export const MAX_LIMIT = 10_000;
export const MAX_VECTOR_LENGTH = 65_536;
export const MAX_QUERY_LENGTH = 4_096;
export const MAX_INSERT_OBJECTS = 1_000;
export const MAX_FILTER_DEPTH = 8;
export const MAX_FILTER_NODES = 256;

export const METADATA_FIELDS = ['distance', 'certainty', 'score', 'explainScore', 'creationTime', 'updateTime', 'isConsistent'] as const;
export type MetadataField = (typeof METADATA_FIELDS)[number];

export const FILTER_OPERATORS = [
  'equal', 'notEqual', 'lessThan', 'lessThanEqual', 'greaterThan', 'greaterThanEqual',
  'like', 'containsAny', 'containsAll', 'isNull',
] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];

export type FilterValue = string | number | boolean | string[] | number[] | boolean[];

export type FilterSpec =
  | { property: string; operator: FilterOperator; value: FilterValue }
  | { and: FilterSpec[] }
  | { or: FilterSpec[] }
  | { not: FilterSpec };

interface Common {
  /** Collection name as created (`m_asset_schema`); Weaviate capitalises it when storing. */
  collection: string;
  limit?: number;
  offset?: number;
  filters?: FilterSpec;
  returnProperties?: string[];
  returnMetadata?: MetadataField[];
  /** Return each object's vector. */
  includeVector?: boolean;
  /** Named vector to search / return (collections with several vectors). */
  targetVector?: string;
  tenant?: string;
  /** Replicas that must answer (replicated collections): passed to Weaviate as is. @default Weaviate's (QUORUM) */
  consistencyLevel?: ConsistencyLevel;
}

/** Weaviate's consistency levels for replicated collections. */
export const CONSISTENCY_LEVELS = ['ONE', 'QUORUM', 'ALL'] as const;
export type ConsistencyLevel = (typeof CONSISTENCY_LEVELS)[number];

export interface HybridSpec extends Common {
  kind: 'hybrid';
  query: string;
  /** The caller's embedding of the query (collections without a vectorizer need it). */
  vector?: number[];
  /** 0 = pure keyword (bm25), 1 = pure vector. @default 0.75 (Weaviate's default) */
  alpha?: number;
  queryProperties?: string[];
}
export interface NearVectorSpec extends Common {
  kind: 'nearVector';
  vector: number[];
  distance?: number;
  certainty?: number;
}
export interface Bm25Spec extends Common {
  kind: 'bm25';
  query: string;
  queryProperties?: string[];
}
export interface FetchObjectsSpec extends Common {
  kind: 'fetchObjects';
  sort?: { property: string; ascending?: boolean };
}
export interface InsertManySpec {
  kind: 'insertMany';
  collection: string;
  objects: { id?: string; properties: Record<string, unknown>; vector?: number[] }[];
  tenant?: string;
  /** Replicas that must acknowledge the write. @default Weaviate's (QUORUM) */
  consistencyLevel?: ConsistencyLevel;
}

export type QuerySpec = HybridSpec | NearVectorSpec | Bm25Spec | FetchObjectsSpec | InsertManySpec;
export type QueryKind = QuerySpec['kind'];
export const QUERY_KINDS: readonly QueryKind[] = ['hybrid', 'nearVector', 'bm25', 'fetchObjects', 'insertMany'];

/** Reads are safe to retry; writes are not (unless the caller says so). */
export function isReadSpec(spec: QuerySpec): boolean {
  return spec.kind !== 'insertMany';
}

export interface ResultObject {
  uuid: string;
  properties: Record<string, unknown>;
  metadata?: Partial<Record<MetadataField, unknown>>;
  /** Float32Array only when the lean path is set to return them (VECTOR_STORE_VECTORS=float32). */
  vector?: number[] | Record<string, number[]> | Float32Array | Record<string, Float32Array>;
}
export interface QueryResult {
  objects: ResultObject[];
}
export interface InsertResult {
  inserted: number;
  uuids: string[];
  errors: { index: number; message: string }[];
}

// ---- validation ---------------------------------------------------------------------------------

function bad(field: string, expected: string, value: unknown, extra: Record<string, unknown> = {}): never {
  throw new ValidationError(`Invalid query: \`${field}\` must be ${expected}, got ${show(value)}`, { field, expected, ...extra });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const COMMON_KEYS = ['kind', 'collection', 'limit', 'offset', 'filters', 'returnProperties', 'returnMetadata', 'includeVector', 'targetVector', 'tenant', 'consistencyLevel'];
const KIND_KEYS: Record<QueryKind, string[]> = {
  hybrid: [...COMMON_KEYS, 'query', 'vector', 'alpha', 'queryProperties'],
  nearVector: [...COMMON_KEYS, 'vector', 'distance', 'certainty'],
  bm25: [...COMMON_KEYS, 'query', 'queryProperties'],
  fetchObjects: [...COMMON_KEYS, 'sort'],
  insertMany: ['kind', 'collection', 'objects', 'tenant', 'consistencyLevel'],
};

function checkKeys(path: string, obj: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new ValidationError(`Invalid query: unknown field \`${path}${key}\`; allowed: ${allowed.join(', ')}`, { field: `${path}${key}` });
    }
  }
}

function int(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) bad(field, `an integer between ${min} and ${max}`, v);
  return v;
}

function finite(field: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    bad(field, min === -Infinity ? 'a finite number' : `a finite number between ${min} and ${max}`, v);
  }
  return v;
}

function text(field: string, v: unknown, maxLength: number): string {
  if (typeof v !== 'string' || v.trim() === '') bad(field, 'a non-empty string', v);
  if (v.length > maxLength) bad(field, `at most ${maxLength} characters`, `${v.slice(0, 20)}... (${v.length} characters)`);
  return v;
}

function vector(field: string, v: unknown, shape: CollectionShape | undefined, targetVector: string | undefined): number[] {
  if (!Array.isArray(v) || v.length === 0) bad(field, 'a non-empty array of numbers', v);
  if (v.length > MAX_VECTOR_LENGTH) bad(field, `at most ${MAX_VECTOR_LENGTH} numbers`, `array of ${v.length}`);
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as unknown;
    if (typeof x !== 'number' || !Number.isFinite(x)) bad(`${field}[${i}]`, 'a finite number', x);
  }
  const expected = shape?.vectorDimensions[targetVector ?? 'default'];
  if (expected !== undefined && v.length !== expected) {
    throw new ValidationError(
      `Invalid query: \`${field}\` has ${v.length} dimensions, but collection \`${shape!.name}\`${targetVector ? ` (vector \`${targetVector}\`)` : ''} holds ${expected}-dimensional vectors`,
      { field, expected, got: v.length },
    );
  }
  return v as number[];
}

function propertyName(field: string, v: unknown, shape: CollectionShape | undefined): string {
  const name = text(field, v, 256);
  if (shape && !(name in shape.properties)) {
    throw new ValidationError(
      `Invalid query: \`${field}\` names \`${name}\`, which collection \`${shape.name}\` does not have; it has: ${Object.keys(shape.properties).join(', ')}`,
      { field, value: name },
    );
  }
  return name;
}

function stringList(field: string, v: unknown, shape: CollectionShape | undefined): string[] {
  if (!Array.isArray(v) || v.length === 0) bad(field, 'a non-empty array of property names', v);
  return v.map((p, i) => propertyName(`${field}[${i}]`, p, shape));
}

function filterValue(field: string, v: unknown, dataType: string | undefined, operator: FilterOperator, shape: CollectionShape | undefined): void {
  const listOp = operator === 'containsAny' || operator === 'containsAll';
  if (operator === 'isNull') {
    if (typeof v !== 'boolean') bad(field, 'a boolean (isNull)', v);
    if (shape && !shape.nullStateIndexed) {
      throw new ValidationError(
        `Invalid query: \`isNull\` needs null-state indexing, which collection \`${shape.name}\` does not have (invertedIndexConfig.indexNullState)`,
        { field: field.replace(/\.value$/, '.operator') },
      );
    }
    return;
  }
  const items: unknown[] = listOp ? (Array.isArray(v) && v.length > 0 ? v : bad(field, `a non-empty array (${operator})`, v)) : [v];
  const base = dataType?.replace(/\[\]$/, '');
  items.forEach((item, i) => {
    const f = listOp ? `${field}[${i}]` : field;
    if (Array.isArray(item) || (typeof item === 'object' && item !== null)) bad(f, 'a string, number or boolean', item);
    switch (base) {
      case undefined:
        if (!['string', 'number', 'boolean'].includes(typeof item)) bad(f, 'a string, number or boolean', item);
        if (typeof item === 'number' && !Number.isFinite(item)) bad(f, 'a finite number', item);
        break;
      case 'text':
      case 'uuid':
        if (typeof item !== 'string') bad(f, `a string (property type ${dataType})`, item);
        break;
      case 'int':
        if (typeof item !== 'number' || !Number.isInteger(item)) bad(f, `an integer (property type ${dataType})`, item);
        break;
      case 'number':
        if (typeof item !== 'number' || !Number.isFinite(item)) bad(f, `a finite number (property type ${dataType})`, item);
        break;
      case 'boolean':
        if (typeof item !== 'boolean') bad(f, `a boolean (property type ${dataType})`, item);
        break;
      case 'date':
        if (typeof item !== 'string' || Number.isNaN(Date.parse(item))) bad(f, 'an ISO-8601 date string (property type date)', item);
        break;
      default:
        break;
    }
  });
  if (operator === 'like' && typeof v !== 'string') bad(field, 'a string pattern (like)', v);
  const ordered = ['lessThan', 'lessThanEqual', 'greaterThan', 'greaterThanEqual'].includes(operator);
  if (ordered && (base === 'text' || base === 'boolean')) {
    throw new ValidationError(`Invalid query: operator \`${operator}\` does not apply to ${dataType} property (\`${field}\`)`, { field });
  }
}

function filters(path: string, f: unknown, shape: CollectionShape | undefined, depth: number, count: { n: number }): void {
  if (++count.n > MAX_FILTER_NODES) bad(path, `a filter of at most ${MAX_FILTER_NODES} nodes`, 'a larger filter');
  if (depth > MAX_FILTER_DEPTH) bad(path, `a filter nested at most ${MAX_FILTER_DEPTH} levels deep`, 'a deeper filter');
  if (!isPlainObject(f)) bad(path, 'a filter object ({property, operator, value} | {and} | {or} | {not})', f);
  if ('and' in f || 'or' in f) {
    const key = 'and' in f ? 'and' : 'or';
    checkKeys(`${path}.`, f, [key]);
    const list = f[key];
    if (!Array.isArray(list) || list.length === 0) bad(`${path}.${key}`, 'a non-empty array of filters', list);
    list.forEach((child, i) => filters(`${path}.${key}[${i}]`, child, shape, depth + 1, count));
    return;
  }
  if ('not' in f) {
    checkKeys(`${path}.`, f, ['not']);
    filters(`${path}.not`, f['not'], shape, depth + 1, count);
    return;
  }
  checkKeys(`${path}.`, f, ['property', 'operator', 'value']);
  const name = propertyName(`${path}.property`, f['property'], shape);
  const operator = f['operator'];
  if (typeof operator !== 'string' || !(FILTER_OPERATORS as readonly string[]).includes(operator)) {
    bad(`${path}.operator`, `one of ${FILTER_OPERATORS.join(', ')}`, operator);
  }
  filterValue(`${path}.value`, f['value'], shape?.properties[name], operator as FilterOperator, shape);
}

/**
 * Validate a spec (against the collection's shape when known). Returns the same object, typed.
 * Throws ValidationError with `details.field` set to the JSON path of the first problem.
 */
export function validateSpec(input: unknown, shapeOf: (collection: string) => CollectionShape | undefined = () => undefined): QuerySpec {
  if (!isPlainObject(input)) bad('(spec)', 'an object', input);
  const kind = input['kind'];
  if (typeof kind !== 'string' || !(QUERY_KINDS as readonly string[]).includes(kind)) bad('kind', `one of ${QUERY_KINDS.join(', ')}`, kind);
  checkKeys('', input, KIND_KEYS[kind as QueryKind]);
  const collection = text('collection', input['collection'], 256);
  const shape = shapeOf(collection);
  if (input['tenant'] !== undefined) text('tenant', input['tenant'], 256);
  const level = input['consistencyLevel'];
  if (level !== undefined && !(CONSISTENCY_LEVELS as readonly unknown[]).includes(level)) bad('consistencyLevel', `one of ${CONSISTENCY_LEVELS.join(', ')}`, level);

  if (kind === 'insertMany') {
    const objects = input['objects'];
    if (!Array.isArray(objects) || objects.length === 0 || objects.length > MAX_INSERT_OBJECTS) {
      bad('objects', `an array of 1 to ${MAX_INSERT_OBJECTS} objects`, Array.isArray(objects) ? `array of ${objects.length}` : objects);
    }
    objects.forEach((o, i) => {
      if (!isPlainObject(o)) bad(`objects[${i}]`, 'an object {properties, vector?, id?}', o);
      checkKeys(`objects[${i}].`, o, ['id', 'properties', 'vector']);
      if (!isPlainObject(o['properties'])) bad(`objects[${i}].properties`, 'an object', o['properties']);
      for (const [k, value] of Object.entries(o['properties'])) {
        propertyName(`objects[${i}].properties.${k}`, k, shape);
        if (typeof value === 'number' && !Number.isFinite(value)) bad(`objects[${i}].properties.${k}`, 'a finite number', value);
      }
      if (o['vector'] !== undefined) vector(`objects[${i}].vector`, o['vector'], shape, undefined);
      if (o['id'] !== undefined && (typeof o['id'] !== 'string' || !/^[0-9a-f-]{36}$/i.test(o['id']))) bad(`objects[${i}].id`, 'a UUID string', o['id']);
    });
    return input as unknown as QuerySpec;
  }

  const targetVector = input['targetVector'] === undefined ? undefined : text('targetVector', input['targetVector'], 256);
  if (targetVector !== undefined && shape && Object.keys(shape.vectorDimensions).length > 0 && !(targetVector in shape.vectorDimensions)) {
    bad('targetVector', `one of the collection's vectors (${Object.keys(shape.vectorDimensions).join(', ')})`, targetVector);
  }
  if (input['limit'] !== undefined) int('limit', input['limit'], 1, MAX_LIMIT);
  if (input['offset'] !== undefined) int('offset', input['offset'], 0, MAX_LIMIT);
  if (input['filters'] !== undefined) filters('filters', input['filters'], shape, 1, { n: 0 });
  if (input['returnProperties'] !== undefined) stringList('returnProperties', input['returnProperties'], shape);
  if (input['returnMetadata'] !== undefined) {
    const m = input['returnMetadata'];
    if (!Array.isArray(m) || m.length === 0) bad('returnMetadata', `a non-empty array of ${METADATA_FIELDS.join(', ')}`, m);
    m.forEach((x, i) => {
      if (!(METADATA_FIELDS as readonly unknown[]).includes(x)) bad(`returnMetadata[${i}]`, `one of ${METADATA_FIELDS.join(', ')}`, x);
    });
  }
  if (input['includeVector'] !== undefined && typeof input['includeVector'] !== 'boolean') bad('includeVector', 'a boolean', input['includeVector']);

  switch (kind) {
    case 'hybrid':
      text('query', input['query'], MAX_QUERY_LENGTH);
      if (input['vector'] !== undefined) vector('vector', input['vector'], shape, targetVector);
      if (input['alpha'] !== undefined) finite('alpha', input['alpha'], 0, 1);
      if (shape && !shape.hasVectorizer && input['vector'] === undefined && input['alpha'] !== 0) {
        throw new ValidationError(
          `Invalid query: collection \`${shape.name}\` has no vectorizer, so a hybrid search needs \`vector\` (your embedding of the query), or alpha 0 for keywords only`,
          { field: 'vector' },
        );
      }
      if (input['queryProperties'] !== undefined) stringList('queryProperties', input['queryProperties'], shape);
      break;
    case 'bm25':
      text('query', input['query'], MAX_QUERY_LENGTH);
      if (input['queryProperties'] !== undefined) stringList('queryProperties', input['queryProperties'], shape);
      break;
    case 'nearVector':
      vector('vector', input['vector'], shape, targetVector);
      if (input['distance'] !== undefined) finite('distance', input['distance'], 0, 2);
      if (input['certainty'] !== undefined) finite('certainty', input['certainty'], 0, 1);
      if (input['distance'] !== undefined && input['certainty'] !== undefined) {
        throw new ValidationError('Invalid query: give `distance` or `certainty`, not both', { field: 'certainty' });
      }
      break;
    case 'fetchObjects': {
      const sort = input['sort'];
      if (sort !== undefined) {
        if (!isPlainObject(sort)) bad('sort', 'an object {property, ascending?}', sort);
        checkKeys('sort.', sort, ['property', 'ascending']);
        propertyName('sort.property', sort['property'], shape);
        if (sort['ascending'] !== undefined && typeof sort['ascending'] !== 'boolean') bad('sort.ascending', 'a boolean', sort['ascending']);
      }
      break;
    }
  }
  return input as unknown as QuerySpec;
}
