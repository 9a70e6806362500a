/**
 * TLS with trust given by configuration (src/weaviate/tls.ts), against a real Weaviate node
 * started over TLS (REST `--scheme https`, gRPC GRPC_CERT_FILE/GRPC_KEY_FILE) with API-key auth
 * and certificates made here with openssl.
 *
 * The machines' environment sets NODE_EXTRA_CA_CERTS and GRPC_DEFAULT_SSL_ROOTS_FILE_PATH to the
 * system bundle. So the end-to-end case runs in a child process (worker threads inherit its
 * environment) with those two variables unset, and again set to the system bundle: it must pass
 * both ways with the CA given only by config (WEAVIATE_TLS_CA_FILE), and fail with a typed
 * error, both ways, without it. That is what proves the config CA is what makes it pass.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor } from '../../src/engine/executor.ts';
import { SAMPLE_COLLECTION } from '../../src/data/sample.ts';
import type { WeaviateNode } from '../../src/launcher/node.ts';
import { isExecutorError } from '../../src/errors.ts';
import { makeTestCerts, type TestCerts } from '../support/certs.ts';
import { startLoadedNode } from '../support/loaded-node.ts';
import { sharedTarget } from '../support/weaviate.ts';
import { cleanEnv, startChild } from '../support/start-child.ts';

const KEY = 'wx-tls-api-key-9f8e7d6c5b4a';
const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
let certs: TestCerts;
let node: WeaviateNode;

beforeAll(async () => {
  certs = makeTestCerts();
  node = await startLoadedNode(60, {
    apiKey: { key: KEY },
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, servername: certs.serverName },
  });
});
afterAll(async () => {
  await node?.stop();
  certs?.remove();
});

interface ChildResult {
  ok: boolean;
  typed?: boolean;
  code?: string;
  message?: string;
  hits?: number;
  fetched?: number;
  count?: number;
  rest?: { exists: boolean; properties: number };
  health?: { checked: number; failed: number };
  workers?: number;
  ms: number;
}

/** Run the executor in a child process whose environment is exactly `env` plus PATH/HOME. */
function runChild(env: Record<string, string>): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [new URL('../fixtures/tls-child.ts', import.meta.url).pathname],
      { env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...env }, timeout: 90_000, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as ChildResult);
        } catch {
          reject(new Error(`child gave no result (${error?.message ?? 'exit 0'}); stderr:\n${stderr.slice(-2000)}`));
        }
      },
    );
  });
}

const targetEnv = () => ({
  WEAVIATE_HOST: '127.0.0.1',
  WEAVIATE_PORT: String(node.httpPort),
  WEAVIATE_GRPC_PORT: String(node.grpcPort),
  WEAVIATE_SECURE: 'true',
  WEAVIATE_API_KEY: KEY,
});
const hostCaEnv = { NODE_EXTRA_CA_CERTS: SYSTEM_BUNDLE, GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: SYSTEM_BUNDLE };

describe('TLS with the CA from config', () => {
  for (const [label, hostEnv] of [['unset', {}], ['set to the system bundle', hostCaEnv]] as const) {
    it(`works end to end with workers (queries, a gRPC and a REST task, health checks, schema reads); host CA variables ${label}`, async () => {
      const r = await runChild({ ...targetEnv(), ...hostEnv, WEAVIATE_TLS_CA_FILE: certs.caFile, WEAVIATE_TLS_SERVERNAME: certs.serverName });
      expect(r, r.message).toMatchObject({ ok: true, count: 60, rest: { exists: true }, workers: 2 });
      expect(r.hits).toBeGreaterThan(0);
      expect(r.fetched).toBe(40);
      expect(r.health!.checked).toBeGreaterThan(0);
      expect(r.health!.failed).toBe(0);
    });

    it(`fails typed (WEX_TLS_UNTRUSTED) without the config CA; host CA variables ${label}`, async () => {
      const r = await runChild({ ...targetEnv(), ...hostEnv, WEAVIATE_TLS_SERVERNAME: certs.serverName });
      expect(r).toMatchObject({ ok: false, typed: true, code: 'WEX_TLS_UNTRUSTED' });
    });
  }
});

