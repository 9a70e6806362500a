import { ensureSampleData } from '../src/data/load.ts';
import { ensureWeaviate, type LocalWeaviate } from '../src/launcher/local.ts';
import { silentLogger } from '../src/log.ts';
import { createPool } from '../src/pool/create.ts';

/**
 * Run `fn` against a Weaviate holding the sample data: the one WEAVIATE_HOST/WEAVIATE_PORT name,
 * or a local node started (and stopped afterwards) for the purpose.
 */
export async function withSampleWeaviate<T>(say: (line: string) => void, fn: (weaviate: LocalWeaviate) => Promise<T>): Promise<T> {
  const weaviate = await ensureWeaviate({ onProgress: say, binaryOptions: { onProgress: say } });
  try {
    const loader = await createPool({ weaviate: { ...weaviate.target }, minConnections: 1, maxConnections: 1, logger: silentLogger }, {});
    try {
      await loader.withConnection((c) => ensureSampleData(c, { onProgress: say }));
    } finally {
      await loader.close();
    }
    return await fn(weaviate);
  } finally {
    await weaviate.stop();
  }
}
