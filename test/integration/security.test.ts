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
