/**
 * `npm run bench:cluster [-- --quick | --smoke] [--out DIR] [--slow-ms N] [--service-ms N] [--only slow-node] [--contenders ID,ID]`
 *
 * Issue 12's figures in one run, every server started here by the launcher and stopped after:
 *   A. scale-out: the engine on one node beside the engine on a 3-node cluster (the sample data in
 *      a collection replicated on all three, factor 3), closed loop: throughput at saturation,
 *      p50/p99, client CPU and server CPU (all Weaviate processes summed) per query.
 *   B. one node slowed (its gRPC behind the TCP proxy of src/launcher/toxic-proxy.ts, `--slow-ms`
 *      each way), open loop at a fixed rate: hedged reads on and off (p50, p99, the extra load
 *      hedging added against its budget), and the balancing policies, least-loaded (P2C over
 *      outstanding x latency EWMA) against round robin, with the share each node served; each also
 *      with per-node adaptive limits (`nodeAdaptive`) on. With `--service-ms N` (> 0) the same
 *      again with node 3 of small capacity instead (the proxy passes one chunk towards it at a
 *      time, N ms each: its latency grows with its load, where `--slow-ms` only lengthens its path).
 *      `--only slow-node` runs B alone (after one closed-loop cell to size its rate);
 *      `--contenders least-loaded,least-loaded+node-limit` runs only those of B's variants.
 *   C. TLS (a node started over TLS with an API key, CA given by config): a new client and TLS
 *      handshake per query beside the pooled engine over TLS.
 * Nothing is asserted: every figure is printed, and written to JSON and Markdown in --out.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureSampleData } from '../src/data/load.ts';
import { DEFAULT_SAMPLE_SIZE } from '../src/data/sample.ts';
import { createExecutor, type Executor } from '../src/engine/executor.ts';
import { startCluster, startWeaviate, type WeaviateCluster, type WeaviateNode } from '../src/launcher/node.ts';
import { makeTestCerts } from '../src/launcher/test-certs.ts';
import { ToxicProxy } from '../src/launcher/toxic-proxy.ts';
import { silentLogger } from '../src/log.ts';
import type { PoolOptions, WeaviateOptions } from '../src/pool/config.ts';
import { resolveTarget, type WeaviateTarget } from '../src/pool/config.ts';
import { createPool } from '../src/pool/create.ts';
import type { ConsistencyLevel, QuerySpec } from '../src/query/spec.ts';
import { connectPerRequestSocket, REQUEST_TIMEOUT_MS, type Contender } from './contenders.ts';
import { fetchServerVersion } from '../src/weaviate/meta.ts';
import { closedLoop, openLoop, processCpuMs, type CellMeasure, type MeasureContext } from './load.ts';
import { aggregate, consoleTables, gitCommit, markdownTables } from './report.ts';
import { smallQuery, withContender, type CellResult } from './scenarios.ts';
import { flushByRestart, stopOnSignal } from './setup.ts';

interface ClusterProfile {
  name: 'smoke' | 'quick' | 'full';
  warmupMs: number;
  durationMs: number;
  reps: number;
  concurrencies: number[];
  /** Objects in the sample collection (the same on one node, on the cluster and on the TLS node). */
  objects: number;
  /** Open-loop rate of part B as a share of the cluster engine's measured capacity. */
  slowRateFraction: number;
  connections: number;
  tlsConcurrencies: number[];
}

const PROFILES: Record<ClusterProfile['name'], ClusterProfile> = {
  smoke: { name: 'smoke', warmupMs: 200, durationMs: 800, reps: 1, concurrencies: [8], objects: 300, slowRateFraction: 0.3, connections: 2, tlsConcurrencies: [4] },
  quick: { name: 'quick', warmupMs: 1000, durationMs: 4000, reps: 1, concurrencies: [16, 64], objects: DEFAULT_SAMPLE_SIZE, slowRateFraction: 0.4, connections: 8, tlsConcurrencies: [1, 16] },
  full: { name: 'full', warmupMs: 2000, durationMs: 8000, reps: 2, concurrencies: [4, 16, 64], objects: DEFAULT_SAMPLE_SIZE, slowRateFraction: 0.4, connections: 8, tlsConcurrencies: [1, 4, 16] },
};

