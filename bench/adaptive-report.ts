/**
 * The HTML report of `npm run bench:adaptive` (bench/adaptive.ts), a pure function of its JSON
 * file: the targets of issue 13 first (measured, met or not), the run's settings, the per-rep
 * table, tune's sweep, the adaptive lane's limit over time per trial (inline SVG, no network) and
 * the features on and off. Re-render a recorded run with `node bench/render.ts <adaptive-*.json>`.
 */
import type { Comparison, FeatureRow, Firmness, TwinVerdicts } from './adaptive.ts';
import { esc, htmlTable, lineChart, metaDetails, page, settingsTable, targetsSection, type Target } from './report.ts';
import { recommendationSummary } from './headroom.ts';
import type { TracePoint, Trial } from './tune.ts';
import { formatLanesEnv } from '../src/engine/lanes.ts';
import type { EngineSetting } from './contenders.ts';

/** What bench:adaptive writes (runs before `meta` was recorded have only started, commit, quick). */
export interface AdaptiveRun {
  started: string;
  commit: string;
  quick: boolean;
  /** The run's settings, as the main bench's `meta` (date, command, machine, node, weaviate, data, durationS) plus the trial lengths. */
  meta?: Record<string, unknown> & { settings?: AdaptiveSettings };
  comparison?: Comparison;
  features?: FeatureRow[];
}

export interface AdaptiveSettings {
  reps: number;
  /** tune's trials, ms after warmupMs. */
  trialMs: number;
  warmupMs: number;
  /** Each comparison trial, ms after warmupMs. */
  compareMs: number;
  /** The comparison trials' warm-up, ms (absent in runs before 2026-11-26 21:45Z: warmupMs; 12 s by default since). */
  compareWarmupMs?: number;
  /** Each feature cell, ms after warmupMs. */
  featureMs: number;
  criticalRate: number;
  /** `--critical-p99`: the critical target stated instead of tune's 1.5x idle (absent: tune's rule). */
  criticalP99Ms?: number;
  only: string | null;
}

/** tune's lanesEnv without importing tune (and the engine) into a pure module. */
const lanesEnv = (s: EngineSetting) => formatLanesEnv(s.lanes ?? {});
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const f = (x: number | null | undefined, digits: number) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

/** Where the limit spent the measured part of a trial: time-weighted by samples. */
export function traceSummary(trace: TracePoint[], trial: Trial): string {
  if (trace.length === 0) return 'no trace';
  const limits = trace.map((p) => p.limit);
  const hist = new Map<number, number>();
  for (const l of limits) hist.set(l, (hist.get(l) ?? 0) + 1);
  const top = [...hist.entries()].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([l, n]) => `${l}: ${Math.round((n / limits.length) * 100)} %`).join(', ');
  const e = trial.adaptiveEnd;
  return `limit over the trial (share of 100 ms samples): ${top}; mean in flight ${mean(trace.map((p) => p.in_flight)).toFixed(1)}; ` +
    `end: limit ${e?.limit ?? '-'}, RTT short ${e?.short_rtt_ms ?? '-'} / long ${e?.long_rtt_ms ?? '-'} / no-load ${e?.no_load_rtt_ms ?? '-'} ms, ${e?.changes ?? 0} changes`;
}

