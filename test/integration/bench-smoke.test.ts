/**
 * The bench and tune plumbing on a tiny load: reports are produced and well-formed. Numbers are
 * never asserted here (benchmarks are not tests); they live in bench/RESULTS.md.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseLanesEnv } from '../../src/engine/lanes.ts';
import { resolveTarget } from '../../src/pool/config.ts';
import { SCENARIOS, runBench } from '../../bench/run.ts';
import { DEFAULT_HEADROOM, lanesEnv, settingEnv, tune } from '../../bench/tune.ts';
import { sharedTarget } from '../support/weaviate.ts';

const out = mkdtempSync(join(tmpdir(), 'wx-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));
const target = resolveTarget(sharedTarget(), {});

describe('bench plumbing (smoke)', () => {
  it('runs every scenario with every contender and writes JSON, HTML and Markdown reports', async () => {
    const lines: string[] = [];
    const r = await runBench({ profile: 'smoke', outDir: out, target, serverPid: inject('weaviate').pid, progress: (l) => lines.push(l) });
    expect(lines.some((l) => l.includes('== closed-loop saturation'))).toBe(true);
    const json = JSON.parse(readFileSync(r.files.json, 'utf8')) as { meta: Record<string, unknown>; rows: { scenario: string; contender: string; throughput: number }[]; targets: { id: string }[] };
    expect(json.meta).toMatchObject({ profile: 'smoke', command: 'npm run bench -- --smoke' });
    expect(new Set(json.rows.map((row) => row.scenario))).toEqual(new Set(SCENARIOS));
    for (const contender of ['single-client', 'pool-main-2c-client', 'lean-main-2c', 'engine-0w-2c', 'engine-1w-2c', 'engine-1w-2c-client', 'raw-grpc-js-16m', 'connect-per-request', 'connect-per-request-socket', 'http-single-client']) {
      expect(json.rows.some((row) => row.contender === contender), contender).toBe(true);
    }
    expect(json.rows.every((row) => Number.isFinite(row.throughput))).toBe(true);
    // (low-load latency needs concurrency 1, which the smoke profile does not run)
    expect(json.targets.map((t) => t.id)).toEqual(expect.arrayContaining(['throughput-small', 'client-cpu', 'throughput-large', 'event-loop-70', 'critical-isolation', 'event-loop', 'vs-connect-per-request']));
    const html = readFileSync(r.files.html, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    // It opens with the targets (met / not met) and the settings, not a JSON dump.
    const body = html.slice(html.indexOf('<body>'));
    expect(body.indexOf('<section id="targets">')).toBeGreaterThan(0);
    expect(body.indexOf('<section id="targets">')).toBeLessThan(body.indexOf('<section id="settings">'));
    expect(body.indexOf('<section id="settings">')).toBeLessThan(body.indexOf('<pre>'));
    const targetsSection = body.slice(body.indexOf('<section id="targets">'), body.indexOf('<section id="settings">'));
    expect(targetsSection).toMatch(/<h2>Targets: \d+ of \d+ met<\/h2>/);
    expect((targetsSection.match(/<td class="(ok|no)">(met|not met|n\/a)<\/td>/g) ?? []).length).toBe(json.targets.length);
    expect(body).toContain(`data-setting="commit">${String(json.meta['commit'])}<`); // (a dirty tree adds `+local changes`: not a regex)
    expect(body).toMatch(/data-setting="machine">\d+ CPU\(s\)/);
    expect(body).toMatch(/<td>engine-1w-2c<\/td><td>engine, 1 worker\(s\), 2 connections/);
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThan(5);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // opens with no network
    expect(readFileSync(r.files.markdown, 'utf8')).toMatch(/\| contender \| req\/s \|/);
  });

  it('tune sweeps settings and prints lanes as a VECTOR_STORE_LANES value that parses back', async () => {
    const r = await tune(target, { serverPid: undefined, grpcPort: target.grpcPort }, {
      criticalRate: 10, users: 10, trialMs: 300, warmupMs: 100, quick: true, progress: () => {},
    });
    expect(r.trials.length).toBe(4);
    // The pick is re-measured (quick: one more trial per candidate) and made on pooled figures.
    expect(r.confirmed!.length).toBeGreaterThanOrEqual(1);
    expect(r.confirmed!.every((t) => t.pooled === 2)).toBe(true);
    expect(r.confirmed!.map((t) => lanesEnv(t.setting))).toContain(lanesEnv(r.sweepBest!.setting));
    expect(r.confirmed).toContain(r.best);
    // What it prints to paste is the recommended setting: within the headroom, or the pick itself.
    expect(r.headroom).toBe(DEFAULT_HEADROOM);
    expect(r.env).toBe(settingEnv(r.recommended!.setting));
    expect(r.recommended!.normalServed).toBeLessThanOrEqual(r.best.normalServed);
    if (r.recommendedHasHeadroom) expect(r.recommended!.criticalP99Ms).toBeLessThanOrEqual(r.targetP99Ms * DEFAULT_HEADROOM);
    else expect(r.recommended).toBe(r.best);
    expect(r.env).toMatch(/^VECTOR_STORE_WORKERS=\d+ VECTOR_STORE_MAX_CONNECTIONS=\d+ VECTOR_STORE_LANES="[^"]+"$/);
    const lanes = /VECTOR_STORE_LANES="([^"]+)"/.exec(r.env)![1]!;
    expect(lanesEnv({ workers: 1, connections: 1, lanes: parseLanesEnv(lanes) })).toBe(lanes);
    expect(r.sizing.ruleOfThumb).toEqual({ users: 10, min: 5, max: 20 });
  });
});

/** The processes whose parent is `ppid` and whose command line contains `name` (read from /proc). */
function childrenNamed(ppid: number, name: string): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).flatMap((e) => {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return parent === ppid && readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(name) ? [Number(e)] : [];
    } catch {
      return []; // gone meanwhile
    }
  });
}

