import { execFileSync } from 'node:child_process';
/**
 * Tables (console and Markdown), the JSON file with everything, the HTML report with HDR
 * percentile-distribution plots (inline SVG, no network needed), and the targets: each one
 * measured, then marked met or not. Numbers are never asserted here, only reported.
 */
import { decode, merge } from '../src/stats/histogram.ts';
import type { CellResult } from './scenarios.ts';

export interface Row {
  scenario: string;
  cell: string;
  contender: string;
  label: string;
  reps: number;
  throughput: number;
  throughputMin: number;
  throughputMax: number;
  p50Ms: number;
  p99Ms: number;
  p99Min: number;
  p99Max: number;
  p999Ms: number;
  errors: number;
  sockets: number;
  clientCpuMs: number;
  serverCpuMs: number | null;
  rssMb: number;
  loopP99Ms: number;
  ratioThroughput: number | null;
  ratioP99: number | null;
  histograms: string[];
}

export interface Target {
  id: string;
  goal: string;
  measured: string;
  value: number | null;
  met: boolean | null;
  note: string;
}

/** The median of a list (the mean of the middle two for an even count). */
export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r2 = (x: number) => Math.round(x * 100) / 100;

export function baselineOf(scenario: string): string {
  return scenario === 'http' ? 'http-single-client' : 'single-client';
}

