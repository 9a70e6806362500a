/**
 * Integration tests share one real Weaviate (started here, or the one WEAVIATE_HOST/PORT name)
 * loaded with the sample data. Its address reaches tests through `inject('weaviate')`.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { faultTable, type FaultRow } from './tracker.ts';
import { ensureSampleData } from '../../src/data/load.ts';
import { ensureWeaviate } from '../../src/launcher/local.ts';
import { createPool } from '../../src/pool/create.ts';
import type { SharedWeaviate } from './context.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  // Fault tests append their rows here; the table is printed when the run ends.
  const faultReport = join(tmpdir(), `weaviate-executor-faults-${process.pid}.jsonl`);
  writeFileSync(faultReport, '');
  project.provide('faultReport', faultReport);
  const weaviate = await ensureWeaviate({ onProgress: (l) => console.log(l), binaryOptions: { onProgress: (l) => console.log(l) } });
  try {
    const pool = await createPool({ weaviate: weaviate.target, minConnections: 1, maxConnections: 1 });
    try {
      const loaded = await pool.withConnection((client) => ensureSampleData(client));
      console.log(`Sample data: ${loaded.objects} objects in ${loaded.collection} (${loaded.created ? `loaded in ${loaded.ms} ms` : 'already there'})`);
    } finally {
      await pool.close();
    }
  } catch (error) {
    await weaviate.stop();
    throw error;
  }
  const shared: SharedWeaviate = {
    host: weaviate.target.host,
    httpPort: weaviate.target.httpPort,
    grpcPort: weaviate.target.grpcPort,
    external: weaviate.external,
    pid: weaviate.node?.pid,
  };
  project.provide('weaviate', shared);
  console.log(`Shared Weaviate ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${weaviate.target.host}:${weaviate.target.httpPort}`);
  return async () => {
    await weaviate.stop();
    if (existsSync(faultReport)) {
      const rows = readFileSync(faultReport, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FaultRow);
      if (rows.length) console.log(`\nFault suite (${new Date().toISOString()}):\n${faultTable(rows)}\n`);
      rmSync(faultReport, { force: true });
    }
  };
}