/** Alive and not a zombie waiting for its parent. */
const running = (pid: number): boolean => {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('a bench ended by a signal', () => {
  // bench/run.ts stops its node (withSampleWeaviate); bench:cluster exits and the launcher's exit hook kills its nodes.
  it.each([
    ['bench/run.ts', 'SIGTERM', 143, ['--smoke', '--only', 'saturation']],
    ['bench/cluster.ts', 'SIGINT', 130, ['--smoke']],
  ] as const)('%s: a %s stops the Weaviate it started, and the process exits with %i', async (script, signal, exitCode, args) => {
    // Its own Weaviate: no WEAVIATE_HOST/PORT in its environment.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WEAVIATE_HOST') && !k.startsWith('WEAVIATE_PORT') && !k.startsWith('VECTOR_STORE_')));
    const dir = mkdtempSync(join(tmpdir(), 'wx-bench-signal-'));
    const child = spawn(process.execPath, ['--expose-gc', new URL(`../../${script}`, import.meta.url).pathname, ...args, '--out', dir], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let servers: number[] = [];
    try {
      let stdout = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no Weaviate ready within 120 s: ${stdout}`)), 120_000);
        child.stdout!.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (/Weaviate \S+ ready at/.test(stdout)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`the bench exited (${code}) before its Weaviate was ready: ${stdout}`)));
      });
      servers = childrenNamed(child.pid!, 'weaviate-server');
      expect(servers).toHaveLength(1);
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill(signal);
      const code = await Promise.race([exited, new Promise<'bound'>((resolve) => setTimeout(() => resolve('bound'), 30_000))]);
      expect(code).toBe(exitCode);
      const deadline = Date.now() + 5000;
      while (running(servers[0]!) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(running(servers[0]!), 'weaviate-server still running after its bench exited').toBe(false);
      expect(existsSync(`/proc/${child.pid}`) && running(child.pid!)).toBe(false);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      for (const pid of servers) if (running(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
