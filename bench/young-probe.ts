/**
 * Does the workers' smaller young generation cost throughput or client CPU (2026-11-28)? The
 * engine gives its workers a 12 MB young generation (`workerResourceLimits`) instead of V8's own
 * (192 MB on this 24 GiB machine), because shorter scavenge pauses lowered the critical p99 under
 * overload (bench/stall-probe.ts). Shorter pauses come 7x as often. This probe runs the engine at
 * saturation (1 worker x 8 connections, a closed loop of `concurrency` small reads, 6 s after 1 s), the two
 * sizes in turn, `pairs` times, and prints throughput, client and server CPU per query and p99.
 *   node --expose-gc bench/young-probe.ts [pairs=6] [concurrency=64]   (Node 24: PATH=node_modules/.bin:$PATH)
 */
import { createExecutor } from '../src/index.ts';
import { resolveTarget } from '../src/pool/config.ts';
import { silentLogger } from '../src/log.ts';
import { closedLoop, type MeasureContext } from './load.ts';
import { smallQuery } from './scenarios.ts';
import { withSampleWeaviate } from './setup.ts';
import { warmUpServer } from './tune.ts';

const pairs = Number(process.argv[2] ?? 6);
const concurrency = Number(process.argv[3] ?? 64);
const say = (l: string) => console.log(l);

await withSampleWeaviate(say, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const ctx: MeasureContext = { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort };
  await warmUpServer(target, ctx);
  for (let i = 0; i < 2 * pairs; i++) {
    const young = i % 2 === 0 ? 12 : 192;
    const e = await createExecutor({ weaviate: { ...target }, workers: 1, minConnections: 8, maxConnections: 8, logger: silentLogger, workerResourceLimits: { maxYoungGenerationSizeMb: young } }, {});
    const r = await closedLoop(ctx, (k) => e.query(smallQuery(k)), { concurrency, warmupMs: 1000, durationMs: 6000 });
    await e.close();
    say(`young ${young} MB: ${r.throughput} req/s, client CPU ${r.clientCpuMsPerQuery} ms/q, server CPU ${r.serverCpuMsPerQuery} ms/q, p99 ${(r.latency.p99_us / 1000).toFixed(1)} ms`);
  }
});
