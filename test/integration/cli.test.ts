/**
 * The `weaviate-executor` command line, run as a child process (the real bin's source,
 * src/cli/main.ts, on this Node) against the Weaviate the global setup started. Every child has
 * a bound and is killed by the test that started it, also when an assertion fails first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';

const BIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const target = inject('weaviate');
const children = new Set<ChildProcess>();

afterEach(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
});

/** Environment without the parent's executor settings, plus `extra`. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VECTOR_STORE_') && !k.startsWith('WEAVIATE_HOST') && !k.startsWith('WEAVIATE_PORT')));
  return { ...env, LOG_LEVEL: 'warn', ...extra };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the bin to its end, killed after `boundMs` (then the promise rejects). */
function run(args: string[], env: NodeJS.ProcessEnv, boundMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`weaviate-executor ${args.join(' ')} did not end within ${boundMs} ms; stdout: ${stdout}; stderr: ${stderr}`));
    }, boundMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const weaviateEnv = () =>
  envWith({ WEAVIATE_HOST: target.host, WEAVIATE_PORT: String(target.httpPort), WEAVIATE_GRPC_PORT: String(target.grpcPort) });

describe('weaviate-executor CLI', () => {
  it('--help lists every command; an unknown command is a usage error', async () => {
    const help = await run(['--help'], envWith({}));
    expect(help.code).toBe(0);
    for (const command of ['start', 'stats', 'doctor', 'bench', 'tune']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    const unknown = await run(['frobnicate'], envWith({}));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command `frobnicate`');
  });

  it('start validates the whole configuration before it starts anything', async () => {
    // No WEAVIATE_HOST: a valid configuration would build/start a local Weaviate here.
    const bad = await run(['start'], envWith({ VECTOR_STORE_MIN_CONNECTIONS: '12' }), 30_000);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('WEX_CONFIG_INVALID');
    expect(bad.stderr).toContain('VECTOR_STORE_MIN_CONNECTIONS');
    expect(bad.stderr).toContain('Nothing was started');
    expect(bad.stdout).not.toMatch(/Weaviate|Sample data|Starting/);
    // Other parts of the configuration are checked the same way.
    const lanes = await run(['start'], envWith({ VECTOR_STORE_LANES: 'normal:adaptive=maybe' }), 30_000);
    expect(lanes.code).toBe(2);
    expect(lanes.stderr).toContain('VECTOR_STORE_LANES (normal.adaptive)');
    const adaptiveOption = await run(['start'], envWith({ VECTOR_STORE_LANES: 'normal:adaptive.protect=critical,adaptive.tolerance=0.5' }), 30_000);
    expect(adaptiveOption.code).toBe(2);
    expect(adaptiveOption.stderr).toContain('WEX_CONFIG_INVALID');
    expect(adaptiveOption.stderr).toContain('VECTOR_STORE_LANES (normal.adaptive.tolerance)');
    const http = await run(['start'], envWith({ VECTOR_STORE_HTTP_PORT: '99999' }), 30_000);
    expect(http.code).toBe(2);
    expect(http.stderr).toContain('VECTOR_STORE_HTTP_PORT');
  });

  it('doctor checks the shared Weaviate: REST, version, gRPC, kagome_kr, latency, the sample schema', async () => {
    const meta = (await (await fetch(`http://${target.host}:${target.httpPort}/v1/meta`)).json()) as { version: string };
    const count = (await (
      await fetch(`http://${target.host}:${target.httpPort}/v1/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ Aggregate { M_asset_schema { meta { count } } } }` }),
      })
    ).json()) as { data: { Aggregate: { M_asset_schema: { meta: { count: number } }[] } } };
    const objects = count.data.Aggregate.M_asset_schema[0]!.meta.count;

    const res = await run(['doctor', '--json', '--samples', '5', '--collection', SAMPLE_COLLECTION], weaviateEnv());
    expect(res.code, res.stderr).toBe(0);
    const report = JSON.parse(res.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; data?: Record<string, unknown> }[] };
    const by = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(report.ok).toBe(true);
    expect(Object.keys(by).sort()).toEqual(['grpc', 'latency', 'rest', 'schema', 'tls', 'tokenizer', 'version']);
    expect(by['version']!.data!['version']).toBe(meta.version);
    expect(by['grpc']).toMatchObject({ status: 'ok', data: { objects } });
    expect(by['tokenizer']!.status).toBe('ok');
    expect(by['schema']!.status).toBe('ok');
    expect(by['schema']!.detail).toContain('matches the sample schema');
    expect(by['latency']!.data!['grpc_p50_ms']).toBeGreaterThan(0);
    // The temporary collection is gone.
    const schema = (await (await fetch(`http://${target.host}:${target.httpPort}/v1/schema`)).json()) as { classes: { class: string }[] };
    expect(schema.classes.map((c) => c.class).filter((n) => n.startsWith('WexDoctor'))).toEqual([]);

    // Human output, progress lines, and a failing check on a port where nothing listens.
    const down = await run(['doctor', '--port', String(await freePort()), '--no-write', '--samples', '1'], weaviateEnv());
    expect(down.code).toBe(1);
    expect(down.stdout).toMatch(/\[FAIL\] rest/);
    expect(down.stdout).toMatch(/\.\.\. REST: GET/);
    expect(down.stdout).toMatch(/check\(s\) failed: rest/);
  });

  it('start runs the whole thing; stats reads it (pretty and --json); SIGTERM stops it', async () => {
    const port = await freePort();
    const env = { ...weaviateEnv(), VECTOR_STORE_HTTP_PORT: String(port), VECTOR_STORE_MAX_CONNECTIONS: '2', VECTOR_STORE_MIN_CONNECTIONS: '1', VECTOR_STORE_WORKERS: '1',
      // An adaptive option from the environment (the tail guard's protect, as the default would set it, and a tolerance).
      VECTOR_STORE_LANES: 'normal:adaptive=1,adaptive.protect=critical,adaptive.tolerance=1.3' };
    const child = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 90_000);
      const check = () => {
        if (out.includes('Ctrl-C stops everything')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout!.on('data', check);
      void exited.then(() => resolve(false));
    });
    expect(ready, out).toBe(true);
    expect(out).toContain('Configuration valid:');
    expect(out).toContain('normal (adaptive, guards critical)');

    // Some traffic: two searches on the critical lane through its HTTP route.
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/vector-store/search`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 3, lane: 'critical' }),
      });
      expect(r.status).toBe(200);
    }
    const raw = await run(['stats', '--json', '--url', `http://127.0.0.1:${port}`], envWith({}));
    expect(raw.code, raw.stderr).toBe(0);
    const stats = JSON.parse(raw.stdout) as { lanes: Record<string, { completed: number; adaptive: { limit: number; guard_ceiling?: number } | null }>; worker_count: number };
    // The start command ran the note's example query on the critical lane, then ours.
    expect(stats.lanes['critical']!.completed).toBe(3);
    expect(stats.lanes['normal']!.adaptive!.limit).toBeGreaterThanOrEqual(1);
    expect(stats.lanes['normal']!.adaptive!.guard_ceiling).toBeGreaterThanOrEqual(1); // the guard is on
    expect(stats.worker_count).toBe(1);

    const pretty = await run(['stats'], envWith({ VECTOR_STORE_HTTP_PORT: String(port) }));
    expect(pretty.code, pretty.stderr).toBe(0);
    expect(pretty.stdout).toMatch(/^Engine: workers, 1 worker\(s\)/m);
    expect(pretty.stdout).toMatch(/^ {2}critical\s+0\s+0\s+-\s+[\d.]+\s+[\d.]+\s+3\s/m);
    expect(pretty.stdout).toMatch(/^ {2}normal\s+0\s+0\s+\d+ adaptive\b/m);
    expect(pretty.stdout).toContain('Adaptive limits');
    expect(pretty.stdout).toMatch(/^ {2}normal: limit \d+ \(\d+\.\.\d+, estimate [\d.]+\)/m);
    expect(pretty.stdout).toMatch(/^Workers$/m);
    expect(pretty.stdout).not.toContain('Nodes ('); // one Weaviate node: no nodes section (several: test/integration/cluster-faults.test.ts)
    expect(pretty.stdout).toMatch(/^ {4}tail guard: protected p99 (-|[\d.]+) ms vs target (-|[\d.]+) ms \(base (-|[\d.]+) ms\), ceiling [\d.]+ slots, \d+ decision\(s\), \d+ cut\(s\)$/m);

    child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
    expect(code).toBe(0);
    expect(out).toContain('Stopped.');

    // Nothing answers any more.
    const gone = await run(['stats', '--url', `http://127.0.0.1:${port}`], envWith({}));
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('No answer');
  });

  it('bench and tune delegate to the repository scripts (their own argument errors come back)', async () => {
    const tune = await run(['tune', '--no-such-flag'], envWith({}), 30_000);
    expect(tune.code).not.toBe(0);
    expect(tune.stdout).toMatch(/Running .*bench\/tune\.ts --no-such-flag/);
    expect(tune.stderr).toMatch(/no-such-flag/);
    const bench = await run(['bench', '--no-such-flag'], envWith({}), 30_000);
    expect(bench.code).not.toBe(0);
    expect(bench.stdout).toMatch(/Running .*bench\/run\.ts --no-such-flag/);
    expect(bench.stderr).toMatch(/no-such-flag/);
  });

  it('tune runs end to end against a running Weaviate (tiny trials) and prints settings ready to paste', async () => {
    const r = await run(['tune', '--quick', '--trial-ms', '300', '--warmup-ms', '100', '--critical-rate', '10'], weaviateEnv(), 150_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/capacity \d+ req\/s; service time [\d.]+ ms; critical p99 at idle [\d.]+ ms; target [\d.]+ ms/);
    expect(r.stdout).toMatch(/\| workers \| connections \| lanes \|/);
    expect(r.stdout).toMatch(/^ {2}VECTOR_STORE_WORKERS=\d+ VECTOR_STORE_MAX_CONNECTIONS=\d+ VECTOR_STORE_LANES="[^"]+"$/m);
    expect(r.stdout).toMatch(/^(Recommended: the most normal throughput with a critical p99 at most 70 % of the target|No setting came in within 70 % of the target|No setting met the target)/m);
    expect(r.stdout).toMatch(/Adaptive limit on the normal lane/);
    const bad = await run(['tune', '--trial-ms', '5'], weaviateEnv(), 30_000);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--trial-ms must be an integer between 50 and 600000/);
    const badRoom = await run(['tune', '--headroom', '1.5'], weaviateEnv(), 30_000);
    expect(badRoom.code).not.toBe(0);
    expect(badRoom.stderr).toMatch(/--headroom must be a share of the target between 0 and 1 \(1: none\), got 1\.5/);
  });

  it('bench runs end to end (smoke profile, one scenario) and writes its reports', async () => {
    const { mkdtempSync, readdirSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const out = mkdtempSync(join(tmpdir(), 'wex-cli-bench-'));
    try {
      const r = await run(['bench', '--smoke', '--only', 'saturation', '--out', out], weaviateEnv(), 150_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/Bench \(smoke\) against Weaviate at /);
      expect(r.stdout).toMatch(/Targets \(from this run\):/);
      expect(readdirSync(out).sort().map((f) => f.replace(/-\d{4}-.*\./, '.'))).toEqual(['bench-smoke.html', 'bench-smoke.json', 'bench-smoke.md']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
