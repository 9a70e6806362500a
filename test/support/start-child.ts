/**
 * `weaviate-executor start` (src/cli/main.ts) as a child process of the test, on this Node, with
 * the environment given (nothing inherited but what the caller passes). Resolves once it printed
 * that everything runs, or with ready=false when it exited or `boundMs` passed first.
 * `stop()` sends SIGTERM and waits (bounded) for its exit code; `kill()` is the last resort the
 * caller's `finally` runs.
 */
import { spawn } from 'node:child_process';

const BIN = new URL('../../src/cli/main.ts', import.meta.url).pathname;

export interface StartChild {
  ready: boolean;
  output(): string;
  stop(): Promise<number | null | 'still running'>;
  kill(): void;
}

export async function startChild(env: NodeJS.ProcessEnv, boundMs = 90_000): Promise<StartChild> {
  const child = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), boundMs);
    const check = () => {
      if (out.includes('Ctrl-C stops everything')) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return {
    ready,
    output: () => out,
    async stop() {
      child.kill('SIGTERM');
      return Promise.race([exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000))]);
    },
    kill,
  };
}

/** The parent's environment without any executor or Weaviate target setting, plus `extra`. */
export function cleanEnv(extra: Record<string, string>, drop: readonly string[] = []): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('VECTOR_STORE_') && !k.startsWith('WEAVIATE_') && !drop.includes(k)),
  ) as NodeJS.ProcessEnv;
  // The local Weaviate binary's location is not a target setting: keep it.
  for (const k of ['WEAVIATE_BIN', 'WEAVIATE_EXECUTOR_CACHE']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, LOG_LEVEL: 'warn', ...extra };
}