/** One row per (scenario, cell, contender): medians over repetitions, with the spread. */
export function aggregate(results: CellResult[]): Row[] {
  const groups = new Map<string, CellResult[]>();
  for (const r of results) {
    const key = `${r.scenario}|${r.cell}|${r.contender}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: Row[] = [];
  for (const list of groups.values()) {
    const m = list.map((r) => r.measure);
    const first = list[0]!;
    const tput = m.map((x) => x.throughput);
    const p99 = m.map((x) => x.latency.p99_us / 1000);
    rows.push({
      scenario: first.scenario,
      cell: first.cell,
      contender: first.contender,
      label: first.label,
      reps: list.length,
      throughput: r2(median(tput)),
      throughputMin: Math.min(...tput),
      throughputMax: Math.max(...tput),
      p50Ms: r2(median(m.map((x) => x.latency.p50_us / 1000))),
      p99Ms: r2(median(p99)),
      p99Min: r2(Math.min(...p99)),
      p99Max: r2(Math.max(...p99)),
      p999Ms: r2(median(m.map((x) => x.latency.p999_us / 1000))),
      errors: m.reduce((a, x) => a + x.errors, 0),
      sockets: Math.max(...m.map((x) => x.sockets)),
      clientCpuMs: r2(median(m.map((x) => x.clientCpuMsPerQuery)) * 1000) / 1000,
      serverCpuMs: m.every((x) => x.serverCpuMsPerQuery !== null) ? r2(median(m.map((x) => x.serverCpuMsPerQuery!)) * 1000) / 1000 : null,
      rssMb: Math.max(...m.map((x) => x.rssMb)),
      loopP99Ms: r2(median(m.map((x) => x.eventLoopP99Ms))),
      ratioThroughput: null,
      ratioP99: null,
      histograms: m.map((x) => x.histogram).filter(Boolean),
    });
  }
  for (const row of rows) {
    const base = rows.find((b) => b.scenario === row.scenario && b.cell === row.cell && b.contender === baselineOf(row.scenario));
    if (base && base !== row) {
      row.ratioThroughput = base.throughput ? r2(row.throughput / base.throughput) : null;
      row.ratioP99 = base.p99Ms ? r2(row.p99Ms / base.p99Ms) : null;
    }
  }
  return rows;
}

const COLUMNS: [string, (r: Row) => string][] = [
  ['contender', (r) => r.contender],
  ['req/s', (r) => (r.reps > 1 ? `${r.throughput.toFixed(0)} (${r.throughputMin.toFixed(0)}-${r.throughputMax.toFixed(0)})` : r.throughput.toFixed(0))],
  ['p50 ms', (r) => r.p50Ms.toFixed(2)],
  ['p99 ms', (r) => (r.reps > 1 ? `${r.p99Ms.toFixed(2)} (${r.p99Min.toFixed(1)}-${r.p99Max.toFixed(1)})` : r.p99Ms.toFixed(2))],
  ['p99.9 ms', (r) => r.p999Ms.toFixed(2)],
  ['errors', (r) => String(r.errors)],
  ['sockets', (r) => String(r.sockets)],
  ['client CPU ms/q', (r) => r.clientCpuMs.toFixed(3)],
  ['server CPU ms/q', (r) => (r.serverCpuMs === null ? 'n/a' : r.serverCpuMs.toFixed(3))],
  ['RSS MB', (r) => (r.rssMb ? r.rssMb.toFixed(0) : '-')],
  ['loop p99 ms', (r) => (r.scenario === 'http' ? '-' : r.loopP99Ms.toFixed(2))],
  ['x base req/s', (r) => (r.ratioThroughput === null ? '-' : r.ratioThroughput.toFixed(2))],
  ['x base p99', (r) => (r.ratioP99 === null ? '-' : r.ratioP99.toFixed(2))],
];

function cellsOf(rows: Row[]): Map<string, Row[]> {
  const by = new Map<string, Row[]>();
  for (const r of rows) by.set(`${r.scenario} ${r.cell}`, [...(by.get(`${r.scenario} ${r.cell}`) ?? []), r]);
  return by;
}

export function consoleTables(rows: Row[]): string {
  const out: string[] = [];
  for (const [title, list] of cellsOf(rows)) {
    const table = [COLUMNS.map(([h]) => h), ...list.map((r) => COLUMNS.map(([, f]) => f(r)))];
    const widths = COLUMNS.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    out.push(`\n${title}`);
    for (const row of table) out.push(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  }
  return out.join('\n');
}

export function markdownTables(rows: Row[]): string {
  const out: string[] = [];
  for (const [title, list] of cellsOf(rows)) {
    out.push(`\n**${title}**\n`, `| ${COLUMNS.map(([h]) => h).join(' | ')} |`, `|${COLUMNS.map((_, i) => (i ? '---:' : '---')).join('|')}|`);
    for (const r of list) out.push(`| ${COLUMNS.map(([, f]) => f(r)).join(' | ')} |`);
  }
  return out.join('\n');
}

function find(rows: Row[], scenario: string, cell: string, contender: string): Row | undefined {
  return rows.find((r) => r.scenario === scenario && r.cell === cell && r.contender === contender);
}

/** Engines on the lean path (the default); `-client` ones read through weaviate-client. */
const isLeanEngine = (id: string) => id.startsWith('engine') && !id.endsWith('-client') && !id.includes('-protective');

/** The targets of the bench issues (issue 11's lean-path targets first), each computed from this run's rows. */
export function evaluateTargets(rows: Row[], cores = 2): Target[] {
  const targets: Target[] = [];
  const sat = rows.filter((r) => r.scenario === 'saturation');
  const maxC = Math.max(...sat.map((r) => Number(r.cell.slice(2))));
  const top = `c=${maxC}`;
  const engines = sat.filter((r) => r.cell === top && isLeanEngine(r.contender));
  const best = [...engines].sort((a, b) => b.throughput - a.throughput)[0];
  const single = find(rows, 'saturation', top, 'single-client');
  const t = (id: string, goal: string, value: number | null, ok: (v: number) => boolean, measured: string, note = ''): void => {
    targets.push({ id, goal, value, met: value === null ? null : ok(value), measured, note });
  };
  const others = (cell: string, ids: string[]) =>
    ids.map((id) => find(rows, 'saturation', cell, id)).filter((r): r is Row => !!r).map((r) => `${r.contender} ${r.throughput.toFixed(0)} req/s ${r.clientCpuMs.toFixed(3)} ms/q`).join(', ');
  if (best && single) {
    const ratio = r2(best.throughput / single.throughput);
    t('throughput-small', 'throughput at saturation >= 1.5x single client (small results)', ratio, (v) => v >= 1.5,
      `${best.contender} ${best.throughput.toFixed(0)} vs ${single.throughput.toFixed(0)} req/s at ${top}: ${ratio}x (${others(top, ['lean-main-8c', 'pool-main-8c-client', 'engine-1w-8c-client', 'raw-grpc-js-16m'])})`);
    const serverCpu = sat.filter((r) => r.cell === top && r.serverCpuMs !== null).map((r) => r.serverCpuMs!);
    if (serverCpu.length) {
      const bound = (cores * 1000) / median(serverCpu);
      const share = r2(best.throughput / bound);
      t('cpu-bound', `throughput at saturation >= 0.8x the CPU bound (${cores} cores / server CPU per query)`, share, (v) => v >= 0.8,
        `${best.contender} ${best.throughput.toFixed(0)} req/s vs bound ${bound.toFixed(0)} req/s (median server CPU ${median(serverCpu).toFixed(3)} ms/q): ${share}x; single client ${r2(single.throughput / bound)}x`);
    }
    const cpu = single.clientCpuMs ? r2(best.clientCpuMs / single.clientCpuMs) : null;
    const leanest = [...engines].sort((a, b) => a.clientCpuMs - b.clientCpuMs)[0]!;
    t('client-cpu', 'client CPU per query (all threads) <= 0.6x single client', cpu, (v) => v <= 0.6,
      `${best.contender} ${best.clientCpuMs.toFixed(3)} vs ${single.clientCpuMs.toFixed(3)} ms/query at ${top}: ${cpu}x (lowest engine: ${leanest.contender} ${r2(leanest.clientCpuMs / single.clientCpuMs)}x)`);
  }
  const large = rows.filter((r) => r.scenario === 'large-results');
  const largeBest = large.filter((r) => isLeanEngine(r.contender)).sort((a, b) => b.throughput - a.throughput)[0];
  const largeSingle = large.find((r) => r.contender === 'single-client');
  if (largeBest && largeSingle) {
    const ratio = r2(largeBest.throughput / largeSingle.throughput);
    t('throughput-large', 'throughput >= 1.5x single client on large results (nearVector limit 100 with vectors)', ratio, (v) => v >= 1.5,
      `${largeBest.contender} ${largeBest.throughput.toFixed(0)} vs ${largeSingle.throughput.toFixed(0)} req/s: ${ratio}x`);
  }
  const at70 = rows.filter((r) => r.scenario === 'large-70pct');
  const eng70 = at70.filter((r) => isLeanEngine(r.contender) && !r.contender.startsWith('engine-0w')).sort((a, b) => a.loopP99Ms - b.loopP99Ms)[0];
  if (eng70) {
    const sat70 = large.find((r) => r.contender === eng70.contender);
    const s70 = at70.find((r) => r.contender === 'single-client');
    t('event-loop-70', 'main-thread event-loop delay p99 <= 2 ms at 70 % of capacity with large results', eng70.loopP99Ms, (v) => v <= 2,
      `${eng70.contender} ${eng70.loopP99Ms.toFixed(2)} ms at ${eng70.throughput.toFixed(0)} req/s (saturated: ${sat70?.loopP99Ms.toFixed(2) ?? '?'} ms); single client ${s70?.loopP99Ms.toFixed(2) ?? '?'} ms at 70 %`);
  }
  const iso = (mode: string, contender: string) => find(rows, 'lane-isolation', `${mode}:critical`, contender);
  const isoEngines = [...new Set(rows.filter((r) => r.scenario === 'lane-isolation' && r.contender.startsWith('engine')).map((r) => r.contender))];
  const ratios = isoEngines
    .map((c) => ({ c, idle: iso('idle', c), loaded: iso('overload', c), normal: find(rows, 'lane-isolation', 'overload:normal', c) }))
    .filter((x) => x.idle && x.loaded)
    .map((x) => ({ ...x, ratio: r2(x.loaded!.p99Ms / x.idle!.p99Ms) }))
    .sort((a, b) => a.ratio - b.ratio);
  if (ratios.length) {
    const sIdle = iso('idle', 'single-client');
    const sLoaded = iso('overload', 'single-client');
    const describe = ratios.map((x) => `${x.c}: ${x.loaded!.p99Ms.toFixed(2)} ms vs ${x.idle!.p99Ms.toFixed(2)} ms idle (${x.ratio}x), normal served ${x.normal?.throughput.toFixed(0) ?? '?'} req/s`).join('; ');
    t('critical-isolation', 'critical p99 with normal offered at 2x capacity <= 1.5x critical p99 at idle', ratios[0]!.ratio, (v) => v <= 1.5,
      describe + (sIdle && sLoaded ? `; single client: ${sLoaded.p99Ms.toFixed(2)} vs ${sIdle.p99Ms.toFixed(2)} ms (${r2(sLoaded.p99Ms / sIdle.p99Ms)}x)` : ''));
  }
  const loops = rows.filter((r) => isLeanEngine(r.contender) && !r.contender.startsWith('engine-0w') && (r.scenario === 'large-results' || (r.scenario === 'saturation' && r.cell === top)));
  if (loops.length) {
    const worst = Math.max(...loops.map((r) => r.loopP99Ms));
    const singleLoops = rows.filter((r) => r.contender === 'single-client' && (r.scenario === 'large-results' || (r.scenario === 'saturation' && r.cell === top)));
    t('event-loop', 'main-thread event-loop delay p99 under load <= 2 ms', worst, (v) => v <= 2,
      `engine with workers, worst ${worst.toFixed(2)} ms (saturation ${top}, large results); single client ${Math.max(0, ...singleLoops.map((r) => r.loopP99Ms)).toFixed(2)} ms`);
  }
  const low = sat.filter((r) => r.cell === 'c=1');
  const lowSingle = low.find((r) => r.contender === 'single-client');
  const lowEngine = low.filter((r) => isLeanEngine(r.contender)).sort((a, b) => a.p50Ms - b.p50Ms)[0];
  if (lowSingle && lowEngine) {
    const added = r2(lowEngine.p50Ms - lowSingle.p50Ms);
    const rest = low.filter((r) => isLeanEngine(r.contender) && r !== lowEngine).map((r) => `${r.contender} +${r2(r.p50Ms - lowSingle.p50Ms)} ms`).join(', ');
    t('low-load-latency', 'one request at a time: p50 at most 0.1 ms above the single client', added, (v) => v <= 0.1,
      `${lowEngine.contender} p50 ${lowEngine.p50Ms.toFixed(2)} ms vs single ${lowSingle.p50Ms.toFixed(2)} ms: +${added} ms${rest ? ` (${rest})` : ''}`);
  }
  for (const id of ['connect-per-request', 'connect-per-request-socket']) {
    const cpr = sat.filter((r) => r.contender === id).sort((a, b) => Number(b.cell.slice(2)) - Number(a.cell.slice(2)))[0];
    if (!cpr) continue;
    const eng = sat.filter((r) => r.cell === cpr.cell && r.contender.startsWith('engine')).sort((a, b) => b.throughput - a.throughput)[0];
    if (eng && cpr.throughput > 0) {
      const ratio = r2(eng.throughput / cpr.throughput);
      t(`vs-${id}`, `>= 10x the throughput of ${id === 'connect-per-request' ? 'connect-per-request (stock client; grpc-js reuses the socket)' : 'connect-per-request with a new socket each time'}`, ratio, (v) => v >= 10,
        `${eng.contender} ${eng.throughput.toFixed(0)} vs ${cpr.throughput.toFixed(0)} req/s at ${cpr.cell}: ${ratio}x`);
    }
  }
  return targets;
}

export function targetsTable(targets: Target[]): string {
  return ['| target | measured | met |', '|---|---|---|', ...targets.map((t) => `| ${t.goal} | ${t.measured} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`)].join('\n');
}

// ---- HTML --------------------------------------------------------------------------------------

const PERCENTILES = [0, 50, 75, 90, 95, 98, 99, 99.5, 99.9, 99.95, 99.99, 99.999];
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
export const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** x = -log10(1 - p): 90 % -> 1, 99 % -> 2, 99.9 % -> 3 ... */
function xOf(p: number): number {
  return p >= 100 ? 5.5 : -Math.log10(1 - p / 100);
}

function plot(title: string, series: { name: string; histograms: string[] }[]): string {
  const W = 800;
  const H = 300;
  const L = 60;
  const B = 40;
  const R = 190; // legend column on the right
  const lines = series
    .filter((s) => s.histograms.length)
    .map((s) => {
      const h = merge(s.histograms.map(decode));
      const pts = PERCENTILES.filter((p) => xOf(p) <= 5).map((p) => [xOf(p), h.getValueAtPercentile(p) / 1000] as const);
      pts.push([5.5, h.maxValue / 1000]);
      return { name: s.name, pts };
    });
  if (!lines.length) return '';
  const ys = lines.flatMap((l) => l.pts.map(([, y]) => Math.max(y, 0.01)));
  const yMin = Math.pow(10, Math.floor(Math.log10(Math.min(...ys))));
  const yMax = Math.pow(10, Math.ceil(Math.log10(Math.max(...ys))));
  const sx = (x: number) => L + (x / 5.5) * (W - L - R);
  const sy = (y: number) => H - B - ((Math.log10(Math.max(y, 0.01)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * (H - B - 20);
  const grid: string[] = [];
  for (const [x, label] of [[0, '0%'], [1, '90%'], [2, '99%'], [3, '99.9%'], [4, '99.99%'], [5, '99.999%'], [5.5, 'max']] as const) {
    grid.push(`<line x1="${sx(x)}" y1="20" x2="${sx(x)}" y2="${H - B}" stroke="#ddd"/><text x="${sx(x)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${label}</text>`);
  }
  for (let y = yMin; y <= yMax * 1.0001; y *= 10) {
    grid.push(`<line x1="${L}" y1="${sy(y)}" x2="${W - R}" y2="${sy(y)}" stroke="#ddd"/><text x="${L - 6}" y="${sy(y) + 4}" font-size="11" text-anchor="end">${y >= 1 ? y.toFixed(0) : y.toPrecision(1)} ms</text>`);
  }
  const paths = lines.map((l, i) => {
    const d = l.pts.map(([x, y], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${COLORS[i % COLORS.length]}" stroke-width="2"/>` +
      `<text x="${W - R + 12}" y="${30 + 16 * i}" font-size="11" fill="${COLORS[i % COLORS.length]}">${esc(l.name)}</text>`;
  });
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">` +
    `${grid.join('')}${paths.join('')}<text x="${L}" y="12" font-size="12">${esc(title)} (latency by percentile, log scales)</text></svg></figure>`;
}

/**
 * The run's settings a reader needs first: when, what code, which machine and server, how long
 * each cell ran; `extra` rows follow (a bench of another shape says how its trials ran).
 */
export function settingsTable(meta: Record<string, unknown>, extra: [string, string][] = []): string {
  const m = meta as {
    date?: string; commit?: string; command?: string; node?: string; data?: string; durationS?: number;
    machine?: { cpus?: number; model?: string; memoryGiB?: number };
    weaviate?: { version?: string; sameHost?: boolean };
    profileSettings?: { warmupMs?: number; durationMs?: number; reps?: number; concurrencies?: number[]; criticalRate?: number; isolationMs?: number };
  };
  const p = m.profileSettings;
  const entries: [string, string][] = [
    ['date', m.date ?? '-'],
    ['commit', m.commit ?? '-'],
    ['command', m.command ?? '-'],
    ['machine', m.machine ? `${m.machine.cpus ?? '?'} CPU(s), ${m.machine.model ?? '?'}, ${m.machine.memoryGiB ?? '?'} GiB` : '-'],
    ['node', m.node ?? '-'],
    ['weaviate', m.weaviate ? `${m.weaviate.version ?? '?'}${m.weaviate.sameHost ? ', on the same host (shares its CPUs)' : ''}` : '-'],
    ['data', m.data ?? '-'],
    ...(p ? [['cells', `${p.reps ?? '?'} rep(s) of ${p.durationMs ?? '?'} ms after ${p.warmupMs ?? '?'} ms warm-up; concurrencies ${(p.concurrencies ?? []).join(', ')}; critical ${p.criticalRate ?? '?'} req/s`] as [string, string]] : []),
    ...extra,
    ['took', m.durationS !== undefined ? `${m.durationS} s` : '-'],
  ];
  return `<table class="settings">${entries.map(([k, v]) => `<tr><th>${esc(k)}</th><td data-setting="${esc(k)}">${esc(v)}</td></tr>`).join('')}</table>`;
}

/** Each contender once, with its settings (its label). */
export function contendersTable(rows: Row[]): string {
  const seen = new Map<string, string>();
  for (const r of rows) if (!seen.has(r.contender)) seen.set(r.contender, r.label);
  return htmlTable(['contender', 'settings'], [...seen], 'class="settings"');
}

/** A table from header cells and rows of text (escaped here); the first column left-aligned. */
export function htmlTable(head: string[], rows: string[][], attrs = ''): string {
  return `<table${attrs ? ` ${attrs}` : ''}><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</table>`;
}

/** The report's opening section: each target measured, met or not, and how many were met. */
export function targetsSection(targets: Target[]): string {
  const rows = targets.map((t) => `<tr><td>${esc(t.goal)}</td><td>${esc(t.measured)}</td><td class="${t.met ? 'ok' : 'no'}">${t.met === null ? 'n/a' : t.met ? 'met' : 'not met'}</td></tr>`).join('');
  const met = targets.filter((t) => t.met === true).length;
  const judged = targets.filter((t) => t.met !== null).length;
  return `<section id="targets"><h2>Targets: ${met} of ${judged} met</h2><table><tr><th>target</th><th>measured</th><th></th></tr>${rows}</table></section>`;
}

/** A whole self-contained report page (inline style, no network), headed by `title`. */
export function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:right}td:first-child,th:first-child{text-align:left}table.settings td{text-align:left}.ok{color:#080}.no{color:#b00;font-weight:bold}pre{background:#f6f6f6;padding:1em}</style></head><body>
<h1>${esc(title)}</h1>
${body}</body></html>`;
}

/** The run's metadata, folded away at the end of a report. */
export function metaDetails(meta: Record<string, unknown>): string {
  return `<details><summary>Run metadata as JSON</summary><pre>${esc(JSON.stringify(meta, null, 2))}</pre></details>`;
}

/** A round step for about `n` ticks up to `max` (1, 2 or 5 x a power of ten). */
function niceStep(max: number, n: number): number {
  const raw = Math.max(max, 1e-9) / n;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  return [1, 2, 5, 10].map((k) => k * p).find((st) => st >= raw)!;
}

/**
 * Lines over a shared x axis (linear scales from 0), as an inline SVG: `points` are [x, y];
 * a dashed series is drawn dashed. With `yMax`, values above it are drawn at the top edge. Each
 * line carries `data-series` and `data-points` for readers.
 */
export function lineChart(
  title: string, series: { name: string; points: [number, number][]; dash?: boolean }[], axes: { x: string; y: string; yMax?: number },
): string {
  const W = 800;
  const H = 260;
  const L = 50;
  const B = 36;
  const R = 150; // legend column on the right
  const drawn = series.filter((s) => s.points.length);
  if (!drawn.length) return '';
  const xTop = Math.max(...drawn.flatMap((s) => s.points.map(([x]) => x)), 1e-9);
  const yTop = axes.yMax ?? Math.max(...drawn.flatMap((s) => s.points.map(([, y]) => y)), 1);
  const xStep = niceStep(xTop, 6);
  const yStep = niceStep(yTop, 5);
  const yMax = Math.ceil(yTop / yStep - 1e-9) * yStep;
  const sx = (x: number) => L + (x / xTop) * (W - L - R);
  const sy = (y: number) => H - B - (Math.min(y, yMax) / yMax) * (H - B - 20);
  const grid: string[] = [];
  for (let y = 0; y <= yMax + yStep / 2; y += yStep) {
    grid.push(`<line x1="${L}" y1="${sy(y).toFixed(1)}" x2="${W - R}" y2="${sy(y).toFixed(1)}" stroke="#ddd"/><text x="${L - 6}" y="${(sy(y) + 4).toFixed(1)}" font-size="11" text-anchor="end">${+y.toPrecision(3)}</text>`);
  }
  for (let x = 0; x <= xTop + 1e-9; x += xStep) {
    grid.push(`<text x="${sx(x).toFixed(1)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${+x.toPrecision(3)}</text>`);
  }
  grid.push(`<text x="${(L + W - R) / 2}" y="${H - 4}" font-size="11" text-anchor="middle">${esc(axes.x)}</text>`);
  const lines = drawn.map((s, i) => {
    const color = COLORS[i % COLORS.length]!;
    const d = s.points.map(([x, y], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    return `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"${s.dash ? ' stroke-dasharray="5 4"' : ''} data-series="${esc(s.name)}" data-points="${s.points.length}"/>` +
      `<text x="${W - R + 12}" y="${30 + 16 * i}" font-size="11" fill="${color}">${esc(s.name)}</text>`;
  });
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">` +
    `${grid.join('')}${lines.join('')}<text x="${L}" y="12" font-size="12">${esc(title)} (${esc(axes.y)})</text></svg></figure>`;
}

export function html(meta: Record<string, unknown>, rows: Row[], targets: Target[]): string {
  const sections: string[] = [];
  for (const [title, list] of cellsOf(rows)) {
    const table = htmlTable(COLUMNS.map(([h]) => h), list.map((r) => COLUMNS.map(([, f]) => f(r))));
    const chart = plot(title, list.map((r) => ({ name: r.contender, histograms: r.histograms })));
    sections.push(`<section><h2>${esc(title)}</h2>${table}${chart}</section>`);
  }
  return page('weaviate-executor bench', `${targetsSection(targets)}
<section id="settings"><h2>Settings</h2>${settingsTable(meta)}
<h3>Contenders</h3>${contendersTable(rows)}</section>
<p>Latency: closed-loop cells measure send to answer; fixed-rate and lane-isolation cells measure from the scheduled send time (coordinated omission corrected); HTTP cells are autocannon's closed-loop figures (no correction applied).</p>
${sections.join('\n')}
${metaDetails(meta)}`);
}

/** The checked-out commit, `+local changes` when tracked files differ from it. */
export function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${sha}+local changes` : sha;
  } catch {
    return 'unknown';
  }
}