/** What one engine cell ran against and what it reported beside its latency. */
interface EngineExtras {
  /** Requests each node's pool served over the cell (warm-up included), when several nodes. */
  servedPerNode?: number[];
  hedging?: { hedged_reads: number; hedges_started: number; hedges_won: number; hedges_refused: number; hedges_skipped_node_limit: number };
  /** With nodeAdaptive: each node's limit at the end, summed over workers, and callers that waited for a node slot. */
  nodeLimits?: number[];
  nodeLimitWaited?: number;
  nodeLimitTimeouts?: number;
}

interface ClusterCell extends CellResult {
  extras?: EngineExtras;
}

/**
 * Part B's variants: the engine on the cluster with node 3 slowed, by balancing policy, with
 * per-node limits or hedging. Listed once: `--contenders` takes these ids.
 */
export const SLOW_NODE_VARIANTS: readonly { id: string; label: string; options: PoolOptions & Record<string, unknown> }[] = Object.freeze([
  { id: 'least-loaded', label: 'P2C over outstanding x latency EWMA, no hedging', options: { balancing: 'least-loaded' } },
  { id: 'least-loaded+node-limit', label: 'P2C, per-node adaptive limits (nodeAdaptive)', options: { balancing: 'least-loaded', nodeAdaptive: true } },
  { id: 'least-loaded+hedge', label: 'P2C, hedged reads on the normal lane (budget 5 %)', options: { balancing: 'least-loaded', hedge: { lanes: ['normal'], maxExtraPercent: 5 } } },
  { id: 'round-robin', label: 'round robin, no hedging', options: { balancing: 'round-robin' } },
  { id: 'round-robin+node-limit', label: 'round robin, per-node adaptive limits (nodeAdaptive)', options: { balancing: 'round-robin', nodeAdaptive: true } },
  { id: 'round-robin+hedge', label: 'round robin, hedged reads (budget 5 %)', options: { balancing: 'round-robin', hedge: { lanes: ['normal'], maxExtraPercent: 5 } } },
]);

/**
 * `--contenders a,b`: ids of SLOW_NODE_VARIANTS, each at most once (a repeated id is refused, so
 * the command the report records lists what ran); undefined when the flag is absent. Throws naming
 * what is wrong.
 */
export function parseContenders(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const known = SLOW_NODE_VARIANTS.map((v) => v.id);
  const ids = text.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const unknown = ids.filter((x) => !known.includes(x));
  const repeated = ids.filter((x, i) => ids.indexOf(x) !== i);
  if (ids.length === 0 || unknown.length > 0 || repeated.length > 0) {
    const why = ids.length === 0 ? 'none given' : unknown.length > 0 ? `unknown: ${unknown.join(', ')}` : `repeated: ${[...new Set(repeated)].join(', ')}`;
    throw new Error(`--contenders takes a comma-separated list of distinct ids among ${known.join(', ')}; got \`${text}\` (${why})`);
  }
  return ids;
}

/** Part A's engine on the 3-node cluster: id and label both from its settings, so one id is one setup. */
export function clusterEngineName(workers: number, connections: number, consistency: ConsistencyLevel): { id: string; label: string } {
  return {
    id: `3-node-engine-${workers}w-${connections}c-${consistency}`,
    label: `engine, ${workers} worker${workers === 1 ? '' : 's'}, 3 nodes, ${connections} connections per node, consistency ${consistency}`,
  };
}

function withConsistency(consistency: ConsistencyLevel | undefined): (i: number) => QuerySpec {
  return (i) => (consistency ? { ...smallQuery(i), consistencyLevel: consistency } : smallQuery(i));
}

