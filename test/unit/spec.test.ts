import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import type { CollectionShape } from '../../src/query/schema.ts';
import { validateSpec } from '../../src/query/spec.ts';

const shape: CollectionShape = {
  name: 'M_asset_schema',
  properties: { title: 'text', company: 'text', target_price: 'int', published_at: 'date', tags: 'text[]' },
  vectorDimensions: { default: 4 },
  hasVectorizer: false,
  nullStateIndexed: false,
};
const shapeOf = (c: string) => (c.toLowerCase() === 'm_asset_schema' ? shape : undefined);
const v4 = [0.1, 0.2, 0.3, 0.4];

function fieldOf(spec: unknown): string {
  try {
    validateSpec(spec, shapeOf);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return String((error as ValidationError).details['field']);
  }
  throw new Error(`accepted: ${JSON.stringify(spec)}`);
}

describe('query spec validation', () => {
  it('accepts well-formed specs of every kind', () => {
    const good: unknown[] = [
      { kind: 'hybrid', collection: 'm_asset_schema', query: '삼성전자', vector: v4, alpha: 0.5, limit: 5, returnMetadata: ['score'] },
      { kind: 'hybrid', collection: 'm_asset_schema', query: '삼성전자', alpha: 0 },
      { kind: 'bm25', collection: 'm_asset_schema', query: '삼성전자', queryProperties: ['title'], filters: { property: 'tags', operator: 'containsAny', value: ['a', 'b'] } },
      { kind: 'nearVector', collection: 'm_asset_schema', vector: v4, distance: 0.3, includeVector: true },
      { kind: 'fetchObjects', collection: 'm_asset_schema', limit: 10, sort: { property: 'published_at', ascending: false } },
      { kind: 'fetchObjects', collection: 'm_asset_schema', filters: { or: [{ property: 'target_price', operator: 'greaterThan', value: 5 }, { not: { property: 'published_at', operator: 'lessThan', value: '2024-01-01T00:00:00Z' } }] } },
      { kind: 'insertMany', collection: 'm_asset_schema', objects: [{ properties: { title: 'x', target_price: 3 }, vector: v4 }] },
    ];
    for (const spec of good) expect(() => validateSpec(spec, shapeOf)).not.toThrow();
  });

  it.each([
    [null, '(spec)'],
    [{ kind: 'drop', collection: 'x' }, 'kind'],
    [{ kind: 'bm25', collection: '', query: 'a' }, 'collection'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: '  ' }, 'query'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', limit: 0 }, 'limit'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', limit: 10_001 }, 'limit'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', limit: 2.5 }, 'limit'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', offset: -1 }, 'offset'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', surprise: 1 }, 'surprise'],
    [{ kind: 'hybrid', collection: 'm_asset_schema', query: 'a', vector: v4, alpha: 1.5 }, 'alpha'],
    [{ kind: 'hybrid', collection: 'm_asset_schema', query: 'a' }, 'vector'],
    [{ kind: 'hybrid', collection: 'm_asset_schema', query: 'a', vector: [1, 2, 3] }, 'vector'],
    [{ kind: 'nearVector', collection: 'm_asset_schema', vector: [1, Number.NaN, 3, 4] }, 'vector[1]'],
    [{ kind: 'nearVector', collection: 'm_asset_schema', vector: [1, '2', 3, 4] }, 'vector[1]'],
    [{ kind: 'nearVector', collection: 'm_asset_schema', vector: v4, distance: 0.1, certainty: 0.9 }, 'certainty'],
    [{ kind: 'nearVector', collection: 'm_asset_schema', vector: v4, targetVector: 'other' }, 'targetVector'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', returnProperties: ['title', 'nope'] }, 'returnProperties[1]'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', returnMetadata: ['distance', 'vibes'] }, 'returnMetadata[1]'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', returnMetadata: [] }, 'returnMetadata'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { property: 'title', operator: 'isNull', value: true } }, 'filters.operator'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { property: 'company', operator: 'equal', value: 7 } }, 'filters.value'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { property: 'target_price', operator: 'equal', value: 1.5 } }, 'filters.value'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { property: 'published_at', operator: 'equal', value: 'yesterday' } }, 'filters.value'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { property: 'company', operator: 'like', value: 3 } }, 'filters.value'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { property: 'company', operator: 'near', value: 'x' } }, 'filters.operator'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { and: [] } }, 'filters.and'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { and: [{ property: 'company', operator: 'equal', value: 'x' }, { property: 'ghost', operator: 'equal', value: 'x' }] } }, 'filters.and[1].property'],
    [{ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: { property: 'tags', operator: 'containsAny', value: [] } }, 'filters.value'],
    [{ kind: 'fetchObjects', collection: 'm_asset_schema', sort: { property: 'ghost' } }, 'sort.property'],
    [{ kind: 'insertMany', collection: 'm_asset_schema', objects: [] }, 'objects'],
    [{ kind: 'insertMany', collection: 'm_asset_schema', objects: [{ properties: { title: 'x' }, vector: [1] }] }, 'objects[0].vector'],
    [{ kind: 'insertMany', collection: 'm_asset_schema', objects: [{ properties: { ghost: 1 } }] }, 'objects[0].properties.ghost'],
    [{ kind: 'insertMany', collection: 'm_asset_schema', objects: [{ properties: {}, id: 'not-a-uuid' }] }, 'objects[0].id'],
  ])('%j fails on field %s', (spec, field) => {
    expect(fieldOf(spec)).toBe(field);
  });

  it('limits the depth and size of filters', () => {
    let deep: unknown = { property: 'company', operator: 'equal', value: 'x' };
    for (let i = 0; i < 20; i++) deep = { not: deep };
    expect(fieldOf({ kind: 'bm25', collection: 'm_asset_schema', query: 'a', filters: deep })).toMatch(/^filters(\.not)*$/);
  });

  it('without a known shape it still checks types and ranges', () => {
    expect(() => validateSpec({ kind: 'bm25', collection: 'Unknown', query: 'a', returnProperties: ['anything'] })).not.toThrow();
    expect(() => validateSpec({ kind: 'nearVector', collection: 'Unknown', vector: [Number.POSITIVE_INFINITY] })).toThrow(ValidationError);
  });
});

describe('consistencyLevel (replicated collections)', () => {
  it('takes ONE, QUORUM, ALL on reads and writes; anything else names the field', () => {
    for (const level of ['ONE', 'QUORUM', 'ALL']) {
      expect(validateSpec({ kind: 'bm25', collection: 'c', query: 'q', consistencyLevel: level })).toMatchObject({ consistencyLevel: level });
      expect(validateSpec({ kind: 'insertMany', collection: 'c', objects: [{ properties: {} }], consistencyLevel: level })).toMatchObject({ consistencyLevel: level });
    }
    expect(() => validateSpec({ kind: 'bm25', collection: 'c', query: 'q', consistencyLevel: 'one' })).toThrow(/`consistencyLevel` must be one of ONE, QUORUM, ALL/);
  });
});
