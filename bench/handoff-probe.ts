/**
 * The reply hand-off of the engine's workers (issue 11), A/B in one process, contenders
 * interleaved per repetition, against a Weaviate with the sample data (WEAVIATE_HOST/PORT, or
 * one started and stopped here):
 *   node --expose-gc bench/handoff-probe.ts [seconds=4] [reps=1] [contender...]
 * Contenders: engine-<w>w-8c with the defaults (replyHandoff bytes, decodeSliceMs 1: the id
 * without suffix), objects (`-objects`), bytes with Float32Array vectors (`-f32`) and bytes with
 * each reply decoded as it arrives (`-slice0`), for w = 1 and 2. (The first probe run, at commit
 * a12ec60, had decodeSliceMs 0 as the default and a `-slice1` contender.) Per contender:
 * small results c=16 and large results c=16 (closed loop), then large results open loop at 70 %
 * of the contender's own large-results throughput: req/s, client CPU per query (all threads),
 * main-thread event-loop delay p99.
 */
import { resolveTarget } from '../src/pool/config.ts';
import { engine, type Contender, type EngineSetting } from './contenders.ts';
import { engineFloat32, engineNoSlice, engineObjects } from './lean-contenders.ts';
import { closedLoop, openLoop, type CellMeasure } from './load.ts';
import { largeQuery, smallQuery } from './scenarios.ts';
import { withSampleWeaviate } from './setup.ts';

const [s = '4', r = '1', ...names] = process.argv.slice(2);
const durationMs = Number(s) * 1000;
const line = (cell: string, id: string, m: CellMeasure) =>
  console.log(
    `${cell.padEnd(12)} ${id.padEnd(20)} ${m.throughput.toFixed(0).padStart(5)} req/s  p50 ${(m.latency.p50_us / 1000).toFixed(2).padStart(6)} ms  p99 ${(m.latency.p99_us / 1000).toFixed(2).padStart(6)} ms  client ${m.clientCpuMsPerQuery.toFixed(3)} ms/q  server ${m.serverCpuMsPerQuery?.toFixed(3) ?? 'n/a'} ms/q  loop p99 ${m.eventLoopP99Ms.toFixed(2)} ms  errors ${m.errors}`,
  );

await withSampleWeaviate(() => {}, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const ctx = { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort };
  const makers: Record<string, () => Contender> = {};
  for (const workers of [1, 2]) {
    const setting: EngineSetting = { workers, connections: 8 };
    makers[`engine-${workers}w-8c`] = () => engine(target, setting);
    makers[`engine-${workers}w-8c-objects`] = () => engineObjects(target, setting);
    makers[`engine-${workers}w-8c-f32`] = () => engineFloat32(target, setting);
    makers[`engine-${workers}w-8c-slice0`] = () => engineNoSlice(target, setting);
  }
  const chosen = names.length > 0 ? names : Object.keys(makers);
  for (let rep = 0; rep < Number(r); rep++) {
    const order = [...chosen.slice(rep % chosen.length), ...chosen.slice(0, rep % chosen.length)];
    for (const name of order) {
      const c = makers[name]!();
      (globalThis as { gc?: () => void }).gc?.();
      await c.start();
      try {
        line('small c=16', c.id, await closedLoop(ctx, (i) => c.query(smallQuery(i), 'normal'), { concurrency: 16, warmupMs: 1000, durationMs }));
        const large = await closedLoop(ctx, (i) => c.query(largeQuery(i), 'normal'), { concurrency: 16, warmupMs: 1000, durationMs });
        line('large c=16', c.id, large);
        const rate = Math.max(1, Math.round(large.throughput * 0.7));
        const open = await openLoop(ctx, [{ name: 'all', rate, send: (i) => c.query(largeQuery(i), 'normal') }], { warmupMs: 1000, durationMs, drainMs: 12_000 });
        line(`large ${rate}/s`, c.id, open.streams['all']!);
      } finally {
        await c.stop();
      }
    }
  }
});
