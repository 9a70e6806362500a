/**
 * insertMany of 1, 2, 32 and 100 objects on one pooled connection: the pooled inserter
 * (src/weaviate/insert.ts) against weaviate-client's collection.data.insertMany, 8 calls each,
 * on a Weaviate it starts. `node bench/insert-probe.ts` (Node 24: PATH=node_modules/.bin:$PATH).
 */
import weaviate from 'weaviate-client';
import { startWeaviate } from '../src/launcher/node.ts';
import { createPool } from '../src/pool/create.ts';
import { inserterOf } from '../src/weaviate/insert.ts';
const node = await startWeaviate({});
try {
  const pool = await createPool({ weaviate: node.target, minConnections: 1, maxConnections: 1 }, {});
  await pool.withConnection(async (c) => {
    await c.collections.create({ name: 'P', properties: [{ name: 'title', dataType: 'text' }, { name: 'n', dataType: 'int' }], vectorizers: weaviate.configure.vectors.selfProvided() });
    const ins = inserterOf(c)!;
    for (const size of [1, 2, 32, 100]) {
      const objs = () => Array.from({ length: size }, (_, i) => ({ properties: { title: `t${i}`, n: i }, vectors: Array.from({ length: 64 }, (_, d) => Math.sin(i * d)) }));
      for (const [name, f] of [['pooled inserter', () => ins('P', objs(), {})], ['weaviate-client insertMany', () => c.collections.use('P').data.insertMany(objs() as never)]] as const) {
        const t: number[] = [];
        for (let r = 0; r < 8; r++) { const s = performance.now(); await f(); t.push(performance.now() - s); }
        t.sort((a, b) => a - b);
        console.log(`${size} objects, ${name}: median ${t[4]!.toFixed(1)} ms (min ${t[0]!.toFixed(1)}, max ${t[7]!.toFixed(1)})`);
      }
    }
  });
  await pool.close();
} finally { await node.stop(); }
