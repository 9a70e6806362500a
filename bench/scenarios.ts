/**
 * The bench scenarios. Each runs every contender on the same data, query mix and load, in one
 * run; with repetitions, contenders are interleaved in a rotating order so machine drift shows
 * up as spread instead of favouring whoever ran first.
 */
import { SAMPLE_COLLECTION, embed } from '../src/data/sample.ts';
import type { Executor } from '../src/engine/executor.ts';
import type { WeaviateTarget } from '../src/pool/config.ts';
import type { QuerySpec } from '../src/query/spec.ts';
import { connectPerRequest, connectPerRequestSocket, engine, singleClient, type Contender, type EngineSetting, type Lane } from './contenders.ts';
import { engineFloat32, engineNoSlice, engineObjects, enginePath, poolMainPath, rawGrpc } from './lean-contenders.ts';
import { closedLoop, openLoop, type CellMeasure, type MeasureContext, type OpenStream } from './load.ts';

export interface Profile {
  name: 'smoke' | 'quick' | 'full';
  warmupMs: number;
  durationMs: number;
  reps: number;
  concurrencies: number[];
  /** connect-per-request only runs at these (it opens a connection per query). */
  cprConcurrencies: number[];
  engines: EngineSetting[];
  poolConnections: number;
  /** Open-loop rates as fractions of the single client's saturation throughput. */
  rateFractions: number[];
  criticalRate: number;
  isolationMs: number;
  /** Engine settings for lane isolation (default lanes, and lanes that protect the critical tail). */
  isolationEngines: EngineSetting[];
  largeConcurrency: number;
  http: { durationS: number; connections: number };
}

/** Lanes that protect the critical tail: normal work may hold 2 slots and queue 200 (measured in bench/RESULTS.md). */
export const PROTECTIVE: EngineSetting = { workers: 1, connections: 8, tag: 'protective', lanes: { normal: { maxConcurrency: 2, maxQueue: 200 } } };

export const PROFILES: Record<Profile['name'], Profile> = {
  smoke: {
    name: 'smoke', warmupMs: 100, durationMs: 600, reps: 1, concurrencies: [4], cprConcurrencies: [4],
    engines: [{ workers: 1, connections: 2 }], poolConnections: 2, rateFractions: [0.5], criticalRate: 10,
    isolationMs: 800, isolationEngines: [{ workers: 1, connections: 2 }], largeConcurrency: 4, http: { durationS: 1, connections: 4 },
  },
  quick: {
    name: 'quick', warmupMs: 1000, durationMs: 4000, reps: 1, concurrencies: [1, 16], cprConcurrencies: [1, 16],
    engines: [{ workers: 1, connections: 8 }, { workers: 2, connections: 8 }], poolConnections: 8, rateFractions: [0.5, 1, 1.5], criticalRate: 50,
    isolationMs: 8000, isolationEngines: [{ workers: 1, connections: 8 }, PROTECTIVE], largeConcurrency: 16, http: { durationS: 5, connections: 16 },
  },
  full: {
    name: 'full', warmupMs: 2000, durationMs: 8000, reps: 2, concurrencies: [1, 4, 16, 64], cprConcurrencies: [1, 4, 16],
    engines: [{ workers: 1, connections: 4 }, { workers: 1, connections: 8 }, { workers: 2, connections: 8 }], poolConnections: 8,
    rateFractions: [0.25, 0.5, 0.75, 1, 1.25, 1.5], criticalRate: 50, isolationMs: 15_000,
    isolationEngines: [{ workers: 1, connections: 8 }, PROTECTIVE], largeConcurrency: 16,
    http: { durationS: 10, connections: 16 },
  },
};

const COMPANIES = ['삼성전자', '현대차', 'SK하이닉스', '카카오', 'NAVER', 'LG화학', '셀트리온', 'KB금융'];
const VECTORS = COMPANIES.map((c) => embed(`${c} 실적 전망`));

/** Small results: bm25 and nearVector, limit 5, alternating over companies. */
export function smallQuery(i: number): QuerySpec {
  const k = i % COMPANIES.length;
  return i % 2 === 0
    ? { kind: 'bm25', collection: SAMPLE_COLLECTION, query: COMPANIES[k]!, limit: 5 }
    : { kind: 'nearVector', collection: SAMPLE_COLLECTION, vector: VECTORS[k]!, limit: 5 };
}

/** Large results: nearVector limit 100 with vectors returned (decoding-heavy). */
export function largeQuery(i: number): QuerySpec {
  return { kind: 'nearVector', collection: SAMPLE_COLLECTION, vector: VECTORS[i % VECTORS.length]!, limit: 100, includeVector: true };
}

