/**
 * Finding the Weaviate server binary: `WEAVIATE_BIN`, else a cached build keyed by version in a
 * folder outside the clone, else a fresh `go install` of the pinned version into that cache.
 *
 * Two processes asking at once must not build twice nor run a half-written file:
 * - the build runs under a lock (an atomic `mkdir`), whose owner pid lets a later process break
 *   the lock of a builder that died;
 * - `go install` writes into a private temp folder; the binary is moved into place with one
 *   `rename`, so the cached path either does not exist or is complete.
 */
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WeaviateBuildError, WeaviateNotFoundError } from '../errors.ts';
import { tailOf } from './log-tail.ts';
import { pidAlive } from './process.ts';

/** The Weaviate version the project pins (README, CI cache key). */
export const WEAVIATE_VERSION = 'v1.39.0';
export const WEAVIATE_MODULE = 'github.com/weaviate/weaviate/cmd/weaviate-server';

export interface BinaryOptions {
  version?: string;
  /** Build with Go when nothing is cached. @default true */
  build?: boolean;
  /** Progress lines while building or waiting for another builder. @default console.error */
  onProgress?: (line: string) => void;
  /** Bound of a build, and of waiting for another process's build. @default 45 min */
  buildTimeoutMs?: number;
  env?: Readonly<Record<string, string | undefined>>;
}

export interface ResolvedBinary {
  path: string;
  source: 'env' | 'cache' | 'built';
  version: string;
  buildMs?: number;
}

/** `$WEAVIATE_EXECUTOR_CACHE`, else `$XDG_CACHE_HOME/weaviate-executor`, else `~/.cache/weaviate-executor`. */
export function cacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  if (env['WEAVIATE_EXECUTOR_CACHE']) return env['WEAVIATE_EXECUTOR_CACHE'];
  const base = env['XDG_CACHE_HOME'] || join(homedir(), '.cache');
  return join(base, 'weaviate-executor');
}

export function cachedBinaryPath(version = WEAVIATE_VERSION, env = process.env): string {
  return join(cacheDir(env), `weaviate-server-${version}`, 'weaviate-server');
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function goAvailable(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const r = spawnSync('go', ['version'], { encoding: 'utf8', env: env as NodeJS.ProcessEnv });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function waysOut(version: string, reason: string): string {
  return [
    `No Weaviate server binary (${version}): ${reason}. Ways out:`,
    `  1. set WEAVIATE_BIN to a weaviate-server binary;`,
    `  2. install Go (>= 1.26) so the project can build ${WEAVIATE_MODULE}@${version} into ${cacheDir()};`,
    `  3. point WEAVIATE_HOST / WEAVIATE_PORT (and WEAVIATE_GRPC_PORT) at a running Weaviate,`,
    `     e.g. docker run -p 8080:8080 -p 50051:50051 cr.weaviate.io/semitechnologies/weaviate:${version.replace(/^v/, '')}`,
  ].join('\n');
}

export async function resolveWeaviateBinary(options: BinaryOptions = {}): Promise<ResolvedBinary> {
  const env = options.env ?? process.env;
  const version = options.version ?? WEAVIATE_VERSION;
  const progress = options.onProgress ?? ((line: string) => console.error(line));

  const fromEnv = env['WEAVIATE_BIN'];
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new WeaviateNotFoundError(waysOut(version, `WEAVIATE_BIN=${fromEnv} is not an executable file`), {
        variable: 'WEAVIATE_BIN',
        value: fromEnv,
      });
    }
    return { path: fromEnv, source: 'env', version };
  }

  const target = cachedBinaryPath(version, env);
  if (isExecutable(target)) return { path: target, source: 'cache', version };
  if (options.build === false) {
    throw new WeaviateNotFoundError(waysOut(version, `nothing cached at ${target} and building is turned off`), { path: target });
  }
  const go = goAvailable(env);
  if (!go) throw new WeaviateNotFoundError(waysOut(version, `nothing cached at ${target} and \`go\` is not on PATH`), { path: target });
  return buildUnderLock({ version, target, go, progress, timeoutMs: options.buildTimeoutMs ?? 45 * 60_000, env });
}

