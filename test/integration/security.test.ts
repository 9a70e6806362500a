/**
 * Secrets never leak: an API key (against a Weaviate started with API-key auth) and an HTTP
 * bearer token must not appear in logs, stats, errors, HTTP answers or bench reports.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../bench/run.ts';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import { createExecutor } from '../../src/engine/executor.ts';
import type { WeaviateNode } from '../../src/launcher/node.ts';
import { createLogger } from '../../src/log.ts';
import { resolveTarget } from '../../src/pool/config.ts';
import { startServer } from '../../src/server/http.ts';
import { startLoadedNode } from '../support/loaded-node.ts';
import { makeTestCerts } from '../support/certs.ts';
import { ToxicProxy } from '../support/toxic-proxy.ts';
import { inspect } from 'node:util';

const KEY = 'wx-api-key-5b6c7d8e9f0a1b2c';
const TOKEN = 'wx-http-token-1a2b3c4d5e6f';
let node: WeaviateNode;
const out = mkdtempSync(join(tmpdir(), 'wx-sec-'));
beforeAll(async () => {
  node = await startLoadedNode(200, { apiKey: { key: KEY } });
});
afterAll(async () => {
  await node?.stop();
  rmSync(out, { recursive: true, force: true });
});

describe('security', () => {
  it('the API key and the HTTP token appear in no log line, stats, error, HTTP answer or bench report', async () => {
    const logged: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { logged.push(chunk.toString()); cb(); } });
    const logger = createLogger({ level: 'debug', destination: sink });
    // The key also travels in a header value, and appears in the text of a failing task's error.
    await using engine = await createExecutor({ weaviate: { ...node.target, headers: { 'X-Custom-Api-Key': KEY } }, workers: 1, minConnections: 1, maxConnections: 2, logger, workerLogLevel: 'debug' }, {});
    const { app, url } = await startServer(engine, { port: 0, token: TOKEN, logLevel: 'debug' }, {});
    const texts: string[] = [];
    try {
      const ok = await fetch(`${url}/vector-store/search`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 1 }) });
      expect(ok.status).toBe(200);
      texts.push(await ok.text());
      const denied = await fetch(`${url}/vector-store/pool/stats`, { headers: { authorization: `Bearer ${TOKEN}x` } });
      texts.push(await denied.text());
      texts.push(await (await fetch(`${url}/vector-store/pool/stats`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
      texts.push(await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
      texts.push(await (await fetch(`${url}/vector-store/pool/connections`, { headers: { authorization: `Bearer ${TOKEN}` } })).text());
      const failed = await engine.query({ kind: 'fetchObjects', collection: SAMPLE_COLLECTION, offset: 9000, limit: 5000 }).catch((e: Error) => e);
      texts.push(String((failed as Error).message), String((failed as Error).stack), JSON.stringify(failed));
      texts.push(JSON.stringify(await engine.stats()), JSON.stringify(await engine.connectionList()));
      // Dumps of the resolved configuration: the key is held as a Secret (src/secret.ts).
      texts.push(JSON.stringify(engine.config), inspect(engine.config, { depth: 20, showHidden: true }), String(engine.config.pool.weaviate.apiKey));
    } finally {
      await app.close();
    }
    const r = await runBench({ profile: 'smoke', outDir: out, target: resolveTarget({ ...node.target }, {}), serverPid: node.pid, only: ['saturation'], progress: (l) => texts.push(l) });
    for (const file of readdirSync(out)) texts.push(readFileSync(join(out, file), 'utf8'));
    expect(r.rows.length).toBeGreaterThan(0);
    texts.push(...logged);
    expect(logged.length).toBeGreaterThan(0);
    for (const text of texts) {
      expect(text).not.toContain(KEY);
      expect(text).not.toContain(TOKEN);
    }
  });
});

describe('security with several nodes', () => {
  it('the API key goes on every node path (reads served by both nodes) and shows in no stats, config dump or log', async () => {
    // Two "nodes": the server itself, and the same server's gRPC behind the TCP proxy.
    const proxy = new ToxicProxy(node.host, node.grpcPort);
    await proxy.start();
    const logged: string[] = [];
    const sink = new Writable({ write(chunk: Buffer, _e, cb) { logged.push(chunk.toString()); cb(); } });
    const logger = createLogger({ level: 'debug', destination: sink });
    try {
      const nodes = [{ host: node.host, httpPort: node.httpPort, grpcPort: node.grpcPort }, { host: node.host, httpPort: node.httpPort, grpcPort: proxy.port }];
      await using engine = await createExecutor({ weaviate: { nodes, apiKey: KEY }, workers: 1, minConnections: 1, maxConnections: 2, logger, workerLogLevel: 'debug', balancing: 'round-robin' }, {});
      const reads = await Promise.all(Array.from({ length: 10 }, () => engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 1 })));
      expect(reads.every((r) => r.objects.length === 1)).toBe(true);
      const stats = await engine.stats();
      const served = stats.workers[0]!.pool!.nodes!.map((n) => n.pool?.total_requests ?? 0);
      expect(Math.min(...served)).toBeGreaterThan(0); // both paths carried the key (Weaviate refuses reads without it)
      const texts = [JSON.stringify(stats), JSON.stringify(engine.config), inspect(engine.config, { depth: 20, showHidden: true }), ...logged];
      for (const text of texts) expect(text).not.toContain(KEY);
      // Without the key, the same reads are refused: the key is what made them pass.
      const refused = await createExecutor({ weaviate: { nodes }, workers: 0, logger }, {}).then(
        async (e) => {
          try {
            return await e.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 1 }).then(() => 'answered', (err: { code?: string }) => err.code);
          } finally {
            await e.close();
          }
        },
        (err: { code?: string }) => err.code,
      );
      expect(refused).not.toBe('answered');
    } finally {
      await proxy.close();
    }
  });
});

describe('security over mutual TLS', () => {
  it('a TLS + API-key + client-certificate setup prints neither the key nor any private key material (client, server, CA)', async () => {
    const certs = makeTestCerts();
    const TLS_KEY = 'wx-api-key-tls-0a1b2c3d4e5f6a7b';
    // The body lines of each private key: none may appear anywhere.
    const privateLines = [certs.clientKeyFile, certs.serverKeyFile, join(certs.dir, 'ca.key')].flatMap((f) =>
      readFileSync(f, 'utf8').split('\n').filter((l) => l.length > 40 && !l.startsWith('-----')),
    );
    let tlsNode: WeaviateNode | undefined;
    try {
      tlsNode = await startLoadedNode(20, {
        apiKey: { key: TLS_KEY },
        tls: {
          certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, servername: certs.serverName,
          clientCaFile: certs.caFile, clientCertFile: certs.clientCertFile, clientKeyFile: certs.clientKeyFile,
        },
      });
      const logged: string[] = [];
      const sink = new Writable({ write(chunk: Buffer, _e, cb) { logged.push(chunk.toString()); cb(); } });
      const logger = createLogger({ level: 'debug', destination: sink });
      const weaviate = { ...tlsNode.target, tls: { caFile: certs.caFile, servername: certs.serverName, certFile: certs.clientCertFile, keyFile: certs.clientKeyFile } };
      const texts: string[] = [];
      {
        await using engine = await createExecutor({ weaviate, workers: 1, minConnections: 1, maxConnections: 2, logger, workerLogLevel: 'debug' }, {});
        const ok = await engine.query({ kind: 'bm25', collection: SAMPLE_COLLECTION, query: '삼성전자', limit: 1 });
        expect(ok.objects.length).toBeGreaterThanOrEqual(0);
        const failed = await engine.query({ kind: 'fetchObjects', collection: SAMPLE_COLLECTION, offset: 9000, limit: 5000 }).catch((e: Error) => e);
        texts.push(String((failed as Error).message), String((failed as Error).stack), JSON.stringify(failed));
        texts.push(JSON.stringify(await engine.stats()), JSON.stringify(await engine.connectionList()));
        texts.push(JSON.stringify(engine.config), inspect(engine.config, { depth: 20, showHidden: true }));
      }
      // Start-up failures over the new paths: no client certificate (mutual TLS refused), a wrong CA.
      const noCert = await createExecutor({ weaviate: { ...weaviate, tls: { caFile: certs.caFile, servername: certs.serverName } }, workers: 0, logger }, {}).catch((e: Error) => e);
      expect(noCert).toMatchObject({ code: 'WEX_TLS_CLIENT_CERT_REJECTED' });
      const wrongCa = await createExecutor({ weaviate: { ...weaviate, tls: { ...weaviate.tls, caFile: certs.otherCaFile } }, workers: 0, logger }, {}).catch((e: Error) => e);
      expect(wrongCa).toMatchObject({ code: 'WEX_TLS_UNTRUSTED' });
      for (const e of [noCert, wrongCa]) texts.push(String((e as Error).message), String((e as Error).stack), JSON.stringify(e), JSON.stringify((e as Error).cause ?? null));
      texts.push(...logged);
      expect(logged.length).toBeGreaterThan(0);
      expect(privateLines.length).toBeGreaterThan(3);
      for (const text of texts) {
        expect(text).not.toContain(TLS_KEY);
        for (const line of privateLines) expect(text).not.toContain(line);
      }
    } finally {
      await tlsNode?.stop();
      certs.remove();
    }
  });
});
