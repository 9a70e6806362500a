import { ensureSampleData } from '../../src/data/load.ts';
import { startWeaviate, type NodeOptions, type WeaviateNode } from '../../src/launcher/node.ts';
import { silentLogger } from '../../src/log.ts';
import { createPool } from '../../src/pool/create.ts';

/** A Weaviate node of the test's own (to kill, freeze, restart) with `count` sample documents. */
export async function startLoadedNode(count = 500, options: NodeOptions = {}): Promise<WeaviateNode> {
  const node = await startWeaviate({ stopTimeoutMs: 5000, ...options });
  try {
    const pool = await createPool({ weaviate: node.target, minConnections: 1, maxConnections: 1, logger: silentLogger }, {});
    try {
      await pool.withConnection((c) => ensureSampleData(c, { count, chunkSize: 250 }));
    } finally {
      await pool.close();
    }
    return node;
  } catch (error) {
    await node.stop();
    throw error;
  }
}
