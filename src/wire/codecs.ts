/**
 * weaviate-client's own generated protobuf codecs (ts-proto over protobufjs/minimal) and error
 * classes, loaded from its package folder: its exports map hides them, so this relies on the
 * exact pinned version (as src/weaviate/client.ts does for its request builders).
 * test/integration/lean-differential.test.ts compares the lean path with weaviate-client on a
 * real Weaviate and fails if an upgrade changes what these files are or do.
 *
 * Loaded once per thread by `loadCodecs()` (a pooled connection awaits it before it registers
 * the lean path), so importing this module loads nothing and the query path never awaits a load.
 */
import { findPackageJSON } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The subset of a ts-proto message codec the lean path uses. */
export interface MessageCodec<T> {
  fromPartial(partial: Record<string, unknown>): T;
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
}

/** Decoded shapes (only the fields the lean path reads; see weaviate-client's proto/v1/*.d.ts). */
export interface PropertiesValue {
  boolValue?: boolean;
  dateValue?: string;
  intValue?: number;
  listValue?: ListValue;
  numberValue?: number;
  objectValue?: PropertiesFields;
  textValue?: string;
  uuidValue?: string;
  blobValue?: string;
  geoValue?: unknown;
  phoneValue?: unknown;
  nullValue?: unknown;
}
export interface PropertiesFields {
  fields: Record<string, PropertiesValue>;
}
export interface ListValue {
  boolValues?: { values: boolean[] };
  dateValues?: { values: string[] };
  intValues?: { values: Uint8Array };
  numberValues?: { values: Uint8Array };
  objectValues?: { values: PropertiesFields[] };
  textValues?: { values: string[] };
  uuidValues?: { values: string[] };
}
export interface VectorsResult {
  name: string;
  vectorBytes: Uint8Array;
  type: number;
}
export interface MetadataResult {
  id: string;
  creationTimeUnix: number;
  creationTimeUnixPresent: boolean;
  lastUpdateTimeUnix: number;
  lastUpdateTimeUnixPresent: boolean;
  distance: number;
  distancePresent: boolean;
  certainty: number;
  certaintyPresent: boolean;
  score: number;
  scorePresent: boolean;
  explainScore: string;
  explainScorePresent: boolean;
  rerankScore: number;
  rerankScorePresent: boolean;
  isConsistent?: boolean;
  vector: number[];
  vectorBytes: Uint8Array;
  vectors: VectorsResult[];
}
export interface SearchResult {
  properties: { nonRefProps: PropertiesFields | undefined } | undefined;
  metadata: MetadataResult | undefined;
}
export interface SearchReply {
  results: SearchResult[];
}
/** Opaque: built with `SearchRequest.fromPartial`, only ever encoded. */
export type SearchRequest = { readonly __brand: 'SearchRequest' };

type ErrorClass = new (...args: never[]) => Error;

export interface Codecs {
  SearchRequest: MessageCodec<SearchRequest>;
  SearchReply: MessageCodec<SearchReply>;
  /** base.proto enums by name (`Filters_Operator.OPERATOR_EQUAL` ...). */
  FiltersOperator: Record<string, number>;
  VectorTypeMultiFp32: number;
  VectorTypeSingleFp32: number;
  ConsistencyUnspecified: number;
  /** properties.proto messages the lean reply decoder hands back as weaviate-client does (ts-proto objects). */
  GeoCoordinate: MessageCodec<unknown>;
  PhoneNumber: MessageCodec<unknown>;
  WeaviateQueryError: new (message: string, protocol: string) => Error;
  WeaviateInsufficientPermissionsError: new (code: number, message: string) => Error;
  WeaviateDeserializationError: new (message: string) => Error;
}

async function load(): Promise<Codecs> {
  const packageJson = findPackageJSON('weaviate-client', import.meta.url);
  if (!packageJson) throw new Error('weaviate-client is not installed');
  const base = pathToFileURL(join(dirname(packageJson), 'dist/node/esm/index.js'));
  const mod = (path: string) => import(new URL(path, base).href) as Promise<Record<string, unknown>>;
  const [search, protoBase, props, errors] = await Promise.all([
    mod('./proto/v1/search_get.js'),
    mod('./proto/v1/base.js'),
    mod('./proto/v1/properties.js'),
    mod('./errors.js'),
  ]);
  const need = <T>(m: Record<string, unknown>, name: string): T => {
    const value = m[name];
    if (value === undefined) throw new Error(`weaviate-client no longer has \`${name}\` where the lean query path expects it (src/wire/codecs.ts); this version is not supported`);
    return value as T;
  };
  const vectorType = need<Record<string, number>>(protoBase, 'Vectors_VectorType');
  const consistency = need<Record<string, number>>(protoBase, 'ConsistencyLevel');
  return {
    SearchRequest: need(search, 'SearchRequest'),
    SearchReply: need(search, 'SearchReply'),
    FiltersOperator: need(protoBase, 'Filters_Operator'),
    VectorTypeMultiFp32: vectorType['VECTOR_TYPE_MULTI_FP32']!,
    VectorTypeSingleFp32: vectorType['VECTOR_TYPE_SINGLE_FP32']!,
    ConsistencyUnspecified: consistency['CONSISTENCY_LEVEL_UNSPECIFIED']!,
    GeoCoordinate: need(props, 'GeoCoordinate'),
    PhoneNumber: need(props, 'PhoneNumber'),
    WeaviateQueryError: need<ErrorClass>(errors, 'WeaviateQueryError') as Codecs['WeaviateQueryError'],
    WeaviateInsufficientPermissionsError: need<ErrorClass>(errors, 'WeaviateInsufficientPermissionsError') as Codecs['WeaviateInsufficientPermissionsError'],
    WeaviateDeserializationError: need<ErrorClass>(errors, 'WeaviateDeserializationError') as Codecs['WeaviateDeserializationError'],
  };
}

/**
 * The codecs, filled in place by `loadCodecs()`; read them only after it resolved (every lean
 * path is created after it: `createLeanPath`, `registerLeanPath`).
 */
export const codecs = {} as Codecs;
let loading: Promise<Codecs> | undefined;

export function loadCodecs(): Promise<Codecs> {
  loading ??= load().then(
    (loaded) => Object.assign(codecs, loaded),
    (error: unknown) => {
      loading = undefined; // a later connection may try again
      throw error;
    },
  );
  return loading;
}