/** Issue 13's done criterion as two targets, from the comparison's means over repetitions. */
export function adaptiveTargets(c: Comparison | undefined): Target[] {
  const goodputGoal = 'adaptive normal goodput >= 90 % of the best static setting\'s (same overload mix, interleaved; the best static as the comparison measured it)';
  const latencyGoal = 'adaptive critical p99 within the target (1.5x idle critical p99)';
  if (!c) {
    const absent = 'not run (--only features)';
    return [
      { id: 'adaptive-goodput', goal: goodputGoal, measured: absent, value: null, met: null, note: '' },
      { id: 'adaptive-critical-p99', goal: latencyGoal, measured: absent, value: null, met: null, note: '' },
    ];
  }
  const reps = c.runs.filter((r) => r.kind === 'adaptive').length;
  // Judged on the p99 over all the reps' answers; runs recorded before that judged the mean of per-trial p99s.
  const p99 = (pooled: Trial | undefined, meanMs: number) => (pooled ? { ms: pooled.criticalP99Ms, how: `over all ${reps} rep(s)' answers` } : { ms: meanMs, how: `mean of ${reps} rep(s)` });
  const a = p99(c.adaptivePooled, c.adaptiveMean.criticalP99Ms);
  const st = p99(c.staticPooled, c.staticMean.criticalP99Ms);
  // Runs before 2026-11-27 judged against tune's pick (no yardstick recorded).
  const y = c.yardstick ?? { kind: 'static', held: c.staticPooled?.meets ?? c.tune.best.meets, goodput: c.staticMean.goodput };
  const yName = y.kind === 'static' ? 'tune\'s pick' : `tune's ${y.kind}`;
  // The yardstick is the held static setting with the most goodput: a step below the pick when the pick missed, or when it held with less goodput.
  const pickNote = c.vsPick && y.kind !== 'static'
    ? `tune's pick ${c.staticPooled?.meets === true ? `held the target in the comparison (${st.ms.toFixed(2)} ms) with less goodput` : `missed the target in the comparison (${st.ms.toFixed(2)} ms)`}; against it: ${(c.vsPick.goodputRatio * 100).toFixed(0)} %`
    : c.yardstick && !y.held ? 'no static setting held the target in the comparison: judged against tune\'s pick' : '';
  return [
    {
      id: 'adaptive-goodput', goal: goodputGoal, value: c.goodputRatio, met: c.goodputMet, note: pickNote,
      measured: `adaptive ${c.adaptiveMean.goodput.toFixed(0)} vs ${yName} ${y.goodput.toFixed(0)} req/s (means of ${reps} rep(s)): ${(c.goodputRatio * 100).toFixed(0)} %${pickNote ? `; ${pickNote}` : ''}`,
    },
    {
      id: 'adaptive-critical-p99', goal: latencyGoal, value: a.ms, met: c.latencyMet, note: '',
      measured: `adaptive ${a.ms.toFixed(2)} ms (${a.how}) vs target ${c.tune.targetP99Ms} ms (idle ${c.tune.idleCriticalP99Ms.toFixed(2)} ms); best static ${st.ms.toFixed(2)} ms`,
    },
  ];
}

/** How the critical target was set: tune's rule (1.5x idle) or stated with `--critical-p99`. */
function targetHow(t: { targetP99Ms: number; idleCriticalP99Ms: number }, s: AdaptiveSettings | undefined): string {
  const idle = `idle ${t.idleCriticalP99Ms.toFixed(2)} ms`;
  return s?.criticalP99Ms === undefined ? `= 1.5x ${idle}` : `(stated with --critical-p99: ${(t.targetP99Ms / t.idleCriticalP99Ms).toFixed(2)}x ${idle})`;
}

function settingRows(run: AdaptiveRun): [string, string][] {
  const s = run.meta?.settings;
  const c = run.comparison;
  const rows: [string, string][] = [];
  if (s) {
    rows.push(['trials', `${s.reps} rep(s) per contender, ABBA order; each ${s.compareMs} ms after ${s.compareWarmupMs ?? s.warmupMs} ms warm-up; tune's trials ${s.trialMs} ms; feature cells ${s.featureMs} ms`]);
  }
  if (c) {
    const best = c.tune.best.setting;
    const adaptive = c.runs.find((r) => r.kind === 'adaptive')?.trial.setting;
    rows.push(
      ['critical', `${c.tune.criticalRate} req/s open loop; target p99 ${c.tune.targetP99Ms} ms ${targetHow(c.tune, s)}`],
      ['normal', `offered at ${c.tune.normalRate.toFixed(0)} req/s open loop (2x the most a shape served; the default engine's first figure: ${c.tune.capacity.toFixed(0)} req/s)`],
      ['best static', `${best.workers} worker(s) x ${best.connections} connections, VECTOR_STORE_LANES="${lanesEnv(best)}" (${c.tune.best.meets ? 'meets the target in tune' : 'no static setting met the target in tune: lowest critical p99'})`],
    );
    const rec = recommendationSummary(c);
    if (rec) rows.push(['tune\'s recommendation', rec]);
    if (c.fallback) rows.push(['static fallback', `VECTOR_STORE_LANES="${lanesEnv(c.fallback.setting)}" (the static setting with the most goodput below the pick's that met the target in tune, run in the same rotation)`]);
    for (const x of c.ladder ?? []) rows.push([x.kind, `VECTOR_STORE_LANES="${lanesEnv(x.setting)}" (the ladder below the fallback: tune's best setting at this cap, run in the same rotation)`]);
    if (adaptive) rows.push(['adaptive', `${adaptive.workers} worker(s) x ${adaptive.connections} connections, VECTOR_STORE_LANES="${lanesEnv(adaptive)}"`]);
    for (const v of c.variants) rows.push([v.kind, JSON.stringify(v.options)]);
  }
  return rows;
}

/** verdictFirmness()'s share of the draws of the reps (with replacement) that meet the criterion, as a percentage. */
export const percentMet = (x: Firmness) => `${(x.met * 100).toFixed(0)} %`;

