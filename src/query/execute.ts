/**
 * Run a validated spec with a leased weaviate-client, bounded by an abort signal, and turn the
 * answer into plain objects (cheap to structured-clone across threads, and to serialise as JSON).
 */
import { Filters, type FilterValue as WeaviateFilter, type WeaviateClient } from 'weaviate-client';
import type { FilterOperator, FilterSpec, InsertResult, QueryResult, QuerySpec, ResultObject } from './spec.ts';
import { leanPathOf } from '../wire/lean-path.ts';
import { inserterOf } from '../weaviate/insert.ts';

type AnyCollection = ReturnType<WeaviateClient['collections']['use']>;

/** Our operator names (Weaviate's own, camel-cased) -> weaviate-client's filter methods. */
const CLIENT_METHOD: Record<FilterOperator, string> = {
  equal: 'equal',
  notEqual: 'notEqual',
  lessThan: 'lessThan',
  lessThanEqual: 'lessOrEqual',
  greaterThan: 'greaterThan',
  greaterThanEqual: 'greaterOrEqual',
  like: 'like',
  containsAny: 'containsAny',
  containsAll: 'containsAll',
  isNull: 'isNull',
};

function toFilter(collection: AnyCollection, f: FilterSpec): WeaviateFilter {
  if ('and' in f) return Filters.and(...f.and.map((c) => toFilter(collection, c)));
  if ('or' in f) return Filters.or(...f.or.map((c) => toFilter(collection, c)));
  if ('not' in f) return Filters.not(toFilter(collection, f.not));
  const by = collection.filter.byProperty(f.property) as unknown as Record<string, (v: unknown) => WeaviateFilter>;
  return by[CLIENT_METHOD[f.operator]]!(f.value);
}

function common(collection: AnyCollection, spec: Exclude<QuerySpec, { kind: 'insertMany' }>): Record<string, unknown> {
  const opts: Record<string, unknown> = {};
  if (spec.limit !== undefined) opts['limit'] = spec.limit;
  if (spec.offset !== undefined) opts['offset'] = spec.offset;
  if (spec.filters !== undefined) opts['filters'] = toFilter(collection, spec.filters);
  if (spec.returnProperties !== undefined) opts['returnProperties'] = spec.returnProperties;
  if (spec.returnMetadata !== undefined) opts['returnMetadata'] = spec.returnMetadata;
  if (spec.includeVector) opts['includeVector'] = spec.targetVector ? [spec.targetVector] : true;
  return opts;
}

function plain(result: { objects: { uuid: string; properties: unknown; metadata?: unknown; vectors?: unknown }[] }, spec: QuerySpec): QueryResult {
  const wanted = 'returnMetadata' in spec ? spec.returnMetadata : undefined;
  const withVector = 'includeVector' in spec && spec.includeVector === true;
  const objects: ResultObject[] = result.objects.map((o) => {
    const out: ResultObject = { uuid: o.uuid, properties: o.properties as Record<string, unknown> };
    if (wanted && o.metadata) {
      const meta: Record<string, unknown> = {};
      for (const key of wanted) {
        const value = (o.metadata as Record<string, unknown>)[key];
        if (value !== undefined) meta[key] = value;
      }
      out.metadata = meta;
    }
    if (withVector && o.vectors) {
      const vectors = o.vectors as Record<string, number[]>;
      const keys = Object.keys(vectors);
      out.vector = keys.length === 1 && keys[0] === 'default' ? vectors['default']! : vectors;
    }
    return out;
  });
  return { objects };
}

export async function executeSpec(client: WeaviateClient, spec: QuerySpec, signal?: AbortSignal, deadlineAt?: number): Promise<QueryResult | InsertResult> {
  // Pooled clients carry the lean path (src/wire): reads skip weaviate-client's layers, same channel.
  const lean = spec.kind === 'insertMany' ? undefined : leanPathOf(client);
  if (lean) return lean.search(spec as Exclude<QuerySpec, { kind: 'insertMany' }>, signal, deadlineAt);
  let collection: AnyCollection = client.collections.use(spec.collection);
  if (spec.tenant) collection = collection.withTenant(spec.tenant) as AnyCollection;
  // Replicated collections (issue 12): the consistency level goes to Weaviate as given.
  if (spec.consistencyLevel) collection = collection.withConsistency(spec.consistencyLevel) as AnyCollection;
  const call = signal ? { abortSignal: signal } : undefined;
  switch (spec.kind) {
    case 'hybrid': {
      const opts = common(collection, spec);
      if (spec.vector) opts['vector'] = spec.vector;
      if (spec.alpha !== undefined) opts['alpha'] = spec.alpha;
      if (spec.queryProperties) opts['queryProperties'] = spec.queryProperties;
      if (spec.targetVector) opts['targetVector'] = spec.targetVector;
      return plain(await collection.query.hybrid(spec.query, opts, call), spec);
    }
    case 'bm25': {
      const opts = common(collection, spec);
      if (spec.queryProperties) opts['queryProperties'] = spec.queryProperties;
      return plain(await collection.query.bm25(spec.query, opts, call), spec);
    }
    case 'nearVector': {
      const opts = common(collection, spec);
      if (spec.distance !== undefined) opts['distance'] = spec.distance;
      if (spec.certainty !== undefined) opts['certainty'] = spec.certainty;
      if (spec.targetVector) opts['targetVector'] = spec.targetVector;
      return plain(await collection.query.nearVector(spec.vector, opts, call), spec);
    }
    case 'fetchObjects': {
      const opts = common(collection, spec);
      if (spec.sort) opts['sort'] = collection.sort.byProperty(spec.sort.property as never, spec.sort.ascending ?? true);
      return plain(await collection.query.fetchObjects(opts, call), spec);
    }
    case 'insertMany': {
      // insertMany takes no abort signal: once started it runs to its end (bounded by the
      // client's insert time-out) and keeps its lease and slot meanwhile (overdue after the
      // deadline), while the caller is answered at the deadline. It is not started late.
      if (signal?.aborted) throw signal.reason as Error;
      const objects = spec.objects.map((o) => ({
        ...(o.id ? { id: o.id } : {}),
        properties: o.properties as never,
        ...(o.vector ? { vectors: o.vector } : {}),
      }));
      // Pooled clients insert without weaviate-client's 500 ms poll (src/weaviate/insert.ts).
      const insert = inserterOf(client);
      const result = insert
        ? await insert(spec.collection, objects, { ...(spec.tenant ? { tenant: spec.tenant } : {}), ...(spec.consistencyLevel ? { consistencyLevel: spec.consistencyLevel } : {}) })
        : await collection.data.insertMany(objects);
      return {
        inserted: Object.keys(result.uuids).length,
        uuids: Object.values(result.uuids) as string[],
        errors: Object.entries(result.errors).map(([index, e]) => ({ index: Number(index), message: e.message })),
      };
    }
  }
}
