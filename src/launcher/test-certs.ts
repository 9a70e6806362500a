/**
 * Test certificates made with openssl for the TLS tests: a CA, a server certificate it signs
 * for `weaviate.test` and `localhost` (deliberately NOT 127.0.0.1, so connecting by IP without a
 * server name override is a host-name mismatch), a client certificate (mutual TLS), and a
 * second CA that signed nothing of ours (a wrong CA). All in a fresh temporary folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  caFile: string;
  otherCaFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** The name the server certificate carries (use as `servername` when connecting to 127.0.0.1). */
  serverName: string;
  remove(): void;
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'wx-tls-'));
  const at = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
  const ca = (name: string) => ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=wx-test-${name}`);
  const signed = (name: string, cn: string, ext: string) => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(at(`${name}.ext`), `${ext}\n`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  };
  ca('ca');
  ca('other-ca');
  signed('server', 'weaviate.test', 'subjectAltName=DNS:weaviate.test,DNS:localhost\nextendedKeyUsage=serverAuth');
  signed('client', 'wx-client', 'extendedKeyUsage=clientAuth');
  return {
    dir,
    caFile: at('ca.crt'),
    otherCaFile: at('other-ca.crt'),
    serverCertFile: at('server.crt'),
    serverKeyFile: at('server.key'),
    clientCertFile: at('client.crt'),
    clientKeyFile: at('client.key'),
    serverName: 'weaviate.test',
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