/** The engine with the given pool options (node list, balancing, hedging) and stats for the extras. */
function engineContender(id: string, label: string, options: PoolOptions & Record<string, unknown>, workers = 1): Contender & { extras(): Promise<EngineExtras> } {
  let executor: Executor | undefined;
  return {
    id,
    label,
    async start() {
      executor = await createExecutor({ workers, defaultDeadlineMs: REQUEST_TIMEOUT_MS, leakDetectionThresholdMs: 0, logger: silentLogger, ...options }, {});
    },
    query(spec, lane) {
      return executor!.query(spec, { lane });
    },
    async extras() {
      const s = await executor!.stats();
      const pools = s.workers.map((w) => w.pool).filter((p) => p !== null && p !== undefined);
      const out: EngineExtras = {};
      const nodes = pools[0]?.nodes;
      if (nodes) out.servedPerNode = nodes.map((_, i) => pools.reduce((a, p) => a + (p.nodes?.[i]?.pool?.total_requests ?? 0), 0));
      const h = pools.map((p) => p.hedging).filter((x) => x !== undefined);
      if (h.length > 0 && h.some((x) => x.hedged_reads > 0)) {
        out.hedging = {
          hedged_reads: h.reduce((a, x) => a + x.hedged_reads, 0),
          hedges_started: h.reduce((a, x) => a + x.hedges_started, 0),
          hedges_won: h.reduce((a, x) => a + x.hedges_won, 0),
          hedges_refused: h.reduce((a, x) => a + x.hedges_refused, 0),
          hedges_skipped_node_limit: h.reduce((a, x) => a + (x.hedges_skipped_node_limit ?? 0), 0),
        };
      }
      if (nodes?.some((n) => n.adaptive)) {
        out.nodeLimits = nodes.map((_, i) => pools.reduce((a, p) => a + (p.nodes?.[i]?.adaptive?.limit ?? 0), 0));
        out.nodeLimitWaited = pools.reduce((a, p) => a + (p.node_limit?.waited ?? 0), 0);
        out.nodeLimitTimeouts = pools.reduce((a, p) => a + (p.node_limit?.timeouts ?? 0), 0);
      }
      return out;
    },
    async stop() {
      await executor?.close();
    },
  };
}

/**
 * A new gRPC channel, so a new TCP connection and TLS handshake (CA from config), for every query:
 * what a service without a pool pays over TLS. The server version is given (fetched once), as the
 * pool's own clients are seeded, so the cost measured is the connection's, not a /v1/meta call.
 */
function tlsConnectPerRequest(target: Readonly<WeaviateTarget>, version: string): Contender {
  return connectPerRequestSocket(target, { id: 'tls-connect-per-request', label: 'new client, socket and TLS handshake per query', version });
}


function fmt(m: CellMeasure): string {
  return `${m.throughput.toFixed(0)} req/s, p50 ${(m.latency.p50_us / 1000).toFixed(2)} ms, p99 ${(m.latency.p99_us / 1000).toFixed(2)} ms, client CPU ${m.clientCpuMsPerQuery.toFixed(3)} ms/q` +
    `${m.serverCpuMsPerQuery !== null ? `, server CPU ${m.serverCpuMsPerQuery.toFixed(3)} ms/q` : ''}${m.errors ? `, ${m.errors} errors ${JSON.stringify(m.errorsByCode)}` : ''}`;
}

