/** LangChain Embeddings over the sample data's stand-in embedding (use your real model instead). */
import { Embeddings } from '@langchain/core/embeddings';
import { embed } from 'weaviate-executor/testing';

export class StandInEmbeddings extends Embeddings {
  constructor() {
    super({});
  }
  async embedDocuments(texts: string[]): Promise<number[][]> {
    return texts.map((t) => embed(t));
  }
  async embedQuery(text: string): Promise<number[]> {
    return embed(text);
  }
}