/** The note's example, on the critical lane. */
const CRITICAL_VECTOR = embed('삼성전자');
export function criticalQuery(): QuerySpec {
  return { kind: 'hybrid', collection: SAMPLE_COLLECTION, query: '삼성전자', vector: CRITICAL_VECTOR, limit: 5 };
}

/** The probes' overload mix (bench/stall-probe.ts, bench/gc-probe.ts): critical at 50 req/s, small normal reads offered at 4,000 req/s. */
export function overloadStreams(e: Pick<Executor, 'query'>): OpenStream[] {
  return [
    { name: 'critical', rate: 50, send: () => e.query(criticalQuery(), { lane: 'critical' }) },
    { name: 'normal', rate: 4000, send: (k) => e.query(smallQuery(k), { lane: 'normal' }) },
  ];
}

export interface CellResult {
  scenario: string;
  cell: string;
  contender: string;
  label: string;
  rep: number;
  params: Record<string, number | string>;
  measure: CellMeasure;
}

export interface RunContext extends MeasureContext {
  target: Readonly<WeaviateTarget>;
  progress: (line: string) => void;
}

function rotate<T>(items: T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

export async function withContender<T>(c: Contender, fn: (c: Contender) => Promise<T>): Promise<T> {
  // Start every cell from a collected heap (node --expose-gc), so peak RSS belongs to this cell.
  (globalThis as { gc?: () => void }).gc?.();
  await c.start();
  try {
    return await fn(c);
  } finally {
    await c.stop();
  }
}

function fmt(m: CellMeasure): string {
  return `${m.throughput.toFixed(0)} req/s, p50 ${(m.latency.p50_us / 1000).toFixed(2)} ms, p99 ${(m.latency.p99_us / 1000).toFixed(2)} ms${m.errors ? `, ${m.errors} errors` : ''}`;
}

/** The engine setting closest to the defaults on this machine (1 worker, 8 connections), else the last. */
export function defaultEngine(p: Profile): EngineSetting {
  return p.engines.find((e) => e.workers === 1 && e.connections === 8 && !e.lanes) ?? p.engines[p.engines.length - 1]!;
}

export function contendersFor(ctx: RunContext, p: Profile): { baseline: () => Contender; others: (() => Contender)[] } {
  return {
    baseline: () => singleClient(ctx.target),
    others: [
      // weaviate-client on pooled connections, main thread (the pool before the lean path)
      () => poolMainPath(ctx.target, p.poolConnections, 'client'),
      // the lean path: pool on the main thread, the engine inline (workers 0) and with workers
      () => poolMainPath(ctx.target, p.poolConnections, 'lean'),
      () => enginePath(ctx.target, { workers: 0, connections: p.poolConnections }, 'lean'),
      ...p.engines.map((s) => () => engine(ctx.target, s)),
      // the same engines with replies decoded in the worker and posted as objects (before replyHandoff 'bytes')
      ...p.engines.filter((s) => s.workers > 0).map((s) => () => engineObjects(ctx.target, s)),
      // the default engine with weaviate-client on its connections: what the lean path changed
      () => enginePath(ctx.target, defaultEngine(p), 'client'),
      // no pool, no engine: one grpc-js channel (16 MiB windows) and the lean request/reply code
      () => rawGrpc(ctx.target, 16 << 20),
    ],
  };
}

/**
 * Large results at 70 % of each contender's own capacity (from this run's large-results cells),
 * open loop: the main thread's event-loop delay when it is busy but not saturated.
 */
export async function largeAtLoad(ctx: RunContext, p: Profile, capacity: (contender: string) => number | undefined): Promise<CellResult[]> {
  const out: CellResult[] = [];
  const makers = [
    () => singleClient(ctx.target), () => engine(ctx.target, defaultEngine(p)), () => enginePath(ctx.target, { workers: 0, connections: p.poolConnections }, 'lean'),
    () => engineObjects(ctx.target, defaultEngine(p)), () => engineFloat32(ctx.target, defaultEngine(p)), () => engineNoSlice(ctx.target, defaultEngine(p)),
  ];
  for (let rep = 0; rep < p.reps; rep++) {
    for (const make of rotate(makers, rep)) {
      const c = make();
      const cap = capacity(c.id);
      if (!cap) continue;
      const rate = Math.max(1, Math.round(cap * 0.7));
      const r = await withContender(c, (cc) =>
        openLoop(ctx, [{ name: 'all', rate, send: (i) => cc.query(largeQuery(i), 'normal') }], { warmupMs: p.warmupMs, durationMs: p.durationMs, drainMs: 12_000 }),
      );
      const measure = r.streams['all']!;
      ctx.progress(`  [large-70pct] ${rate}/s ${c.id}: ${fmt(measure)}`);
      out.push({ scenario: 'large-70pct', cell: '0.7x own capacity', contender: c.id, label: c.label, rep, params: { rate }, measure });
    }
  }
  return out;
}

/** Closed-loop saturation, small results, at each concurrency. */
export async function saturation(ctx: RunContext, p: Profile, query = smallQuery, scenario = 'saturation', extra: (() => Contender)[] = []): Promise<CellResult[]> {
  const out: CellResult[] = [];
  const { baseline, others: shared } = contendersFor(ctx, p);
  const others = [...shared, ...extra];
  for (let rep = 0; rep < p.reps; rep++) {
    for (const concurrency of p.concurrencies) {
      const cpr = p.cprConcurrencies.includes(concurrency) && scenario === 'saturation' ? [() => connectPerRequest(ctx.target), () => connectPerRequestSocket(ctx.target)] : [];
      const makers = [baseline, ...others, ...cpr];
      for (const make of rotate(makers, rep)) {
        const c = make();
        const measure = await withContender(c, (cc) =>
          closedLoop(ctx, (i) => cc.query(query(i), 'normal'), { concurrency, warmupMs: p.warmupMs, durationMs: p.durationMs }),
        );
        ctx.progress(`  [${scenario}] c=${concurrency} ${c.id}: ${fmt(measure)}`);
        out.push({ scenario, cell: `c=${concurrency}`, contender: c.id, label: c.label, rep, params: { concurrency }, measure });
      }
    }
  }
  return out;
}

/** Large results (limit 100 with vectors) at one concurrency: throughput and main-thread event-loop delay. */
export async function largeResults(ctx: RunContext, p: Profile): Promise<CellResult[]> {
  // Only these results carry vectors: the default engine returning them as Float32Array too.
  return saturation(ctx, { ...p, concurrencies: [p.largeConcurrency] }, largeQuery, 'large-results', [
    () => engineFloat32(ctx.target, defaultEngine(p)), () => engineNoSlice(ctx.target, defaultEngine(p)),
  ]);
}

/** Open loop at fixed rates (fractions of the baseline's saturation throughput), latency from the schedule. */
export async function fixedRate(ctx: RunContext, p: Profile, baselineThroughput: number): Promise<CellResult[]> {
  const out: CellResult[] = [];
  const makers = [() => singleClient(ctx.target), () => engine(ctx.target, defaultEngine(p))];
  for (let rep = 0; rep < p.reps; rep++) {
    for (const fraction of p.rateFractions) {
      const rate = Math.max(1, Math.round(baselineThroughput * fraction));
      for (const make of rotate(makers, rep)) {
        const c = make();
        const r = await withContender(c, (cc) =>
          openLoop(ctx, [{ name: 'all', rate, send: (i) => cc.query(smallQuery(i), 'normal') }], { warmupMs: p.warmupMs, durationMs: p.durationMs, drainMs: 12_000 }),
        );
        const measure = r.streams['all']!;
        ctx.progress(`  [fixed-rate] ${rate}/s (${fraction}x) ${c.id}: ${fmt(measure)}`);
        out.push({ scenario: 'fixed-rate', cell: `${fraction}x`, contender: c.id, label: c.label, rep, params: { rate, fraction }, measure });
      }
    }
  }
  return out;
}

/**
 * Lane isolation: critical traffic at a fixed modest rate, alone ("idle") and while normal
 * traffic is offered at 2x the engine's capacity; the same mix through the single client.
 */
export async function laneIsolation(ctx: RunContext, p: Profile, engineCapacity: number): Promise<CellResult[]> {
  const out: CellResult[] = [];
  const makers: (() => Contender)[] = [() => singleClient(ctx.target), ...p.isolationEngines.map((s) => () => engine(ctx.target, s))];
  const normalRate = Math.max(2, Math.round(engineCapacity * 2));
  for (let rep = 0; rep < p.reps; rep++) {
    for (const make of rotate(makers, rep)) {
      for (const mode of ['idle', 'overload'] as const) {
        const c = make();
        const streams: OpenStream[] = [{ name: 'critical', rate: p.criticalRate, send: () => c.query(criticalQuery(), 'critical' as Lane) }];
        if (mode === 'overload') streams.push({ name: 'normal', rate: normalRate, send: (i: number) => c.query(smallQuery(i), 'normal' as Lane) });
        const r = await withContender(c, () => openLoop(ctx, streams, { warmupMs: p.warmupMs, durationMs: p.isolationMs, drainMs: 12_000 }));
        for (const [stream, measure] of Object.entries(r.streams)) {
          ctx.progress(`  [lane-isolation] ${mode} ${c.id} ${stream}: ${fmt(measure)}`);
          out.push({
            scenario: 'lane-isolation', cell: `${mode}:${stream}`, contender: c.id, label: c.label, rep,
            params: { mode, stream, criticalRate: p.criticalRate, normalRate: mode === 'overload' ? normalRate : 0 },
            measure,
          });
        }
      }
    }
  }
  return out;
}