async function loadSample(target: WeaviateOptions, count: number, replicationFactor: number | undefined, say: (l: string) => void): Promise<void> {
  const pool = await createPool({ weaviate: target, minConnections: 1, maxConnections: 1, logger: silentLogger }, {});
  try {
    const started = Date.now();
    const r = await pool.withConnection((c) => ensureSampleData(c, { count, chunkSize: 500, ...(replicationFactor ? { replicationFactor } : {}) }));
    say(`  sample data: ${r.objects} objects${replicationFactor ? `, replication factor ${replicationFactor}` : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await pool.close();
  }
}

/** Weaviate's CPU while nothing queries it (gossip, Raft, GC...), ms per second summed over its processes. */
async function idleServerCpu(pids: readonly (number | undefined)[], ms = 3000): Promise<number | null> {
  const read = () => pids.reduce<number | null>((a, pid) => (a === null ? null : ((x) => (x === null ? null : a + x))(processCpuMs(pid))), 0);
  const before = read();
  await new Promise((r) => setTimeout(r, ms));
  const after = read();
  return before === null || after === null ? null : Math.round(((after - before) / (ms / 1000)) * 10) / 10;
}


export async function runClusterBench(p: ClusterProfile, slowMs: number, outDir: string, say: (l: string) => void, serviceMs = 0, only?: 'slow-node', contenders?: readonly string[]) {
  const started = Date.now();
  // Taken at the start: the tree may change while the bench runs.
  const atStart = { commit: gitCommit(), loadavg: loadavg().map((x) => Math.round(x * 100) / 100) };
  const step = (name: string) => say(`\n== ${name} (${((Date.now() - started) / 1000).toFixed(0)} s elapsed)`);
  const results: ClusterCell[] = [];
  const closed = async (scenario: string, ctx: MeasureContext, make: () => ReturnType<typeof engineContender> | Contender, concurrency: number, query: (i: number) => QuerySpec, rep: number) => {
    const c = make();
    let extras: EngineExtras | undefined;
    const measure = await withContender(c, async (cc) => {
      const m = await closedLoop(ctx, (i) => cc.query(query(i), 'normal'), { concurrency, warmupMs: p.warmupMs, durationMs: p.durationMs });
      if ('extras' in cc) extras = await (cc as ReturnType<typeof engineContender>).extras();
      return m;
    });
    say(`  [${scenario}] c=${concurrency} ${c.id}: ${fmt(measure)}${extras?.servedPerNode ? `; served per node ${extras.servedPerNode.join('/')}` : ''}${extras?.nodeLimits ? `; node limits ${extras.nodeLimits.join('/')}, ${extras.nodeLimitWaited} waited for a node slot, ${extras.nodeLimitTimeouts} timed out` : ''}`);
    results.push({ scenario, cell: `c=${concurrency}`, contender: c.id, label: c.label, rep, params: { concurrency }, measure, ...(extras ? { extras } : {}) });
    return measure;
  };
  const engineOpts = { minConnections: p.connections, maxConnections: p.connections };
  const idle: Record<string, number | null> = {};

  // ---- A. one node ----------------------------------------------------------------------------
  if (!only) step('A. the engine on one node');
  let single: WeaviateNode | undefined = only ? undefined : await startWeaviate({ stopTimeoutMs: 5000, onProgress: say });
  if (single) {
    try {
      await loadSample(single.target, p.objects, undefined, say);
      await flushByRestart([single], say);
      const ctx: MeasureContext = { serverPid: single.pid, grpcPort: single.grpcPort };
      idle['1 node'] = await idleServerCpu([single.pid]);
      say(`  idle server CPU: ${idle['1 node']} ms/s`);
      for (let rep = 0; rep < p.reps; rep++) {
        for (const c of p.concurrencies) {
          await closed('scale-out', ctx, () => engineContender(`1-node-engine-1w-${p.connections}c`, 'engine, 1 worker, one node', { ...engineOpts, weaviate: { ...single!.target } }), c, smallQuery, rep);
        }
      }
    } finally {
      await single.stop();
      single = undefined;
    }
  }

  // ---- A (cont.) and B. three nodes --------------------------------------------------------------
  step('A. the engine on a 3-node cluster (replication factor 3)');
  const cluster: WeaviateCluster = await startCluster({ size: 3, stopTimeoutMs: 5000, readyTimeoutMs: 120_000, onProgress: say });
  let capacity = 0;
  try {
    const n = cluster.nodes;
    const nodeList = (grpcPortOf: (i: number) => number) => n.map((x, i) => ({ host: x.host, httpPort: x.httpPort, grpcPort: grpcPortOf(i) }));
    await loadSample(n[0]!.target, p.objects, 3, say);
    await flushByRestart(n, say);
    const ctx: MeasureContext = { serverPid: undefined, serverPids: n.map((x) => x.pid!), grpcPort: n[0]!.grpcPort };
    const direct = nodeList((i) => n[i]!.grpcPort);
    idle['3 nodes'] = await idleServerCpu(n.map((x) => x.pid));
    say(`  idle server CPU: ${idle['3 nodes']} ms/s (3 processes)`);
    if (only) {
      // B alone: one closed-loop cell sizes its open-loop rate, as A's cells do in a whole run.
      const top = Math.max(...p.concurrencies);
      const name = clusterEngineName(1, p.connections, 'ONE');
      const m = await closed('scale-out', ctx, () => engineContender(name.id, name.label, { ...engineOpts, weaviate: { nodes: direct } }), top, withConsistency('ONE'), 0);
      capacity = m.throughput;
    }
    for (let rep = 0; rep < (only ? 0 : p.reps); rep++) {
      for (const c of p.concurrencies) {
        for (const consistency of ['ONE', 'QUORUM'] as const) {
          const name = clusterEngineName(1, p.connections, consistency);
          const m = await closed('scale-out', ctx, () => engineContender(name.id, name.label, { ...engineOpts, weaviate: { nodes: direct } }), c, withConsistency(consistency), rep);
          if (consistency === 'ONE') capacity = Math.max(capacity, m.throughput);
        }
      }
      // Two workers: does a second client thread buy anything when the client shares 2 cores with 3 servers?
      const top = Math.max(...p.concurrencies);
      const name = clusterEngineName(2, p.connections, 'ONE');
      await closed('scale-out', ctx, () => engineContender(name.id, name.label, { ...engineOpts, weaviate: { nodes: direct } }, 2), top, withConsistency('ONE'), rep);
    }

    // ---- B. one node slowed ---------------------------------------------------------------------
    const proxy = new ToxicProxy(n[2]!.host, n[2]!.grpcPort);
    await proxy.start();
    try {
      const viaProxy = nodeList((i) => (i === 2 ? proxy.port : n[i]!.grpcPort));
      const rate = Math.max(20, Math.round(capacity * p.slowRateFraction));
      const variants = SLOW_NODE_VARIANTS.filter((v) => !contenders || contenders.includes(v.id));
      // Node 3 slowed two ways: a longer path (pure latency), then (with --service-ms) a small capacity.
      const kinds = [
        { scenario: 'slow-node', title: `node 3 slowed by ${slowMs} ms each way (TCP proxy)`, latencyMs: slowMs, serviceMs: 0 },
        ...(serviceMs > 0 ? [{ scenario: 'small-node', title: `node 3 of small capacity: one chunk towards it at a time, ${serviceMs} ms each (TCP proxy)`, latencyMs: 0, serviceMs }] : []),
      ];
      for (const kind of kinds) {
        step(`B. ${kind.title}: open loop at ${rate} req/s (${p.slowRateFraction} x the cluster's ${capacity.toFixed(0)} req/s), consistency ONE`);
        proxy.latencyMs = kind.latencyMs;
        proxy.serviceMs = kind.serviceMs;
        for (let rep = 0; rep < p.reps; rep++) {
          for (const v of variants) {
            const c = engineContender(v.id, v.label, { ...engineOpts, weaviate: { nodes: viaProxy }, ...v.options });
            let extras: EngineExtras | undefined;
            const r = await withContender(c, async (cc) => {
              const out = await openLoop(ctx, [{ name: 'all', rate, send: (i) => cc.query(withConsistency('ONE')(i), 'normal') }], { warmupMs: p.warmupMs, durationMs: p.durationMs, drainMs: 12_000 });
              extras = await c.extras();
              return out;
            });
            const measure = r.streams['all']!;
            const h = extras?.hedging;
            say(`  [${kind.scenario}] ${rate}/s ${c.id}: ${fmt(measure)}; served per node ${extras?.servedPerNode?.join('/')}` +
              (h ? `; hedges ${h.hedges_started} of ${h.hedged_reads} reads (${((h.hedges_started / Math.max(1, h.hedged_reads)) * 100).toFixed(2)} %), won ${h.hedges_won}, refused ${h.hedges_refused}` : '') +
              (extras?.nodeLimits ? `; node limits ${extras.nodeLimits.join('/')}, ${extras.nodeLimitWaited} waited for a node slot, ${extras.nodeLimitTimeouts} timed out` : ''));
            results.push({ scenario: kind.scenario, cell: `open ${rate}/s`, contender: c.id, label: c.label, rep, params: { rate, slowMs: kind.latencyMs, serviceMs: kind.serviceMs }, measure, ...(extras ? { extras } : {}) });
          }
          // Closed loop: what each policy can serve with a slow node in the set.
          for (const v of variants.filter((x) => !x.id.includes('hedge'))) {
            await closed(kind.scenario, ctx, () => engineContender(v.id, v.label, { ...engineOpts, weaviate: { nodes: viaProxy }, ...v.options }), Math.max(...p.concurrencies), withConsistency('ONE'), rep);
          }
        }
      }
    } finally {
      await proxy.close();
    }
  } finally {
    await cluster.stop();
  }

  // ---- C. TLS --------------------------------------------------------------------------------
  if (!only) {
    step('C. TLS (CA given by config, API key): a new client and TLS handshake per query vs the pooled engine');
    const certs = makeTestCerts();
    const apiKey = `bench-${Math.random().toString(36).slice(2)}`;
    try {
      const tlsNode = await startWeaviate({
        stopTimeoutMs: 5000, onProgress: say, apiKey: { key: apiKey },
        tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, servername: certs.serverName },
      });
      try {
        const options = { ...tlsNode.target, apiKey };
        await loadSample(options, p.objects, undefined, say);
        await flushByRestart([tlsNode], say);
        const ctx: MeasureContext = { serverPid: tlsNode.pid, grpcPort: tlsNode.grpcPort };
        const resolved = resolveTarget(options, {});
        const version = await fetchServerVersion(resolved, 5000);
        for (let rep = 0; rep < p.reps; rep++) {
          for (const c of p.tlsConcurrencies) {
            await closed('tls', ctx, () => tlsConnectPerRequest(resolved, version), c, smallQuery, rep);
            await closed('tls', ctx, () => engineContender(`tls-engine-1w-${p.connections}c`, 'engine over TLS, pooled connections', { ...engineOpts, weaviate: options }), c, smallQuery, rep);
          }
        }
      } finally {
        await tlsNode.stop();
      }
    } finally {
      certs.remove();
    }
  }

  const rows = aggregate(results);
  const meta = {
    date: new Date().toISOString(),
    commit: atStart.commit,
    profile: p.name,
    command: `npm run bench:cluster${p.name === 'full' ? '' : ` -- --${p.name}`}${slowMs !== 20 ? ` --slow-ms ${slowMs}` : ''}${serviceMs > 0 ? ` --service-ms ${serviceMs}` : ''}${only ? ` --only ${only}` : ''}${contenders ? ` --contenders ${contenders.join(',')}` : ''}`,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), loadavgAtStart: atStart.loadavg, loadavgAtEnd: loadavg().map((x) => Math.round(x * 100) / 100) },
    node: process.version,
    data: `m_asset_schema, ${p.objects} objects, 64-dim vectors`,
    slowMs,
    serviceMs,
    idleServerCpuMsPerS: idle,
    durationS: Math.round((Date.now() - started) / 1000),
    profileSettings: p,
  };
  mkdirSync(outDir, { recursive: true });
  const stamp = meta.date.replace(/[:.]/g, '-');
  const files = { json: join(outDir, `cluster-${p.name}-${stamp}.json`), markdown: join(outDir, `cluster-${p.name}-${stamp}.md`) };
  const extrasTable = extrasMarkdown(results);
  writeFileSync(files.json, JSON.stringify({ meta, rows: rows.map(({ histograms: _h, ...r }) => r), results }, null, 2));
  const idleLine = `Idle server CPU (nothing querying), ms per second: ${Object.entries(idle).map(([k, x]) => `${k} ${x ?? 'n/a'}`).join(', ')}`;
  writeFileSync(files.markdown, `# ${meta.command} (${meta.date}, ${meta.commit})\n\n## Tables\n${markdownTables(rows)}\n\n## Nodes and hedging\n\n${extrasTable}\n\n${idleLine}\n`);
  say(consoleTables(rows));
  say(`\nNodes and hedging:\n${extrasTable}\n\n${idleLine}`);
  say(`\nJSON: ${files.json}\nMarkdown: ${files.markdown}\nTook ${meta.durationS} s.`);
  return { meta, rows, results, files };
}