interface BuildJob {
  version: string;
  /** Where the finished binary goes. */
  target: string;
  /** `go version` output, for the progress line. */
  go: string;
  progress: (line: string) => void;
  timeoutMs: number;
  env: Readonly<Record<string, string | undefined>>;
}

async function buildUnderLock(job: BuildJob): Promise<ResolvedBinary> {
  const { version, target, progress, timeoutMs, env } = job;
  const dir = cacheDir(env);
  mkdirSync(dir, { recursive: true });
  const lock = join(dir, `weaviate-server-${version}.lock`);
  const started = Date.now();
  let lastNotice = 0;
  for (;;) {
    if (isExecutable(target)) return { path: target, source: 'cache', version };
    try {
      mkdirSync(lock);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readOwner(lock);
      if (owner && (owner.host !== hostname() || pidAlive(owner.pid))) {
        if (Date.now() - started > timeoutMs) {
          throw new WeaviateBuildError(`Gave up waiting for another process (pid ${owner.pid}) to build weaviate-server ${version}`, { lock });
        }
        if (Date.now() - lastNotice > 15_000) {
          progress(`weaviate-server ${version}: another process (pid ${owner.pid}) is building it; waiting...`);
          lastNotice = Date.now();
        }
        await sleep(1000);
        continue;
      }
      // The lock's owner died mid-build (or never wrote its pid): break the lock and try again.
      if (!owner && Date.now() - started < 2000) {
        await sleep(200); // the owner may be between mkdir and writing owner.json
        continue;
      }
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    try {
      writeFileSync(join(lock, 'owner.json'), JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      if (isExecutable(target)) return { path: target, source: 'cache', version };
      const buildMs = await runGoInstall(job);
      return { path: target, source: 'built', version, buildMs };
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

function readOwner(lock: string): { pid: number; host: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(lock, 'owner.json'), 'utf8')) as { pid: number; host: string };
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

async function runGoInstall({ version, target, go, progress, timeoutMs, env }: BuildJob): Promise<number> {
  const finalDir = join(target, '..');
  const tmp = join(cacheDir(env), `.build-${version}-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  const logPath = join(cacheDir(env), `build-${version}.log`);
  const log = createWriteStream(logPath);
  const started = Date.now();
  progress(`Building weaviate-server ${version} with ${go} (first time only: several minutes from nothing, seconds with warm Go caches); log: ${logPath}`);

  let downloads = 0;
  const child = spawn('go', ['install', `${WEAVIATE_MODULE}@${version}`], {
    env: { ...(env as NodeJS.ProcessEnv), GOBIN: tmp, GOFLAGS: env['GOFLAGS'] ?? '-trimpath' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    downloads += (chunk.toString('utf8').match(/go: downloading /g) ?? []).length;
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const ticker = setInterval(() => {
    const secs = Math.round((Date.now() - started) / 1000);
    progress(`  building weaviate-server ${version}: ${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s, ${downloads} modules downloaded so far`);
  }, 20_000);
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(-1));
    child.on('close', (c) => resolve(c));
  });
  clearInterval(ticker);
  clearTimeout(killer);
  await new Promise<void>((resolve) => log.end(resolve));
  const built = join(tmp, 'weaviate-server');
  if (code !== 0 || !existsSync(built)) {
    rmSync(tmp, { recursive: true, force: true });
    throw new WeaviateBuildError(
      `go install ${WEAVIATE_MODULE}@${version} failed (exit ${code}); see ${logPath}\n${tailOf(logPath, 20)}`,
      { exitCode: code, log: logPath, logTail: tailOf(logPath, 20) },
    );
  }
  mkdirSync(finalDir, { recursive: true });
  renameSync(built, target); // atomic: the cached path is absent or complete
  rmSync(tmp, { recursive: true, force: true });
  const ms = Date.now() - started;
  progress(`Built weaviate-server ${version} in ${(ms / 1000).toFixed(0)} s -> ${target}`);
  writeFileSync(join(finalDir, 'build.json'), JSON.stringify({ version, go, buildMs: ms, builtAt: new Date().toISOString() }, null, 2));
  return ms;
}