/** twinVerdicts() in words, for the printout and the report. */
export function twinText(t: TwinVerdicts): string {
  return `with the reps split into halves (the yardstick found in one, judged in the other; ${t.splits} splits), the yardstick's twin met the criterion in ${t.twin}, tune's pick in ${t.pick}, the adaptive lane in ${t.lane}`;
}

const firm = (x: Firmness | undefined) => (x ? `${percentMet(x)} of ${x.draws}` : '-');

function comparisonSections(c: Comparison): string {
  const perRep = htmlTable(
    ['rep', 'contender', 'critical p50 ms', 'critical p99 ms', 'meets target', 'normal goodput req/s', 'normal errors', 'adaptive limit at end'],
    c.runs.map((r) => [
      String(r.rep), r.kind, f(r.trial.criticalP50Ms, 2), f(r.trial.criticalP99Ms, 2), r.trial.meets ? 'yes' : 'no', f(r.trial.normalServed, 0), String(r.trial.normalErrors),
      r.trial.adaptiveEnd ? `${r.trial.adaptiveEnd.limit} (${r.trial.adaptiveEnd.changes} changes)` : '-',
    ]),
    'id="per-rep"',
  );
  const yardstickKind = c.yardstick?.kind ?? 'static';
  const yardstickGoodput = Math.max(1e-9, c.yardstick?.goodput ?? c.staticMean.goodput);
  const means = htmlTable(
    ['contender', 'normal goodput req/s', 'x yardstick', 'critical p99 ms (mean of reps)', 'critical p99 ms (all answers)', 'criterion', 'met in draws of the reps'],
    [
      ['best static (tune\'s pick)', f(c.staticMean.goodput, 0), f(c.staticMean.goodput / yardstickGoodput, 2), f(c.staticMean.criticalP99Ms, 2), c.staticPooled ? f(c.staticPooled.criticalP99Ms, 2) : '-', yardstickKind === 'static' ? 'yardstick' : '', ''],
      ...(c.fallback ? [['static fallback', f(c.fallback.mean.goodput, 0), f(c.fallback.mean.goodput / yardstickGoodput, 2), f(c.fallback.mean.criticalP99Ms, 2), f(c.fallback.pooled.criticalP99Ms, 2), yardstickKind === 'static fallback' ? 'yardstick' : '', '']] : []),
      ...(c.ladder ?? []).map((x) => [x.kind, f(x.mean.goodput, 0), f(x.mean.goodput / yardstickGoodput, 2), f(x.mean.criticalP99Ms, 2), f(x.pooled.criticalP99Ms, 2), yardstickKind === x.kind ? 'yardstick' : '', '']),
      ['adaptive', f(c.adaptiveMean.goodput, 0), f(c.goodputRatio, 2), f(c.adaptiveMean.criticalP99Ms, 2), c.adaptivePooled ? f(c.adaptivePooled.criticalP99Ms, 2) : '-', c.met ? 'met' : 'not met', firm(c.firmness)],
      ...c.variants.map((v) => [`${v.kind} ${JSON.stringify(v.options)}`, f(v.goodput, 0), f(v.goodputRatio, 2), '-', f(v.criticalP99Ms, 2), v.met ? 'would meet' : 'would not meet', firm(v.firmness)]),
    ],
    'id="means"',
  );
  const t = c.tune;
  const sweep = htmlTable(
    ['workers', 'connections', 'lanes', 'critical p50 ms', 'critical p99 ms', 'normal served req/s', 'meets', ''],
    [
      ...t.trials.map((x) => [String(x.setting.workers), String(x.setting.connections), lanesEnv(x.setting), f(x.criticalP50Ms, 2), f(x.criticalP99Ms, 2), f(x.normalServed, 0), x.meets ? 'yes' : 'no', sameTrial(x, t.sweepBest ?? t.best) ? (t.sweepBest ? 'sweep pick' : 'best') : '']),
      [String(t.adaptive.setting.workers), String(t.adaptive.setting.connections), lanesEnv(t.adaptive.setting), f(t.adaptive.criticalP50Ms, 2), f(t.adaptive.criticalP99Ms, 2), f(t.adaptive.normalServed, 0), t.adaptive.meets ? 'yes' : 'no', 'adaptive (not a candidate)'],
    ],
    'id="tune"',
  );
  const confirmed = t.confirmed?.length
    ? `<p>Re-measured before the pick (the sweep's pick and its neighbours), each pooled over its trials; tune's pick is marked.</p>` + htmlTable(
      ['workers', 'connections', 'lanes', 'trials', 'critical p50 ms', 'critical p99 ms (all answers)', 'normal served req/s (mean)', 'meets', ''],
      t.confirmed.map((x) => [String(x.setting.workers), String(x.setting.connections), lanesEnv(x.setting), String(x.pooled ?? 1), f(x.criticalP50Ms, 2), f(x.criticalP99Ms, 2), f(x.normalServed, 0), x.meets ? 'yes' : 'no', x === t.best || sameTrial(x, t.best) ? 'best' : '']),
      'id="tune-confirmed"',
    )
    : '';
  const traces = c.runs
    .filter((r) => r.trace && r.trace.length)
    .map((r) => {
      const trace = r.trace!;
      const at = (p: TracePoint) => p.t_ms / 1000;
      const ceiling = trace.filter((p) => p.guard_ceiling !== null).map((p): [number, number] => [at(p), p.guard_ceiling!]);
      // The ceiling starts at all the lane's slots (e.g. 32) and would flatten the limit's line:
      // the axis stops at twice the most the limit or in flight reached, the ceiling above is drawn at the top.
      const yMax = Math.max(4, 2 * Math.max(...trace.map((p) => Math.max(p.limit, p.in_flight))));
      const chart = lineChart(`rep ${r.rep} ${r.kind}: the normal lane`, [
        { name: 'limit', points: trace.map((p) => [at(p), p.limit]) },
        { name: 'in flight', points: trace.map((p) => [at(p), p.in_flight]) },
        { name: 'guard ceiling', points: ceiling, dash: true },
      ], { x: 'seconds since the engine started (warm-up included)', y: `slots; a ceiling above ${yMax} drawn at the top`, yMax });
      const probing = trace.filter((p) => p.probing).length;
      return `<div class="trace" data-rep="${r.rep}" data-kind="${esc(r.kind)}"><h3>rep ${r.rep}, ${esc(r.kind)}</h3>${chart}<p>${esc(traceSummary(trace, r.trial))}; probing in ${probing} of ${trace.length} samples.</p></div>`;
    });
  return `<section id="comparison"><h2>Best static setting against the adaptive limit, per repetition</h2>${perRep}
<h3>Means over repetitions</h3><p>The yardstick is the best static setting as this comparison measured it: of the static contenders, the one holding the target (critical p99 over all its answers) with the most goodput; tune's pick when none held it. The last column says how firm a verdict is against the noise between repetitions: the same verdict taken on every draw of the reps with replacement (a rep's contenders drawn together, as they ran side by side), and the share of the draws in which the criterion is met; a verdict near 50 % turned on one rep.</p>${means}${c.twins ? `<p id="twins">The criterion's noise floor: ${esc(twinText(c.twins))}. A lane that meets it about as often as the yardstick's twin (the same static setting, other reps of this rotation) does as well as an oracle told the best setting; what both miss is the spread between the reps.</p>` : ''}</section>
<section id="tune-sweep"><h2>tune's sweep (static settings under the overload mix)</h2>
<p>Capacity ${t.capacity.toFixed(0)} req/s, service time ${t.serviceTimeMs.toFixed(2)} ms, critical p99 at idle ${t.idleCriticalP99Ms.toFixed(2)} ms, target ${t.targetP99Ms} ms. The best static setting is the one meeting the target with the most normal goodput (else the lowest critical p99).</p>${sweep}${confirmed}</section>
<section id="traces"><h2>The adaptive limit over time</h2><p>Sampled every 100 ms: the limit in force, the lane's requests in flight and the tail guard's ceiling over the limit (dashed; unrounded).</p>${traces.join('\n') || '<p>no traces recorded</p>'}</section>`;
}

