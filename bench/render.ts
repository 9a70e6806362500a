/**
 * Re-render the reports of a bench run from its JSON file (after a change to the report's layout;
 * the measurements are untouched):  node bench/render.ts bench/results/<run>.json
 * A main bench run gives HTML and Markdown; a bench:adaptive run (adaptive-*.json) its HTML.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { adaptiveHtml, type AdaptiveRun } from './adaptive-report.ts';
import { aggregate, evaluateTargets, html, markdownTables, targetsTable } from './report.ts';
import type { CellResult } from './scenarios.ts';

for (const file of process.argv.slice(2)) {
  const run = JSON.parse(readFileSync(file, 'utf8')) as { meta: Record<string, unknown>; results: CellResult[] } | AdaptiveRun;
  const base = file.replace(/\.json$/, '');
  if (!('results' in run)) {
    writeFileSync(`${base}.html`, adaptiveHtml(run));
    console.log(`${base}.html`);
    continue;
  }
  const rows = aggregate(run.results);
  const targets = evaluateTargets(rows);
  writeFileSync(`${base}.html`, html(run.meta, rows, targets));
  writeFileSync(`${base}.md`, `# ${String(run.meta['command'])} (${String(run.meta['date'])}, ${String(run.meta['commit'])})\n\n## Targets\n\n${targetsTable(targets)}\n\n## Tables\n${markdownTables(rows)}\n`);
  console.log(`${base}.html, ${base}.md`);
}