function extrasMarkdown(results: ClusterCell[]): string {
  const lines = ['| scenario | cell | contender | served per node (node 3 slowed in slow-node, small in small-node) | share on node 3 | node limits at the end (sum over workers) | waited for a node slot | hedges / hedged reads | extra load | hedges won | refused by budget | skipped at node limit |', '|---|---|---|---|---:|---|---:|---|---:|---:|---:|---:|'];
  for (const r of results) {
    const s = r.extras?.servedPerNode;
    const h = r.extras?.hedging;
    if (!s && !h) continue;
    const total = s ? s.reduce((a, b) => a + b, 0) : 0;
    const l = r.extras?.nodeLimits;
    lines.push(`| ${r.scenario} | ${r.cell} | ${r.contender} | ${s ? s.join(' / ') : '-'} | ${s && total ? `${((s[2]! / total) * 100).toFixed(1)} %` : '-'} | ` +
      `${l ? l.join(' / ') : '-'} | ${l ? `${r.extras?.nodeLimitWaited ?? 0}${r.extras?.nodeLimitTimeouts ? ` (${r.extras.nodeLimitTimeouts} timed out)` : ''}` : '-'} | ` +
      `${h ? `${h.hedges_started} / ${h.hedged_reads}` : '-'} | ${h ? `${((h.hedges_started / Math.max(1, h.hedged_reads)) * 100).toFixed(2)} %` : '-'} | ${h ? h.hedges_won : '-'} | ${h ? h.hedges_refused : '-'} | ${h ? h.hedges_skipped_node_limit : '-'} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/out' },
      'slow-ms': { type: 'string', default: '20' },
      'service-ms': { type: 'string', default: '0' },
      only: { type: 'string' },
      contenders: { type: 'string' },
    },
  });
  const profile = PROFILES[values.smoke ? 'smoke' : values.quick ? 'quick' : 'full'];
  const slowMs = Number(values['slow-ms']);
  if (!Number.isFinite(slowMs) || slowMs < 0) throw new Error(`--slow-ms must be a number of ms >= 0, got ${values['slow-ms']}`);
  const serviceMs = Number(values['service-ms']);
  if (!Number.isFinite(serviceMs) || serviceMs < 0) throw new Error(`--service-ms must be a number of ms >= 0, got ${values['service-ms']}`);
  if (values.only !== undefined && values.only !== 'slow-node') throw new Error(`--only takes slow-node, got ${values.only}`);
  const say = (line: string) => console.log(line);
  say(`Cluster bench (${profile.name}) on ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const contenders = parseContenders(values.contenders);
  // Its nodes come and go inside runClusterBench: on SIGTERM/SIGINT exit, and the launcher's exit hook kills them.
  stopOnSignal(undefined, say);
  await runClusterBench(profile, slowMs, values.out!, say, serviceMs, values.only as 'slow-node' | undefined, contenders);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
