/**
 * A LangChain VectorStore on the main thread whose searches run as executor tasks (lanes,
 * deadlines, pooled connections in worker threads), so `asRetriever()` and every LangChain
 * chain that takes a retriever work unchanged. The query is embedded here, on the main thread;
 * the worker runs WeaviateStore's vector search (./tasks.ts).
 */
import { Document } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { VectorStore } from '@langchain/core/vectorstores';
import { createExecutor, type TypedExecutor } from 'weaviate-executor';
import { StandInEmbeddings } from './embeddings.js';
import type * as tasks from './tasks.js';

type Tasks = typeof tasks;
export interface ReportFilter {
  company?: string;
}

export class ExecutorVectorStore extends VectorStore {
  declare FilterType: ReportFilter;
  readonly engine: TypedExecutor<Tasks>;
  readonly lane: string;

  constructor(engine: TypedExecutor<Tasks>, embeddings: EmbeddingsInterface, lane = 'critical') {
    super(embeddings, {});
    this.engine = engine;
    this.lane = lane;
  }

  _vectorstoreType(): string {
    return 'weaviate-executor';
  }

  async addVectors(): Promise<void> {
    throw new Error('ExecutorVectorStore is read-only; write with engine.query({ kind: "insertMany", ... })');
  }

  async addDocuments(): Promise<void> {
    throw new Error('ExecutorVectorStore is read-only; write with engine.query({ kind: "insertMany", ... })');
  }

  async similaritySearchVectorWithScore(query: number[], k: number, filter?: ReportFilter): Promise<[Document, number][]> {
    const hits = await this.engine.run('similarity', { vector: query, k, company: filter?.company }, { lane: this.lane, deadlineMs: 5_000 });
    return hits.map((h) => [new Document({ pageContent: h.text, metadata: h.metadata }), h.score]);
  }
}

const engine = await createExecutor<Tasks>({ taskModule: new URL('./tasks.js', import.meta.url), maxConnections: 2, workers: 1 });
try {
  const store = new ExecutorVectorStore(engine, new StandInEmbeddings());
  const scored = await store.similaritySearchWithScore('삼성전자 반도체 전망', 3, { company: '삼성전자' });
  for (const [doc, distance] of scored) console.log(`${distance.toFixed(4)}  [${String(doc.metadata['company'])}] ${doc.pageContent}`);
  const retriever = store.asRetriever({ k: 2, filter: { company: 'SK하이닉스' } });
  const docs = await retriever.invoke('메모리 반도체 업황');
  console.log(`RESULT ${JSON.stringify({
    scored: scored.map(([doc, distance]) => ({ company: doc.metadata['company'], distance })),
    retrieved: docs.map((d) => d.metadata['company']),
  })}`);
} finally {
  await engine.close();
}
