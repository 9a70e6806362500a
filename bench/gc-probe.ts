/**
 * What garbage collection costs a worker under the overload mix (issue 13, 2026-11-28), and what
 * it collects. The stall probe's trial shape (1 worker x 16 connections, critical reserved 2,
 * normal capped at 3 with a queue of 200; critical 50 req/s, normal offered at 4,000 req/s), run
 * for `seconds`; in the worker (tasks of bench/gc-tasks.ts, sent on the critical lane):
 * 1. its GC pauses by kind over three 5 s windows, the old space's growth, and this process's RSS;
 * 2. V8's sampling heap profile over 3 s, keeping objects a mark-compact collected: where the
 *    objects that outlived the scavenges (promoted, then died in the old space) were allocated;
 * 3. the same over 1 s read after a full collection: the live set those allocations left.
 * Step 3 forces a collection, so it comes last. Process-wide V8 flags (`--initial-old-space-size`)
 * reach the worker too; `young` sets its young generation (`workerResourceLimits`).
 *   node --expose-gc [--initial-old-space-size=256] bench/gc-probe.ts [young=12]   (Node 24: PATH=node_modules/.bin:$PATH)
 */
import { fileURLToPath } from 'node:url';
import { createExecutor } from '../src/index.ts';
import { resolveTarget } from '../src/pool/config.ts';
import { silentLogger } from '../src/log.ts';
import type { GcPauses } from './gc-tasks.ts';
import { openLoop, type MeasureContext } from './load.ts';
import { overloadStreams } from './scenarios.ts';
import { withSampleWeaviate } from './setup.ts';
import { warmUpServer } from './tune.ts';

const young = Number(process.argv[2] ?? 12);
const say = (l: string) => console.log(l);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await withSampleWeaviate(say, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const ctx: MeasureContext = { serverPid: weaviate.node?.pid, grpcPort: target.grpcPort };
  await warmUpServer(target, ctx);
  const e = await createExecutor({
    weaviate: { ...target }, workers: 1, minConnections: 16, maxConnections: 16, defaultDeadlineMs: 30_000, leakDetectionThresholdMs: 0, logger: silentLogger,
    taskModule: fileURLToPath(new URL('./gc-tasks.ts', import.meta.url)),
    lanes: { critical: { reserved: 2 }, normal: { maxConcurrency: 3, maxQueue: 200 } },
    workerResourceLimits: { maxYoungGenerationSizeMb: young },
  }, {});
  const task = <T>(name: string, args: unknown = null) => e.run<T>(name, args, { lane: 'critical' });
  const load = openLoop(ctx, overloadStreams(e), { warmupMs: 2000, durationMs: 30_000, drainMs: 12_000 });
  try {
    await sleep(3000);
    say(`young generation ${young} MB; flags: ${process.execArgv.join(' ') || '-'}`);
    for (let i = 0; i < 3; i++) {
      await task('gcWatch');
      await sleep(5000);
      const r = await task<{ pauses: GcPauses; oldSpaceGrowthKb: number }>('gcReport');
      const kinds = Object.entries(r.pauses).map(([k, p]) => `${k} ${p.count}x (p50 ${p.p50Ms.toFixed(1)}, max ${p.maxMs.toFixed(1)}, total ${p.totalMs.toFixed(0)} ms)`);
      say(`5 s: ${kinds.join('; ') || 'no pause'}; old space ${r.oldSpaceGrowthKb >= 0 ? '+' : ''}${r.oldSpaceGrowthKb} kB; RSS ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB (main thread and worker)`);
    }
    for (const [promoted, ms] of [[true, 3000], [false, 1000]] as const) {
      await task('heapSampleStart', { promoted });
      await sleep(ms);
      const r = await task<{ totalKb: number; sites: { site: string; kb: number }[] }>('heapSampleStop', { collect: !promoted, top: 12 });
      say(promoted
        ? `\nallocated in ${ms / 1000} s and outliving the scavenges (promoted, then collected by a mark-compact, or still alive): ${r.totalKb} kB; by allocation site:`
        : `\nallocated in ${ms / 1000} s and alive after a full collection: ${r.totalKb} kB; by allocation site:`);
      for (const s of r.sites) say(`  ${String(s.kb).padStart(6)} kB  ${s.site}`);
    }
  } finally {
    await load;
    await e.close();
  }
});
