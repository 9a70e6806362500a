/**
 * A connection the pool gave up on while Weaviate was down must not come back as a socket
 * nobody owns once Weaviate is up again (grpc-js reconnects a closed channel's subchannel that
 * was waiting out its backoff; src/weaviate/channel-close.ts). Counted at the OS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWeaviate, type WeaviateNode } from '../../src/launcher/node.ts';
import { resolveTarget } from '../../src/pool/config.ts';
import type { Transport } from '../../src/pool/types.ts';
import { WeaviateConnectionFactory } from '../../src/pool/weaviate-factory.ts';
import { countEstablished } from '../../src/weaviate/sockets.ts';
import { waitFor } from '../support/weaviate.ts';

let node: WeaviateNode;
const opened: Transport<unknown>[] = [];
beforeAll(async () => {
  node = await startWeaviate({ stopTimeoutMs: 5000 });
});
afterAll(async () => {
  await Promise.all(opened.map((t) => t.close().catch(() => {})));
  await node?.stop();
});

describe('connections given up while the server is down', () => {
  it('leave no socket behind when the server comes back', async () => {
    const factory = new WeaviateConnectionFactory(
      resolveTarget(node.target),
      { queryTimeoutMs: 5000, keepaliveTimeMs: 10_000, keepaliveTimeoutMs: 5000 },
    );
    await node.kill('SIGKILL');
    // Opens that give up at different moments: some while their channel waits out a reconnect
    // backoff (the case that leaked), some after the server is back (they succeed).
    let failed = 0;
    const opens = Array.from({ length: 12 }, (_, i) =>
      factory.create(AbortSignal.timeout(1500 + i * 500)).then(
        (t) => void opened.push(t),
        () => void failed++,
      ),
    );
    await sleep(1000);
    await node.start();
    await Promise.all(opens);
    expect(opened.length + failed).toBe(12);
    // A leaked subchannel connects when its backoff ends (seconds later): watch for a while.
    const watchUntil = Date.now() + 8000;
    while (Date.now() < watchUntil) {
      expect(countEstablished(node.grpcPort), `sockets at the OS with ${opened.length} connections open, ${failed} given up`).toBe(opened.length);
      await sleep(200);
    }
    await Promise.all(opened.splice(0).map((t) => t.close()));
    await waitFor(() => countEstablished(node.grpcPort) === 0, { timeoutMs: 5000, what: 'no socket after closing every connection' });
  });
});
