/**
 * Where does the engine's client CPU go? Runs a closed loop (bm25 limit 5) through the single
 * client and through the engine, and reports CPU per query for the whole process, the main
 * thread alone (process.threadCpuUsage) and, by difference, the worker threads.
 * The engine runs once per worker count given (0 = inline: the engine on the caller's thread).
 *   node bench/profile-overhead.ts [concurrency] [seconds] [workers,workers...] [connections]
 * Uses the Weaviate WEAVIATE_HOST/WEAVIATE_PORT name, or starts one with the sample data.
 */
import { createExecutor } from '../src/engine/executor.ts';
import { silentLogger } from '../src/log.ts';
import { resolveTarget } from '../src/pool/config.ts';
import { singleClient } from './contenders.ts';
import { smallQuery } from './scenarios.ts';
import { withSampleWeaviate } from './setup.ts';

const args = process.argv.slice(2);
const [concurrency = 16, seconds = 5] = args.slice(0, 2).map(Number);
const workerCounts = (args[2] ?? '1').split(',').map(Number);
const connections = Number(args[3] ?? 4);

async function loop(name: string, send: (i: number) => Promise<unknown>): Promise<void> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const p0 = process.cpuUsage();
  const t0 = process.threadCpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await send(n);
        n++;
      }
    }),
  );
  const p = process.cpuUsage(p0);
  const t = process.threadCpuUsage(t0);
  const ms = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
  console.log(
    `${name.padEnd(22)} ${String(Math.round(n / seconds)).padStart(6)} req/s  process ${(ms(p) / n).toFixed(3)} ms/q  main ${(ms(t) / n).toFixed(3)} ms/q  workers ${((ms(p) - ms(t)) / n).toFixed(3)} ms/q`,
  );
}

await withSampleWeaviate((line) => console.error(line), async (weaviate) => {
  const target = resolveTarget(weaviate.target);
  const opts = { weaviate: weaviate.target };
  const single = singleClient(target);
  await single.start();
  await loop('warm-up', (i) => single.query(smallQuery(i), 'normal'));
  await loop('single-client', (i) => single.query(smallQuery(i), 'normal'));
  await single.stop();
  for (const workers of workerCounts) {
    const engine = await createExecutor({ ...opts, workers, minConnections: connections, maxConnections: connections, leakDetectionThresholdMs: 0, logger: silentLogger });
    await loop('engine warm-up', (i) => engine.query(smallQuery(i)));
    await loop(`engine ${workers}w ${connections}c`, (i) => engine.query(smallQuery(i)));
    await engine.close();
  }
});
