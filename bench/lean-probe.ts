/**
 * Quick A/B measurements for the lean path's design choices, on the caller's thread, against a
 * running Weaviate (WEAVIATE_HOST/WEAVIATE_PORT/WEAVIATE_GRPC_PORT; WEAVIATE_PID for its CPU):
 *   node bench/lean-probe.ts <small|large> <concurrency> <seconds> <reps> contender...
 * contenders: single, pool-client, pool-lean, raw, raw16m, engine1w-lean, engine1w-client, engine0w-lean
 * Contenders are interleaved per repetition; one line per cell.
 */
import { resolveTarget } from '../src/pool/config.ts';
import { singleClient, type Contender } from './contenders.ts';
import { engineFloat32, enginePath, poolMainPath, rawGrpc } from './lean-contenders.ts';
import { closedLoop } from './load.ts';
import { largeQuery, smallQuery } from './scenarios.ts';

const [mix = 'small', c = '16', s = '4', r = '2', ...names] = process.argv.slice(2);
const target = resolveTarget();
const serverPid = process.env['WEAVIATE_PID'] ? Number(process.env['WEAVIATE_PID']) : undefined;
const make: Record<string, () => Contender> = {
  single: () => singleClient(target),
  'pool-client': () => poolMainPath(target, 4, 'client'),
  'pool-lean': () => poolMainPath(target, 4, 'lean'),
  raw: () => rawGrpc(target),
  raw16m: () => rawGrpc(target, 16 << 20),
  'raw16m-client-api': () => rawGrpc(target, 16 << 20, 'client'),
  'engine1w-lean': () => enginePath(target, { workers: 1, connections: 8 }, 'lean'),
  'engine1w-client': () => enginePath(target, { workers: 1, connections: 8 }, 'client'),
  'engine0w-lean': () => enginePath(target, { workers: 0, connections: 8 }, 'lean'),
  'engine1w-f32': () => engineFloat32(target, { workers: 1, connections: 8 }),
};
const query = mix === 'large' ? largeQuery : smallQuery;
for (let rep = 0; rep < Number(r); rep++) {
  for (const name of names) {
    const contender = make[name]!();
    await contender.start();
    try {
      const m = await closedLoop({ serverPid, grpcPort: target.grpcPort }, (i) => contender.query(query(i), 'normal'), { concurrency: Number(c), warmupMs: 1000, durationMs: Number(s) * 1000 });
      console.log(
        `${mix} c=${c} ${contender.id.padEnd(26)} ${m.throughput.toFixed(0).padStart(6)} req/s  p50 ${(m.latency.p50_us / 1000).toFixed(2)} ms  client ${m.clientCpuMsPerQuery.toFixed(3)} ms/q  server ${m.serverCpuMsPerQuery?.toFixed(3) ?? 'n/a'} ms/q  loop p99 ${m.eventLoopP99Ms.toFixed(2)} ms  errors ${m.errors}`,
      );
    } finally {
      await contender.stop();
    }
  }
}
