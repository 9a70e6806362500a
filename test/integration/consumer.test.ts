/**
 * The package as a user gets it: `npm pack`, the tarball installed into a fresh project next to
 * the examples' own dependencies, imported by its bare name from an .mjs file, the examples and
 * the README's embedding example type-checked as a TypeScript consumer (module nodenext,
 * strict, no allowImportingTsExtensions), then run against the real Weaviate on Node 22 (the
 * lowest version package.json's engines claims) and Node 24, both from the npm `node` package.
 * An older Node (22.12) gets the "requires Node >= X" message instead of a SyntaxError.
 *
 * Bounded: every child process has a timeout (then SIGKILL); the temporary folder is removed.
 * Downloads go through npm's own cache, so a second run installs from it.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedTarget } from '../support/weaviate.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; devDependencies: Record<string, string> };
const MIN_NODE = pkg.engines.node.replace(/^>=\s*/, '');
/** Node versions to run the consumer on, and one below the minimum for the version gate. */
const NODES = { min: MIN_NODE, current: pkg.devDependencies['node']!, tooOld: '22.12.0' };
/** What the examples need besides the package, pinned. */
const EXAMPLE_DEPS = [`fastify@${pkg.devDependencies['fastify']}`, '@langchain/weaviate@1.0.1', '@langchain/core@1.4.0', `@types/node@${pkg.devDependencies['@types/node']}`];
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

const target = sharedTarget();
let tmp: string;
let app: string;
const nodeBin: Record<string, string> = {};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a command, bounded; never rejects (the assertion looks at the result). */
function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: options.cwd, env: options.env ?? cleanEnv(), timeout: options.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr: stderr + (error && typeof error.code !== 'number' ? `\n${error.message}` : '') });
    });
  });
}

