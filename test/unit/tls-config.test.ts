/** TLS settings from options and env (src/weaviate/tls.ts via resolveTarget): files read once, typed errors, the key never shown. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/pool/config.ts';
import { redact } from '../../src/redact.ts';
import { tlsFailure } from '../../src/weaviate/tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'wx-tls-unit-'));
const CA = '-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIEsecretsecretsecret\n-----END PRIVATE KEY-----\n';
const caFile = join(dir, 'ca.pem');
writeFileSync(caFile, CA);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('TLS configuration', () => {
  it('reads the CA from a file (env) and turns TLS on', () => {
    const t = resolveTarget({}, { WEAVIATE_TLS_CA_FILE: caFile, WEAVIATE_TLS_SERVERNAME: 'weaviate.test' });
    expect(t.secure).toBe(true);
    expect(t.tls).toEqual({ ca: CA, servername: 'weaviate.test' });
  });

  it('options win over env per field; PEM text works inline', () => {
    const t = resolveTarget({ tls: { ca: CA } }, { WEAVIATE_TLS_CA_FILE: '/nope', WEAVIATE_TLS_SERVERNAME: 'x.test' });
    expect(t.tls).toEqual({ ca: CA, servername: 'x.test' });
  });

  it('the resolved form is accepted again (what a worker receives)', () => {
    const once = resolveTarget({ tls: { caFile, servername: 'a.test' } }, {});
    expect(resolveTarget({ ...once }, {})).toEqual(once);
  });

  it('names what is wrong: a missing file, both forms, half of mTLS, TLS with secure false', () => {
    expect(() => resolveTarget({ tls: { caFile: join(dir, 'missing.pem') } }, {})).toThrow(/`weaviate\.tls\.caFile` to be a readable PEM file \(ENOENT\)/);
    expect(() => resolveTarget({ tls: { ca: CA, caFile } }, {})).toThrow(/either `weaviate\.tls\.ca` or `weaviate\.tls\.caFile`/);
    expect(() => resolveTarget({ tls: { key: KEY } }, {})).toThrow(/Mutual TLS needs both/);
    expect(() => resolveTarget({ secure: false, tls: { ca: CA } }, {})).toThrow(/`weaviate\.secure` is false/);
    expect(() => resolveTarget({ tls: { ca: 'not a pem' } }, {})).toThrow(/-----BEGIN/);
    expect(() => resolveTarget({ tls: { cafile: caFile } as never }, {})).toThrow(/Unknown option `weaviate\.tls\.cafile`/);
  });

  it('a client key is a secret: never in an error, masked wherever it would be printed', () => {
    let message = '';
    try {
      resolveTarget({ tls: { cert: CA, key: KEY.replace('BEGIN', 'BEGlN') } }, {});
    } catch (error) {
      message = `${(error as Error).message} ${JSON.stringify(error)}`;
    }
    expect(message).toContain('[private key]');
    expect(message).not.toContain('secretsecret');
    resolveTarget({ tls: { cert: CA, key: KEY } }, {});
    expect(redact(`oops ${KEY}`)).not.toContain('secretsecret');
  });

  it('classifies TLS failures by code', () => {
    const err = (code: string) => Object.assign(new Error(code), { code });
    expect(tlsFailure(err('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'x', true)?.code).toBe('WEX_TLS_UNTRUSTED');
    expect(tlsFailure(err('SELF_SIGNED_CERT_IN_CHAIN'), 'x', true)?.code).toBe('WEX_TLS_UNTRUSTED');
    expect(tlsFailure(err('ERR_TLS_CERT_ALTNAME_INVALID'), 'x', true)?.code).toBe('WEX_TLS_HOSTNAME_MISMATCH');
    expect(tlsFailure(err('ERR_SSL_WRONG_VERSION_NUMBER'), 'x', true)?.code).toBe('WEX_TLS_PROTOCOL_MISMATCH');
    expect(tlsFailure(err('ECONNREFUSED'), 'x', true)).toBeUndefined();
  });
});
