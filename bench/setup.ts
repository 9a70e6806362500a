import { constants } from 'node:os';
import { ensureSampleData } from '../src/data/load.ts';
import { ensureWeaviate, type LocalWeaviate } from '../src/launcher/local.ts';
import type { WeaviateNode } from '../src/launcher/node.ts';
import { silentLogger } from '../src/log.ts';
import { createPool } from '../src/pool/create.ts';

/**
 * A freshly loaded Weaviate holds the load in memtables until PERSISTENCE_MEMTABLES_FLUSH_DIRTY_AFTER_SECONDS
 * (60 s) after the first write, and until then every query reads them: a bm25 costs the server
 * 1.5-2x the CPU of the flushed state (the bench's small bm25/nearVector mix ~1.4x, at 0.7-0.8x the
 * throughput; nearVector alone no more; bench/RESULTS.md, 2026-11-27 18:30Z).
 * A bench that starts right after the load measured its first minute on that server and the rest on
 * another. A node this process started is restarted (a clean stop writes the memtables out, ~10 s:
 * flushByRestart, which bench:cluster uses for its own loads too);
 * a server named by WEAVIATE_HOST/WEAVIATE_PORT is not ours to restart, so the bench waits the flush out.
 */
export async function flushByRestart(nodes: readonly WeaviateNode[], say: (line: string) => void): Promise<void> {
  const t0 = performance.now();
  // One at a time: a 3-node cluster keeps its quorum.
  for (const node of nodes) await node.restart();
  say(`Restarted ${nodes.length === 1 ? 'Weaviate' : `the ${nodes.length} nodes one at a time`} to write the fresh load out of its memtables (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

async function settle(weaviate: LocalWeaviate, say: (line: string) => void): Promise<void> {
  if (weaviate.node) return flushByRestart([weaviate.node], say);
  say('Waiting 65 s for the server to flush the fresh load out of its memtables (PERSISTENCE_MEMTABLES_FLUSH_DIRTY_AFTER_SECONDS, 60 s by default)');
  await new Promise((resolve) => setTimeout(resolve, 65_000));
}

/** Load the sample data (if missing) over a one-connection pool; true when it was loaded now. */
export async function loadSampleData(weaviate: LocalWeaviate, say: (line: string) => void): Promise<boolean> {
  const loader = await createPool({ weaviate: { ...weaviate.target }, minConnections: 1, maxConnections: 1, logger: silentLogger }, {});
  try {
    return (await loader.withConnection((c) => ensureSampleData(c, { onProgress: say }))).created;
  } finally {
    await loader.close();
  }
}

/**
 * A bench ended by SIGTERM or SIGINT (`kill`, `weaviate-executor bench|tune` passing a signal on,
 * a CI time-out) ends without its 'exit' handlers, so a Weaviate it started lived on until the next
 * start reaped it. While the bench runs, either signal runs `stop` (withSampleWeaviate: the node's
 * stop, TERM, then KILL after its bound) and ends the process with 128 + the signal's number;
 * without `stop`, or at a second signal, it exits at once, and the launcher's exit hook KILLs every
 * node this process started (bench:cluster). Returns the uninstall.
 */
export function stopOnSignal(stop: (() => Promise<unknown>) | undefined, say: (line: string) => void): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = 128 + (constants.signals[signal] ?? 15);
    if (!stop || stopping) {
      say(`${signal}: exiting (the nodes this process started are killed)`);
      process.exit(code);
    }
    stopping = true;
    say(`${signal}: stopping Weaviate before exiting`);
    void stop().catch(() => {}).finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  return () => void process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
}

/**
 * Run `fn` against a Weaviate holding the sample data: the one WEAVIATE_HOST/WEAVIATE_PORT name,
 * or a local node started (and stopped afterwards, also on SIGTERM/SIGINT: stopOnSignal) for the purpose.
 */
export async function withSampleWeaviate<T>(say: (line: string) => void, fn: (weaviate: LocalWeaviate) => Promise<T>): Promise<T> {
  const weaviate = await ensureWeaviate({ onProgress: say, binaryOptions: { onProgress: say } });
  const uninstall = stopOnSignal(() => weaviate.stop(), say);
  try {
    if (await loadSampleData(weaviate, say)) await settle(weaviate, say);
    return await fn(weaviate);
  } finally {
    try {
      await weaviate.stop();
    } finally {
      uninstall();
    }
  }
}