/** The environment without what vitest sets for its own children. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(NODE_OPTIONS|VITEST|TINYPOOL|npm_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-3000)}`);
  return r;
}

/** The README's embedding example: the first ```ts block of its "Install" section. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const install = readme.slice(readme.indexOf('## Install'));
  const block = /```ts\n([\s\S]*?)```/.exec(install)?.[1];
  if (!block) throw new Error('README.md has no ```ts block in its Install section');
  return block;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'wex-consumer-'));
  app = join(tmp, 'app');
  mkdirSync(app);
  // Node binaries (npm's `node` package) install while the package is packed and installed.
  const nodes = Promise.all(
    Object.entries(NODES).map(async ([name, version]) => {
      const dir = join(tmp, `node-${version}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'package.json'), '{"private":true}');
      ok(await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', `node@${version}`], { cwd: dir, timeoutMs: 240_000 }), `npm install node@${version}`);
      nodeBin[name] = join(dir, 'node_modules/.bin/node');
    }),
  );
  const packed = ok(await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: ROOT, timeoutMs: 120_000 }), 'npm pack');
  const tarball = join(tmp, (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[])[0]!.filename);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, type: 'module' }));
  ok(await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...EXAMPLE_DEPS], { cwd: app, timeoutMs: 300_000 }), 'npm install of the tarball');
  cpSync(join(ROOT, 'examples'), join(app, 'examples'), { recursive: true });
  writeFileSync(join(app, 'examples/readme.ts'), readmeExample());
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, types: ['node'], outDir: 'build', rootDir: 'examples', skipLibCheck: false },
      include: ['examples'],
      exclude: ['examples/langchain'],
    }),
  );
  // @langchain/weaviate 1.0.1's own .d.ts do not compile against weaviate-client 3.14
  // (TS2314 on HybridOptions): the LangChain example is checked with skipLibCheck, every
  // other file (and so this package's declarations) without.
  writeFileSync(
    join(app, 'tsconfig.langchain.json'),
    JSON.stringify({ extends: './tsconfig.json', compilerOptions: { skipLibCheck: true }, include: ['examples/langchain'], exclude: [] }),
  );
  writeFileSync(
    join(app, 'check.mjs'),
    `import { createExecutor, defineTasks, ConfigError } from 'weaviate-executor';
import { weaviateExecutorPlugin } from 'weaviate-executor/fastify';
import { registerExecutorMetrics } from 'weaviate-executor/prometheus';
import { startWeaviate, embed } from 'weaviate-executor/testing';
const main = await import('weaviate-executor');
console.log(JSON.stringify({
  node: process.versions.node,
  functions: [createExecutor, defineTasks, weaviateExecutorPlugin, registerExecutorMetrics, startWeaviate, embed].every((f) => typeof f === 'function'),
  configError: new ConfigError('x').code,
  launcherInMain: 'startWeaviate' in main,
}));
`,
  );
  await nodes;
}, 600_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('consumer: the packed tarball in a fresh project', () => {
  it('holds only what a user needs', () => {
    const installed = join(app, 'node_modules/weaviate-executor');
    expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'))).toMatchObject({ name: 'weaviate-executor', engines: { node: `>=${MIN_NODE}` } });
    const shipped = readdirSync(installed, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(installed.length + 1));
    expect(shipped).toContain('dist/workers/worker.js');
    expect(shipped).toContain('dist/index.d.ts');
    expect(shipped.filter((f) => /^(test|bench|src|examples|scripts|\.ci)\//.test(f))).toEqual([]);
  });

  it('type-checks the examples and the README example as a strict nodenext TypeScript consumer', async () => {
    for (const project of ['tsconfig.json', 'tsconfig.langchain.json']) {
      const r = await run(nodeBin['current']!, [TSC, '-p', project], { cwd: app, timeoutMs: 180_000 });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('an older Node gets a clear requirement, not a SyntaxError', async () => {
    const r = await run(nodeBin['tooOld']!, ['check.mjs'], { cwd: app, timeoutMs: 30_000 });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`weaviate-executor requires Node >= ${MIN_NODE} (found ${NODES.tooOld})`);
    expect(r.stderr).not.toContain('SyntaxError');
  });

  for (const which of ['min', 'current'] as const) {
    describe(`on Node ${NODES[which]}`, () => {
      const env = () => cleanEnv({ WEAVIATE_HOST: target.host!, WEAVIATE_PORT: String(target.httpPort), WEAVIATE_GRPC_PORT: String(target.grpcPort) });
      const example = async (file: string) => {
        const r = ok(await run(nodeBin[which]!, [file], { cwd: app, env: env(), timeoutMs: 90_000 }), `${file} on Node ${NODES[which]}`);
        const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
        if (!line) throw new Error(`${file} printed no RESULT line:\n${r.stdout}\n${r.stderr}`);
        return { result: JSON.parse(line.slice(7)) as Record<string, unknown>, stdout: r.stdout };
      };

      it('imports every entry by its bare name from an .mjs file; the launcher is not in the main entry', async () => {
        const r = ok(await run(nodeBin[which]!, ['check.mjs'], { cwd: app, timeoutMs: 30_000 }), 'check.mjs');
        expect(JSON.parse(r.stdout)).toEqual({ node: NODES[which], functions: true, configError: 'WEX_CONFIG_INVALID', launcherInMain: false });
      });

      it("runs the README example and the note's vector-store service (hybrid 삼성전자, limit 5, critical lane)", async () => {
        const readme = ok(await run(nodeBin[which]!, ['build/readme.js'], { cwd: app, env: env(), timeoutMs: 90_000 }), 'README example');
        expect(readme.stdout.trim().split('\n').map((l) => l.split(' ')[0])).toEqual(Array(5).fill('삼성전자'));
        const service = await example('build/vector-store-service.js');
        expect(service.result).toMatchObject({ companies: Array(5).fill('삼성전자'), lanes: ['critical', 'normal'] });
        expect(service.result['total_connections']).toBeGreaterThanOrEqual(1);
      });

      it('runs the fastify service (plugin under its prefix and API-key hook) and the node:http example', async () => {
        const fastify = await example('build/fastify-service.js');
        expect(fastify.result).toMatchObject({ status: 200, unauthorized: 401, histogram: true });
        expect(fastify.result['companies']).toContain('삼성전자');
        const http = await example('build/node-http.js');
        expect(http.result).toMatchObject({ invalid: 400, histogram: true });
        expect(http.result['companies']).toEqual(Array(5).fill('삼성전자'));
      });

      it("runs LangChain's WeaviateStore in a task, with a main-thread VectorStore adapter whose asRetriever() works", async () => {
        const { result } = await example('build/langchain/retriever.js');
        const scored = result['scored'] as { company: string; distance: number }[];
        expect(scored).toHaveLength(3);
        expect(scored.every((s) => s.company === '삼성전자')).toBe(true);
        const distances = scored.map((s) => s.distance);
        expect(distances).toEqual([...distances].sort((a, b) => a - b)); // a distance: closest first
        expect(result['retrieved']).toEqual(['SK하이닉스', 'SK하이닉스']);
      });
    });
  }
});
