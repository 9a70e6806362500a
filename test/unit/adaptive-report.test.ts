/**
 * bench:adaptive's HTML report, rendered from a recorded run (test/fixtures/bench-adaptive-quick.json:
 * `npm run bench:adaptive -- --quick --reps 1`, 2026-11-26 15:01Z, bench/RESULTS.md). The figures
 * are the fixture's; what is checked is that the report opens with issue 13's targets and the
 * settings, and that every table and trace of the run is in it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adaptiveHtml, adaptiveTargets, type AdaptiveRun } from '../../bench/adaptive-report.ts';
import { formatLanesEnv } from '../../src/engine/lanes.ts';

const run = JSON.parse(readFileSync(new URL('../fixtures/bench-adaptive-quick.json', import.meta.url), 'utf8')) as AdaptiveRun;
const c = run.comparison!;
const section = (html: string, id: string) => {
  const from = html.indexOf(`<section id="${id}">`);
  expect(from, id).toBeGreaterThan(0);
  return html.slice(from, html.indexOf('</section>', from));
};
const rows = (table: string) => (table.match(/<tr>/g) ?? []).length - 1; // minus the header

describe('bench:adaptive report', () => {
  it('opens with the two targets of issue 13, met or not as the run judged them, then the settings', () => {
    const html = adaptiveHtml(run);
    expect(html).toMatch(/^<!doctype html>/);
    const body = html.slice(html.indexOf('<body>'));
    expect(body.indexOf('<section id="targets">')).toBeGreaterThan(0);
    expect(body.indexOf('<section id="targets">')).toBeLessThan(body.indexOf('<section id="settings">'));
    expect(body.indexOf('<section id="settings">')).toBeLessThan(body.indexOf('<section id="comparison">'));
    const targets = section(html, 'targets');
    const met = [c.goodputMet, c.latencyMet].filter(Boolean).length;
    expect(targets).toContain(`<h2>Targets: ${met} of 2 met</h2>`);
    const verdicts = [...targets.matchAll(/<td class="(?:ok|no)">(met|not met)<\/td>/g)].map((m) => m[1]);
    expect(verdicts).toEqual([c.goodputMet ? 'met' : 'not met', c.latencyMet ? 'met' : 'not met']);
    expect(targets).toContain(`${(c.goodputRatio * 100).toFixed(0)} %`);
    expect(targets).toContain(`target ${c.tune.targetP99Ms} ms`);
    expect(adaptiveTargets(c).map((t) => t.id)).toEqual(['adaptive-goodput', 'adaptive-critical-p99']);

    const settings = section(html, 'settings');
    expect(settings).toContain(`data-setting="commit">${run.commit}<`);
    expect(settings).toMatch(/data-setting="machine">\d+ CPU\(s\)/);
    expect(settings).toMatch(/data-setting="trials">1 rep\(s\) per contender/);
    expect(settings).toMatch(/data-setting="best static">\d+ worker\(s\) x \d+ connections, VECTOR_STORE_LANES=&quot;critical:/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // opens with no network
  });

  it('names tune\'s recommendation (with headroom) in the settings when the run recorded one', () => {
    expect(section(adaptiveHtml(run), 'settings')).not.toContain('recommendation'); // recorded before tune had one
    const withRec: AdaptiveRun = { ...run, comparison: { ...c, tune: { ...c.tune, headroom: 0.8, recommended: c.tune.best, recommendedHasHeadroom: true } } };
    const row = /data-setting="tune's recommendation">([^<]*)</.exec(section(adaptiveHtml(withRec), 'settings'))?.[1];
    expect(row).toContain(`VECTOR_STORE_LANES=&quot;${formatLanesEnv(c.tune.best.setting.lanes ?? {})}&quot;`);
    expect(row).toContain('the most goodput within 80 % of the target');
    expect(row).toContain(`critical p99 ${c.tune.best.criticalP99Ms.toFixed(2)} ms in tune`);
    // This early run recorded no pooled static contenders: nothing to find it among.
    expect(row).toContain('not run in this comparison');
  });

  it('says how the critical target was set: tune\'s 1.5x idle, or stated with --critical-p99', () => {
    const critical = (r: AdaptiveRun) => section(adaptiveHtml(r), 'settings').match(/data-setting="critical">([^<]*)</)?.[1];
    expect(critical(run)).toContain(`target p99 ${c.tune.targetP99Ms} ms = 1.5x idle ${c.tune.idleCriticalP99Ms.toFixed(2)} ms`);
    const stated: AdaptiveRun = {
      ...run,
      meta: { ...run.meta, settings: { ...run.meta!.settings!, criticalP99Ms: 40 } },
      comparison: { ...c, tune: { ...c.tune, targetP99Ms: 40 } },
    };
    expect(critical(stated)).toContain(`target p99 40 ms (stated with --critical-p99: ${(40 / c.tune.idleCriticalP99Ms).toFixed(2)}x idle ${c.tune.idleCriticalP99Ms.toFixed(2)} ms)`);
  });

  it('has the per-rep table, the means, tune\'s sweep, a limit trace per adaptive trial and the features table', () => {
    const html = adaptiveHtml(run);
    const perRep = /<table id="per-rep">.*?<\/table>/s.exec(html)![0];
    expect(rows(perRep)).toBe(c.runs.length);
    for (const r of c.runs) expect(perRep).toContain(`<tr><td>${r.rep}</td><td>${r.kind}</td><td>${r.trial.criticalP50Ms.toFixed(2)}</td>`);
    expect(rows(/<table id="means">.*?<\/table>/s.exec(html)![0])).toBe(2 + c.variants.length);
    // How firm the verdict is, when the run recorded it ('-' in runs from before).
    expect(/<table id="means">.*?<\/table>/s.exec(html)![0]).toMatch(/<td>(met|not met)<\/td><td>-<\/td><\/tr>/);
    const firm = adaptiveHtml({ ...run, comparison: { ...c, firmness: { met: 189 / 256, draws: 256 } } });
    expect(/<table id="means">.*?<\/table>/s.exec(firm)![0]).toMatch(/<td>(met|not met)<\/td><td>74 % of 256<\/td><\/tr>/);
    // The noise floor (twinVerdicts), when the run recorded it; nothing in runs from before.
    expect(html).not.toContain('id="twins"');
    const twins = adaptiveHtml({ ...run, comparison: { ...c, twins: { twin: 4, pick: 2, lane: 3, splits: 6 } } });
    expect(twins).toContain('<p id="twins">The criterion\'s noise floor: with the reps split into halves (the yardstick found in one, judged in the other; 6 splits), the yardstick\'s twin met the criterion in 4, tune\'s pick in 2, the adaptive lane in 3.');
    const sweep = /<table id="tune">.*?<\/table>/s.exec(html)![0];
    expect(rows(sweep)).toBe(c.tune.trials.length + 1);
    expect(sweep.match(/<td>best<\/td>/g)).toHaveLength(1);
    expect(sweep).toContain('adaptive (not a candidate)');
    const traced = c.runs.filter((r) => r.trace?.length);
    expect(traced.length).toBeGreaterThan(0);
    const traces = section(html, 'traces');
    expect(traces.match(/<svg /g)).toHaveLength(traced.length);
    for (const r of traced) {
      const one = traces.slice(traces.indexOf(`data-rep="${r.rep}" data-kind="${r.kind}"`));
      expect(one).toMatch(new RegExp(`data-series="limit" data-points="${r.trace!.length}"`));
      expect(one).toMatch(new RegExp(`data-series="in flight" data-points="${r.trace!.length}"`));
      expect(one).toMatch(new RegExp(`data-series="guard ceiling" data-points="${r.trace!.filter((p) => p.guard_ceiling !== null).length}"`));
    }
    const features = /<table id="features-table">.*?<\/table>/s.exec(html)![0];
    expect(rows(features)).toBe(run.features!.length);
    expect(features).toContain('<td>write batching (32 callers, 1-object inserts)</td><td>on</td>');
  });

  it('names the yardstick: tune\'s fallback when the pick missed the target in the comparison', () => {
    const st = c.runs.find((r) => r.kind === 'static')!;
    const fb = { ...st.trial, normalServed: st.trial.normalServed * 0.8 };
    const withFallback: AdaptiveRun = {
      ...run,
      comparison: {
        ...c,
        runs: [...c.runs, { rep: 1, kind: 'static fallback', trial: fb }],
        fallback: { setting: fb.setting, mean: { goodput: fb.normalServed, criticalP99Ms: fb.criticalP99Ms }, pooled: fb },
        yardstick: { kind: 'static fallback', held: true, goodput: fb.normalServed },
        vsPick: { goodputRatio: 0.5, met: false },
        goodputRatio: 0.625,
      },
    };
    const html = adaptiveHtml(withFallback);
    const means = /<table id="means">.*?<\/table>/s.exec(html)![0];
    expect(rows(means)).toBe(3 + c.variants.length);
    expect(means).toMatch(/<td>static fallback<\/td><td>\d+<\/td><td>1\.00<\/td>.*?<td>yardstick<\/td>/s);
    const targets = section(html, 'targets');
    expect(targets).toContain(`vs tune's static fallback ${fb.normalServed.toFixed(0)} req/s`);
    expect(targets).toContain('63 %');
    expect(targets).toContain('tune\'s pick missed the target in the comparison');
    expect(targets).toContain('against it: 50 %');
    // A pick that held with less goodput than a step below it is not said to have missed.
    const pickHeld = adaptiveHtml({ ...withFallback, comparison: { ...withFallback.comparison!, staticPooled: { ...st.trial, criticalP99Ms: 20, meets: true } } });
    expect(section(pickHeld, 'targets')).toContain('tune\'s pick held the target in the comparison (20.00 ms) with less goodput; against it: 50 %');
    expect(section(pickHeld, 'targets')).not.toContain('missed');
    expect(section(html, 'settings')).toContain('data-setting="static fallback">VECTOR_STORE_LANES=');
    // A step of the ladder below the fallback as the yardstick: its own row and setting.
    const cap1 = { ...fb, normalServed: fb.normalServed * 0.5 };
    const withLadder: AdaptiveRun = {
      ...withFallback,
      comparison: {
        ...withFallback.comparison!,
        runs: [...withFallback.comparison!.runs, { rep: 1, kind: 'static cap 1', trial: cap1 }],
        ladder: [{ kind: 'static cap 1', setting: cap1.setting, mean: { goodput: cap1.normalServed, criticalP99Ms: cap1.criticalP99Ms }, pooled: cap1 }],
        yardstick: { kind: 'static cap 1', held: true, goodput: cap1.normalServed },
      },
    };
    const ladderHtml = adaptiveHtml(withLadder);
    const ladderMeans = /<table id="means">.*?<\/table>/s.exec(ladderHtml)![0];
    expect(rows(ladderMeans)).toBe(4 + c.variants.length);
    expect(ladderMeans).toMatch(/<td>static cap 1<\/td><td>\d+<\/td><td>1\.00<\/td>.*?<td>yardstick<\/td>/s);
    expect(section(ladderHtml, 'targets')).toContain(`vs tune's static cap 1 ${cap1.normalServed.toFixed(0)} req/s`);
    expect(section(ladderHtml, 'settings')).toContain('data-setting="static cap 1">VECTOR_STORE_LANES=');
    // A run recorded before the yardstick: judged against tune's pick, marked as the yardstick.
    expect(/<table id="means">.*?<\/table>/s.exec(adaptiveHtml(run))![0]).toMatch(/<td>best static \(tune's pick\)<\/td>.*?<td>yardstick<\/td>/s);
  });

  it('renders a features-only run (targets not judged) and a run recorded before the report existed (no meta)', () => {
    const { comparison: _c, ...featuresOnly } = run;
    const html = adaptiveHtml(featuresOnly);
    expect(section(html, 'targets')).toContain('<h2>Targets: 0 of 0 met</h2>');
    expect(section(html, 'targets').match(/not run \(--only features\)/g)).toHaveLength(2);
    expect(html).not.toContain('<section id="comparison">');
    expect(html).toContain('<section id="features">');
    const { meta: _m, features: _f, ...old } = run;
    const oldHtml = adaptiveHtml(old);
    expect(oldHtml).toContain('data-setting="machine">-<');
    expect(oldHtml).toContain('(other options not recorded)');
    expect(oldHtml).toContain('<section id="traces">');
  });
});