const sameTrial = (a: Trial, b: Trial) => JSON.stringify(a.setting) === JSON.stringify(b.setting) && a.normalServed === b.normalServed && a.criticalP99Ms === b.criticalP99Ms;

function featuresSection(rows: FeatureRow[]): string {
  return `<section id="features"><h2>Features on and off</h2>${htmlTable(
    ['feature', 'mode', 'throughput', 'p50 ms', 'p99 ms', 'server CPU ms per unit', 'note'],
    rows.map((r) => [r.feature, r.mode, `${r.throughput.toFixed(0)} ${r.unit}`, f(r.p50Ms, 2), f(r.p99Ms, 2), f(r.serverCpuMsPerUnit, 3), r.note]),
    'id="features-table"',
  )}</section>`;
}

export function adaptiveHtml(run: AdaptiveRun): string {
  const meta = { date: run.started, commit: run.commit, command: `npm run bench:adaptive${run.quick ? ' -- --quick' : ''} (other options not recorded)`, ...run.meta };
  return page('weaviate-executor bench:adaptive', `${targetsSection(adaptiveTargets(run.comparison))}
<section id="settings"><h2>Settings</h2>${settingsTable(meta, settingRows(run))}</section>
${run.comparison ? comparisonSections(run.comparison) : ''}
${run.features ? featuresSection(run.features) : ''}
${metaDetails(meta)}`);
}