describe('TLS failures are typed and say which', () => {
  const base = () => ({ host: '127.0.0.1', httpPort: node.httpPort, grpcPort: node.grpcPort, apiKey: KEY });
  const start = (weaviate: Record<string, unknown>) =>
    createExecutor({ workers: 0, minConnections: 1, maxConnections: 1, connectTimeoutMs: 30_000, weaviate }, {}).then(
      async (engine) => {
        await engine.close();
        return undefined;
      },
      (error: unknown) => error,
    );

  it('a wrong CA: WEX_TLS_UNTRUSTED', async () => {
    const error = await start({ ...base(), tls: { caFile: certs.otherCaFile, servername: certs.serverName } });
    expect(isExecutorError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'WEX_TLS_UNTRUSTED' });
  });

  it('a host name the certificate does not list (127.0.0.1, no servername): WEX_TLS_HOSTNAME_MISMATCH', async () => {
    const error = await start({ ...base(), tls: { caFile: certs.caFile } });
    expect(error).toMatchObject({ code: 'WEX_TLS_HOSTNAME_MISMATCH' });
    expect((error as Error).message).toContain('servername');
  });

  it('plain text to the TLS port: WEX_TLS_PROTOCOL_MISMATCH (spoke plain)', async () => {
    const error = await start({ ...base(), secure: false });
    expect(error).toMatchObject({ code: 'WEX_TLS_PROTOCOL_MISMATCH', details: { spoke: 'plain' } });
  });

  it('TLS to a plain-text port: WEX_TLS_PROTOCOL_MISMATCH (spoke tls)', async () => {
    const error = await start({ ...sharedTarget(), secure: true, tls: { caFile: certs.caFile } });
    expect(error).toMatchObject({ code: 'WEX_TLS_PROTOCOL_MISMATCH', details: { spoke: 'tls' } });
  });

  it('the CA as PEM text in the option works like the file, inline (no workers)', async () => {
    const { readFileSync } = await import('node:fs');
    await using engine = await createExecutor(
      { workers: 0, minConnections: 1, maxConnections: 2, weaviate: { ...base(), tls: { ca: readFileSync(certs.caFile, 'utf8'), servername: certs.serverName } } },
      {},
    );
    const r = await engine.query({ kind: 'fetchObjects', collection: SAMPLE_COLLECTION, limit: 1 });
    expect(r.objects.length).toBe(1);
  });
});

describe('npm start over TLS + API key (the README setup)', () => {
  it('start, given only WEAVIATE_* settings (CA by config, NODE_EXTRA_CA_CERTS and GRPC_DEFAULT_SSL_ROOTS_FILE_PATH unset), runs the example over TLS; without the CA it fails typed', async () => {
    const env = {
      WEAVIATE_HOST: '127.0.0.1', WEAVIATE_PORT: String(node.httpPort), WEAVIATE_GRPC_PORT: String(node.grpcPort), WEAVIATE_API_KEY: KEY,
      WEAVIATE_TLS_CA_FILE: certs.caFile, WEAVIATE_TLS_SERVERNAME: certs.serverName,
      VECTOR_STORE_HTTP_PORT: '0', VECTOR_STORE_WORKERS: '1', VECTOR_STORE_MIN_CONNECTIONS: '1', VECTOR_STORE_MAX_CONNECTIONS: '2',
    };
    const noSystemCa = ['NODE_EXTRA_CA_CERTS', 'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH'];
    const ok = await startChild(cleanEnv(env, noSystemCa));
    try {
      expect(ok.ready, ok.output()).toBe(true);
      expect(ok.output()).toContain('over TLS (CA from config), API key set');
      expect(ok.output()).toMatch(/^ {2}1\. \[/m); // the example query answered
      expect(ok.output()).toContain(`https://127.0.0.1:${node.httpPort}`);
      expect(ok.output()).not.toContain(KEY);
      expect(await ok.stop()).toBe(0);
    } finally {
      ok.kill();
    }
    const { WEAVIATE_TLS_CA_FILE: _ca, ...withoutCa } = env;
    const bad = await startChild(cleanEnv(withoutCa, noSystemCa), 60_000);
    try {
      expect(bad.ready).toBe(false);
      expect(bad.output()).toContain('Start failed (WEX_TLS_UNTRUSTED)');
      expect(bad.output()).not.toContain(KEY);
    } finally {
      bad.kill();
    }
  }, 150_000);
});
