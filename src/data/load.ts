/**
 * Create `m_asset_schema` and load the sample documents when the collection is missing. An
 * existing collection is never deleted or modified (it may be a user's real data): it is used
 * as it is, and its object count is reported.
 */
import weaviate, { type WeaviateClient } from 'weaviate-client';
import { storedName } from '../query/schema.ts';
import { inserterOf } from '../weaviate/insert.ts';
import { DEFAULT_SAMPLE_SIZE, SAMPLE_COLLECTION, embedDocument, sampleDocument } from './sample.ts';

export interface LoadOptions {
  /** Documents to load. @default 5000 */
  count?: number;
  collection?: string;
  /** Objects per insertMany call (large single calls fail with RST_STREAM upstream). @default 500 */
  chunkSize?: number;
  /** Replicas of the collection on a cluster (Weaviate's replication factor). @default Weaviate's (1) */
  replicationFactor?: number;
  onProgress?: (line: string) => void;
}

export interface LoadResult {
  collection: string;
  created: boolean;
  objects: number;
  ms: number;
}

export async function createSampleCollection(client: WeaviateClient, name = SAMPLE_COLLECTION, replicationFactor?: number): Promise<void> {
  const korean = { dataType: 'text' as const, tokenization: 'kagome_kr' as const };
  const exact = { dataType: 'text' as const, tokenization: 'field' as const };
  await client.collections.create({
    name,
    description: 'Korean financial documents (sample data of weaviate-executor)',
    properties: [
      { name: 'title', ...korean },
      { name: 'content', ...korean },
      { name: 'company', ...exact },
      { name: 'ticker', ...exact },
      { name: 'sector', ...exact },
      { name: 'doc_type', ...exact },
      { name: 'rating', ...exact },
      { name: 'broker', ...exact },
      { name: 'target_price', dataType: 'int' as const },
      { name: 'doc_id', dataType: 'int' as const },
      { name: 'published_at', dataType: 'date' as const },
    ],
    vectorizers: weaviate.configure.vectors.selfProvided(),
    // Lets `isNull` filters work on the sample data.
    invertedIndex: weaviate.configure.invertedIndex({ indexNullState: true }),
    ...(replicationFactor !== undefined ? { replication: weaviate.configure.replication({ factor: replicationFactor }) } : {}),
  });
}

export async function countObjects(client: WeaviateClient, name = SAMPLE_COLLECTION): Promise<number> {
  const result = await client.collections.use(name).aggregate.overAll();
  return result.totalCount;
}

export async function ensureSampleData(client: WeaviateClient, options: LoadOptions = {}): Promise<LoadResult> {
  const started = Date.now();
  const name = options.collection ?? SAMPLE_COLLECTION;
  const count = options.count ?? DEFAULT_SAMPLE_SIZE;
  const chunk = options.chunkSize ?? 500;
  // exists() compares names exactly, and Weaviate stores `m_asset_schema` as `M_asset_schema`.
  if (await client.collections.exists(storedName(name))) {
    return { collection: name, created: false, objects: await countObjects(client, name), ms: Date.now() - started };
  }
  await createSampleCollection(client, name, options.replicationFactor);
  const collection = client.collections.use(name);
  const insert = inserterOf(client);
  for (let from = 0; from < count; from += chunk) {
    const objects = [];
    for (let i = from; i < Math.min(count, from + chunk); i++) {
      const doc = sampleDocument(i);
      objects.push({ properties: { ...doc }, vectors: embedDocument(doc) });
    }
    // A pooled client inserts without weaviate-client's 500 ms poll (src/weaviate/insert.ts).
    const result = insert ? await insert(name, objects, {}) : await collection.data.insertMany(objects);
    if (Object.keys(result.errors).length > 0) {
      const first = Object.values(result.errors)[0];
      throw new Error(`Loading sample data failed at objects ${from}..${from + objects.length}: ${first?.message ?? 'unknown error'}`);
    }
    options.onProgress?.(`  loaded ${Math.min(count, from + chunk)}/${count} documents into ${name}`);
  }
  return { collection: name, created: true, objects: await countObjects(client, name), ms: Date.now() - started };
}
