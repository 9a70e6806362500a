import { inject } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WeaviateTarget } from '../../src/pool/config.ts';

/** The shared Weaviate of the integration run (see global-setup.ts). */
export function sharedTarget(): Partial<WeaviateTarget> {
  const w = inject('weaviate');
  return { host: w.host, httpPort: w.httpPort, grpcPort: w.grpcPort };
}

/** Poll until `fn` returns true (bounded); returns how long it took, in ms. */
export async function waitFor(fn: () => boolean | Promise<boolean>, { timeoutMs = 10_000, intervalMs = 25, what = 'condition' } = {}): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await fn()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
