/**
 * `npm run bench [-- --quick | --smoke] [--out DIR] [--only saturation,large-results,fixed-rate,lane-isolation,http]`
 *
 * Starts (or uses, via WEAVIATE_HOST/WEAVIATE_PORT) a Weaviate with the sample data, runs every
 * scenario with every contender on the same data and load in one run, prints a table per
 * scenario with ratios to the single-client baseline and the targets (measured, met or not),
 * and writes a JSON file with everything and an HTML report with HDR percentile plots.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SAMPLE_SIZE } from '../src/data/sample.ts';
import { resolveTarget, type WeaviateTarget } from '../src/pool/config.ts';
import { fetchServerVersion } from '../src/weaviate/meta.ts';
import { httpLevel } from './http.ts';
import { aggregate, consoleTables, evaluateTargets, gitCommit, html, markdownTables, targetsTable, type Row, type Target } from './report.ts';
import { withSampleWeaviate } from './setup.ts';
import { PROFILES, fixedRate, laneIsolation, largeAtLoad, largeResults, saturation, type CellResult, type Profile, type RunContext } from './scenarios.ts';

export const SCENARIOS = ['saturation', 'large-results', 'large-70pct', 'fixed-rate', 'lane-isolation', 'http'] as const;

export interface BenchOptions {
  profile: Profile['name'];
  outDir: string;
  target: Readonly<WeaviateTarget>;
  serverPid: number | undefined;
  only?: readonly string[];
  progress?: (line: string) => void;
}

export interface BenchResult {
  meta: Record<string, unknown>;
  rows: Row[];
  targets: Target[];
  results: CellResult[];
  files: { json: string; html: string; markdown: string };
}


export async function runBench(o: BenchOptions): Promise<BenchResult> {
  const p = PROFILES[o.profile];
  const progress = o.progress ?? ((line: string) => console.log(line));
  const only = new Set(o.only?.length ? o.only : SCENARIOS);
  const ctx: RunContext = { target: o.target, serverPid: o.serverPid, grpcPort: o.target.grpcPort, progress };
  const started = Date.now();
  const results: CellResult[] = [];
  const step = (name: string) => progress(`\n== ${name} (${((Date.now() - started) / 1000).toFixed(0)} s elapsed)`);

  if (only.has('saturation')) {
    step('closed-loop saturation, small results');
    results.push(...(await saturation(ctx, p)));
  }
  if (only.has('large-results')) {
    step('large results: nearVector limit 100 with vectors');
    results.push(...(await largeResults(ctx, p)));
  }
  if (only.has('large-70pct')) {
    const large = aggregate(results).filter((r) => r.scenario === 'large-results');
    step('large results at 70 % of each contender\'s own capacity (open loop)');
    results.push(...(await largeAtLoad(ctx, p, (id) => large.find((r) => r.contender === id)?.throughput)));
  }
  // Rates for the open-loop scenarios come from this run's saturation figures (or a short probe).
  const top = `c=${Math.max(...p.concurrencies)}`;
  const rowsSoFar = aggregate(results);
  let singleCap = rowsSoFar.find((r) => r.scenario === 'saturation' && r.cell === top && r.contender === 'single-client')?.throughput;
  let engineCap = rowsSoFar.filter((r) => r.scenario === 'saturation' && r.cell === top && r.contender.startsWith('engine')).sort((a, b) => b.throughput - a.throughput)[0]?.throughput;
  if ((only.has('fixed-rate') || only.has('lane-isolation')) && (!singleCap || !engineCap)) {
    step('probing capacity for the open-loop scenarios');
    const probe = aggregate(await saturation(ctx, { ...p, concurrencies: [Math.max(...p.concurrencies)], reps: 1, cprConcurrencies: [] }));
    singleCap ??= probe.find((r) => r.contender === 'single-client')?.throughput ?? 100;
    engineCap ??= probe.filter((r) => r.contender.startsWith('engine')).sort((a, b) => b.throughput - a.throughput)[0]?.throughput ?? 100;
  }
  if (only.has('fixed-rate')) {
    step(`open loop at fixed rates (fractions of the single client's ${singleCap!.toFixed(0)} req/s)`);
    results.push(...(await fixedRate(ctx, p, singleCap!)));
  }
  if (only.has('lane-isolation')) {
    step(`lane isolation: critical at ${p.criticalRate}/s, normal offered at 2x the engine's ${engineCap!.toFixed(0)} req/s`);
    results.push(...(await laneIsolation(ctx, p, engineCap!)));
  }
  if (only.has('http')) {
    step('HTTP level (autocannon, closed loop)');
    results.push(...(await httpLevel(ctx, p)));
  }

  const rows = aggregate(results);
  const targets = evaluateTargets(rows, cpus().length);
  const meta = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    profile: p.name,
    command: `npm run bench${p.name === 'full' ? '' : ` -- --${p.name}`}`,
    machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    node: process.version,
    weaviate: { version: await fetchServerVersion(o.target, 5000).catch(() => 'unknown'), sameHost: ['127.0.0.1', 'localhost'].includes(o.target.host) },
    data: `m_asset_schema, ${DEFAULT_SAMPLE_SIZE} objects, 64-dim vectors`,
    durationS: Math.round((Date.now() - started) / 1000),
    profileSettings: p,
  };
  mkdirSync(o.outDir, { recursive: true });
  const stamp = meta.date.replace(/[:.]/g, '-');
  const files = {
    json: join(o.outDir, `bench-${p.name}-${stamp}.json`),
    html: join(o.outDir, `bench-${p.name}-${stamp}.html`),
    markdown: join(o.outDir, `bench-${p.name}-${stamp}.md`),
  };
  writeFileSync(files.json, JSON.stringify({ meta, targets, rows: rows.map(({ histograms: _h, ...r }) => r), results }, null, 2));
  writeFileSync(files.html, html(meta, rows, targets));
  writeFileSync(files.markdown, `# ${meta.command} (${meta.date}, ${meta.commit})\n\n## Targets\n\n${targetsTable(targets)}\n\n## Tables\n${markdownTables(rows)}\n`);
  return { meta, rows, targets, results, files };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/out' },
      only: { type: 'string' },
    },
  });
  const profile: Profile['name'] = values.smoke ? 'smoke' : values.quick ? 'quick' : 'full';
  const say = (line: string) => console.log(line);
  await withSampleWeaviate(say, async (weaviate) => {
    say(`Bench (${profile}) against Weaviate at ${weaviate.target.host}:${weaviate.target.httpPort}${weaviate.external ? ' (external: server CPU not measured)' : ''}`);
    const r = await runBench({
      profile,
      outDir: values.out!,
      target: resolveTarget({ ...weaviate.target }, {}),
      serverPid: weaviate.node?.pid,
      only: values.only?.split(',').map((s) => s.trim()),
    });
    say(consoleTables(r.rows));
    say(`\nTargets (from this run):\n${targetsTable(r.targets)}`);
    say(`\nJSON: ${r.files.json}\nHTML: ${r.files.html}\nMarkdown: ${r.files.markdown}\nTook ${r.meta['durationS']} s.`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
