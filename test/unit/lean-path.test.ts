/**
 * The lean path's pure parts: which clients take it (env, server version) and what the request
 * carries that weaviate-client 3.14 would send (the differential integration test checks the
 * answers; these check the choices that do not show in answers).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { codecs, loadCodecs } from '../../src/wire/codecs.ts';
import { queryPathFromEnv, serverSupportsLeanPath, vectorFormatFromEnv } from '../../src/wire/lean-path.ts';
import { encodeSearchRequest, searchRequest, vectorBytes } from '../../src/wire/request.ts';

await loadCodecs();

const decodeRequest = (spec: Parameters<typeof searchRequest>[0]) => {
  const bytes = encodeSearchRequest(searchRequest(spec));
  const search = codecs.SearchRequest as unknown as { decode(b: Uint8Array): Record<string, unknown> };
  return search.decode(bytes);
};

describe('lean path: choices', () => {
  it('VECTOR_STORE_QUERY_PATH picks lean (default) or client, and names itself when wrong', () => {
    expect(queryPathFromEnv({})).toBe('lean');
    expect(queryPathFromEnv({ VECTOR_STORE_QUERY_PATH: 'client' })).toBe('client');
    expect(() => queryPathFromEnv({ VECTOR_STORE_QUERY_PATH: 'fast' })).toThrow(ConfigError);
    expect(() => queryPathFromEnv({ VECTOR_STORE_QUERY_PATH: 'fast' })).toThrow(/VECTOR_STORE_QUERY_PATH/);
  });

  it('VECTOR_STORE_VECTORS picks array (default) or float32', () => {
    expect(vectorFormatFromEnv({})).toBe('array');
    expect(vectorFormatFromEnv({ VECTOR_STORE_VECTORS: 'float32' })).toBe('float32');
    expect(() => vectorFormatFromEnv({ VECTOR_STORE_VECTORS: 'f16' })).toThrow(/VECTOR_STORE_VECTORS/);
  });

  it('only servers >= 1.29 (query vectors in the `vectors` field) take the lean path', () => {
    expect(serverSupportsLeanPath('1.39.0')).toBe(true);
    expect(serverSupportsLeanPath('1.29.0')).toBe(true);
    expect(serverSupportsLeanPath('v2.0.1')).toBe(true);
    expect(serverSupportsLeanPath('1.28.9')).toBe(false);
    expect(serverSupportsLeanPath(undefined)).toBe(false);
    expect(serverSupportsLeanPath('garbage')).toBe(false);
  });
});

describe('lean path: the request', () => {
  it('capitalises the collection, sets the API flags, and encodes vectors as little-endian float32', () => {
    const req = decodeRequest({ kind: 'nearVector', collection: 'm_asset_schema', vector: [1, -0.5, 0.1], limit: 3, tenant: 't' });
    expect(req).toMatchObject({ collection: 'M_asset_schema', tenant: 't', limit: 3, uses123Api: true, uses125Api: true, uses127Api: true });
    const nv = req['nearVector'] as { vectors: { vectorBytes: Uint8Array; type: number }[] };
    expect(nv.vectors[0]!.type).toBe(codecs.VectorTypeSingleFp32);
    expect(Buffer.from(nv.vectors[0]!.vectorBytes)).toEqual(Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0xbf, 0xcd, 0xcc, 0xcc, 0x3d]));
    expect(vectorBytes([0.1])).toEqual(new Uint8Array([0xcd, 0xcc, 0xcc, 0x3d]));
  });

  it("hybrid without alpha sends weaviate-client's 0.5 (not Weaviate's 0.75), so both paths answer alike", () => {
    const req = decodeRequest({ kind: 'hybrid', collection: 'c', query: 'q' });
    expect((req['hybridSearch'] as { alpha: number }).alpha).toBe(0.5);
  });

  it('asks for exactly the metadata and vectors the spec names', () => {
    const req = decodeRequest({ kind: 'bm25', collection: 'c', query: 'q', returnMetadata: ['score', 'creationTime'], includeVector: true, targetVector: 'a' });
    expect(req['metadata']).toMatchObject({ uuid: true, score: true, creationTimeUnix: true, distance: false, vector: false, vectors: ['a'] });
  });

  it('number filter values go as int or float the way weaviate-client guesses them', () => {
    const req = decodeRequest({ kind: 'fetchObjects', collection: 'c', filters: { and: [{ property: 'n', operator: 'greaterThan', value: 3 }, { property: 'p', operator: 'lessThan', value: 2.5 }] } });
    const [a, b] = (req['filters'] as { filters: Record<string, unknown>[] }).filters;
    expect(a).toMatchObject({ valueInt: 3, target: { property: 'n' } });
    expect(b).toMatchObject({ valueNumber: 2.5, target: { property: 'p' } });
  });
});
