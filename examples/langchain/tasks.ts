/**
 * The task module: runs in the executor's worker threads, where each call gets a leased
 * weaviate-client. @langchain/weaviate's WeaviateStore works on that client as on any other.
 * Arguments and results cross threads by structured clone: plain data only (a vector, a
 * company name; documents as { text, metadata, score }).
 */
import { WeaviateStore } from '@langchain/weaviate';
import { defineTasks } from 'weaviate-executor';
import { StandInEmbeddings } from './embeddings.js';

/** Weaviate stores the collection capitalised. */
const COLLECTION = 'M_asset_schema';
const embeddings = new StandInEmbeddings();

export interface ScoredDocument {
  text: string;
  metadata: Record<string, unknown>;
  /** WeaviateStore's score is a distance: lower is closer. */
  score: number;
}

export default defineTasks({
  async similarity(client, args: { vector: number[]; k: number; company?: string | undefined }): Promise<ScoredDocument[]> {
    const store = new WeaviateStore(embeddings, { client, indexName: COLLECTION, textKey: 'title', metadataKeys: ['company', 'sector'] });
    const collection = client.collections.use(COLLECTION);
    const filter = args.company === undefined ? undefined : collection.filter.byProperty('company').equal(args.company);
    const hits = await store.similaritySearchVectorWithScore(args.vector, args.k, filter);
    return hits.map(([doc, score]) => ({ text: doc.pageContent, metadata: { ...doc.metadata }, score }));
  },
});
