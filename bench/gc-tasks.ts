/**
 * Tasks for bench/gc-probe.ts: they run in an engine worker (`taskModule`) and measure that
 * worker's own garbage collection. Not part of the package.
 */
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
let pauses: { kind: string; ms: number }[] = [];
let observer: PerformanceObserver | undefined;
let oldAtStart = 0;
const oldSpaceUsed = () => getHeapSpaceStatistics().filter((s) => s.space_name === 'old_space').reduce((a, s) => a + s.space_used_size, 0);

/** Start recording this worker's GC pauses. */
export function gcWatch(): null {
  pauses = [];
  observer?.disconnect();
  observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ kind: KINDS[(e as unknown as { detail: { kind: number } }).detail.kind] ?? 'other', ms: e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  oldAtStart = oldSpaceUsed();
  return null;
}

export type GcPauses = Record<string, { count: number; totalMs: number; p50Ms: number; maxMs: number }>;

/** The pauses since gcWatch, by kind, and how much the old space grew (negative: a mark-compact freed more). */
export function gcReport(): { pauses: GcPauses; oldSpaceGrowthKb: number } {
  observer?.disconnect();
  observer = undefined;
  const out: GcPauses = {};
  for (const kind of new Set(pauses.map((p) => p.kind))) {
    const ms = pauses.filter((p) => p.kind === kind).map((p) => p.ms).sort((a, b) => a - b);
    out[kind] = { count: ms.length, totalMs: ms.reduce((a, b) => a + b, 0), p50Ms: ms[Math.floor(ms.length / 2)]!, maxMs: ms.at(-1)! };
  }
  return { pauses: out, oldSpaceGrowthKb: Math.round((oldSpaceUsed() - oldAtStart) / 1024) };
}

let session: Session | undefined;

/**
 * Start V8's sampling heap profiler in this worker. `promoted`: keep the samples of objects a
 * mark-compact collected (they survived the scavenges: promoted, then died in the old space);
 * otherwise only objects still alive when the profile is read.
 */
export async function heapSampleStart(_client: unknown, args: { promoted: boolean }): Promise<null> {
  session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 1024, includeObjectsCollectedByMajorGC: args.promoted, includeObjectsCollectedByMinorGC: false });
  return null;
}

type ProfileNode = { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: ProfileNode[] };

/** Read the profile (after a full collection when `collect`, so that only live objects remain) and stop: bytes by allocation site, the top `top`. */
export async function heapSampleStop(_client: unknown, args: { collect: boolean; top: number }): Promise<{ totalKb: number; sites: { site: string; kb: number }[] }> {
  if (args.collect) (globalThis as { gc?: () => void }).gc?.();
  const { profile } = (await session!.post('HeapProfiler.getSamplingProfile')) as unknown as { profile: { head: ProfileNode } };
  await session!.post('HeapProfiler.stopSampling');
  session!.disconnect();
  session = undefined;
  const sites = new Map<string, number>();
  let total = 0;
  const walk = (n: ProfileNode) => {
    if (n.selfSize > 0) {
      const url = n.callFrame.url.replace(/.*node_modules\//, '').replace(/.*\/src\//, 'src/');
      const site = `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
      total += n.selfSize;
      sites.set(site, (sites.get(site) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  return {
    totalKb: Math.round(total / 1024),
    sites: [...sites].sort((a, b) => b[1] - a[1]).slice(0, args.top).map(([site, bytes]) => ({ site, kb: Math.round(bytes / 1024) })),
  };
}
