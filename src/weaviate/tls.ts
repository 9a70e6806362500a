/**
 * TLS to Weaviate with trust given by configuration, the same for every path that talks to it:
 * gRPC (each pooled client's own channel), REST through the pool's bounded undici Pool, and the
 * bounded GETs (startup `/v1/meta`, the schema registry, probes).
 *
 * Why not the environment: weaviate-client has no CA option; REST through `fetch` trusts
 * `NODE_EXTRA_CA_CERTS` (read once at process start) and grpc-js trusts
 * `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`, so a CA had to be set twice, process-wide, before start
 * (../../NOTES.md). A CA given here is passed explicitly to each connection and replaces the
 * default roots for Weaviate only: nothing global changes, and whatever the host's environment
 * says does not matter (test/integration/tls.test.ts runs with those variables set and unset).
 *
 * Failures are typed and say which: an untrusted certificate, a host name the certificate does
 * not name, or plain text spoken to a TLS port (or TLS to a plain one). `tlsFailure()` maps
 * Node's and undici's TLS error codes (stable, documented by OpenSSL/Node) to those errors.
 */
import { readFileSync } from 'node:fs';
import { ConnectError, TlsClientCertError, TlsHostnameError, TlsProtocolError, TlsUntrustedError } from '../errors.ts';
import { registerSecret } from '../redact.ts';
import * as v from '../validate.ts';
import { Secret, revealSecret } from '../secret.ts';

/** Resolved TLS settings: PEM text (files are read once, when the configuration is resolved). */
export interface TlsSettings {
  /** CA certificate(s) that sign Weaviate's certificate; replaces the default roots. @default the system's roots */
  ca?: string;
  /** Client certificate chain for mutual TLS. */
  cert?: string;
  /** Client private key for mutual TLS, held as a Secret (src/secret.ts): no dump shows it. */
  key?: Secret;
  /** Name to verify the server's certificate against (and to send as SNI / gRPC authority) instead of the host. */
  servername?: string;
}

/** What `weaviate.tls` accepts: PEM text or file paths. */
export interface TlsOptions extends Omit<TlsSettings, 'key'> {
  /** Client private key (PEM text), or a Secret as a resolved configuration holds it. */
  key?: string | Secret;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export const TLS_ENV = Object.freeze({
  WEAVIATE_TLS_CA: 'ca',
  WEAVIATE_TLS_CA_FILE: 'caFile',
  WEAVIATE_TLS_CERT_FILE: 'certFile',
  WEAVIATE_TLS_KEY_FILE: 'keyFile',
  WEAVIATE_TLS_SERVERNAME: 'servername',
} as const);

const TLS_KEYS = ['ca', 'caFile', 'cert', 'certFile', 'key', 'keyFile', 'servername'] as const;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Resolve `weaviate.tls` (option) and the WEAVIATE_TLS_* variables into PEM text. Options win
 * over env per field. Undefined when nothing TLS-specific is configured.
 */
export function resolveTls(option: unknown, env: Env, prefix = 'weaviate.tls'): TlsSettings | undefined {
  const raw: Record<string, unknown> = {};
  if (option !== undefined) {
    const o = v.plainObject({ name: prefix, kind: 'option' }, option);
    v.knownKeys({ name: prefix, kind: 'option' }, o, TLS_KEYS);
    for (const [k, value] of Object.entries(o)) if (value !== undefined) raw[k] = { value, source: { name: `${prefix}.${k}`, kind: 'option' } };
  }
  // Options win per setting: an option's `ca` hides env's CA file too (and so on for cert and key).
  const setting = (k: string) => k.replace(/File$/, '');
  const fromOptions = new Set(Object.keys(raw).map(setting));
  for (const [name, key] of Object.entries(TLS_ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '' && !fromOptions.has(setting(key))) raw[key] = { value, source: { name, kind: 'env' } };
  }
  if (Object.keys(raw).length === 0) return undefined;
  const get = (k: string) => raw[k] as { value: unknown; source: v.Source } | undefined;
  const pem = (inline: string, file: string, what: string, secret = false): string | undefined => {
    const a = get(inline);
    const b = get(file);
    if (a && b) v.conflict(`Give either \`${a.source.name}\` or \`${b.source.name}\`, not both`, { option: a.source.name });
    let text: string | undefined;
    let source: v.Source | undefined;
    if (a) {
      // A key's value is never shown (it is a secret), whatever is wrong with it.
      const value = secret && a.value instanceof Secret ? revealSecret(a.value) : a.value;
      if (typeof value !== 'string') v.fail(a.source, `a PEM ${what} (string)`, secret ? '[private key]' : value);
      text = value;
      source = a.source;
    } else if (b) {
      const path = v.string(b.source, b.value);
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        return v.fail(b.source, `a readable PEM file (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, path);
      }
      source = b.source;
    }
    if (text === undefined || !source) return undefined;
    if (secret) registerSecret(text);
    if (!/-----BEGIN [A-Z0-9 ]+-----/.test(text)) v.fail(source, `PEM text containing a -----BEGIN ...----- block (${what})`, secret ? '[private key]' : text.slice(0, 40));
    return text;
  };
  const settings: TlsSettings = {};
  const ca = pem('ca', 'caFile', 'CA certificate');
  const cert = pem('cert', 'certFile', 'client certificate');
  const key = pem('key', 'keyFile', 'client private key', true);
  if ((cert === undefined) !== (key === undefined)) {
    v.conflict(`Mutual TLS needs both a client certificate (\`${prefix}.cert\`/\`certFile\`) and its key (\`${prefix}.key\`/\`keyFile\`)`, { option: `${prefix}` });
  }
  const sn = get('servername');
  if (ca !== undefined) settings.ca = ca;
  if (cert !== undefined) settings.cert = cert;
  if (key !== undefined) settings.key = new Secret(key);
  if (sn) settings.servername = v.string(sn.source, sn.value);
  return Object.freeze(settings);
}

/** Options for `tls.connect` / `https.request` / undici's `connect`. */
export function nodeTlsOptions(tls: TlsSettings | undefined): { ca?: string; cert?: string; key?: string; servername?: string } {
  if (!tls) return {};
  const key = revealSecret(tls.key);
  return {
    ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
  };
}

/** grpc-js channel options that make a channel verify (and present) `servername` instead of the target host. */
export function grpcNameOverride(tls: TlsSettings | undefined): Record<string, string> {
  if (!tls?.servername) return {};
  return { 'grpc.ssl_target_name_override': tls.servername, 'grpc.default_authority': tls.servername };
}

/** OpenSSL verification codes (Node puts them on `error.code`) that mean "not signed by a CA we trust". */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_TLS_CERT_ALTNAME_FORMAT', 'HOSTNAME_MISMATCH']);
/** TLS spoken to something that does not speak it (a plain-text port): OpenSSL's record-layer errors. */
const NOT_TLS = new Set(['EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_HTTP_REQUEST']);

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/**
 * Go's HTTPS server answers a plain-text HTTP request with this 400 body (net/http, stable since
 * Go 1.12); Weaviate's REST server is Go's. It is the only sign of plain text sent to a TLS port.
 */
export function isPlainTextToTlsAnswer(status: number, body: string): boolean {
  return status === 400 && body.includes('Client sent an HTTP request to an HTTPS server');
}

/**
 * The typed TLS error for a failed connection, or undefined when the failure is not about TLS.
 * `where` is the address, for the message; `secure` says whether we spoke TLS.
 */
export function tlsFailure(error: unknown, where: string, secure: boolean): ConnectError | undefined {
  const codes = codesOf(error);
  const reason = (error as Error)?.message ?? String(error);
  const details = { target: where, tlsCode: codes[0] };
  if (codes.some((c) => HOSTNAME.has(c))) {
    return new TlsHostnameError(
      `Weaviate at ${where}: its TLS certificate does not name the host we connected to (${reason}). ` +
        'Connect by a name the certificate lists, or set `weaviate.tls.servername` (env WEAVIATE_TLS_SERVERNAME) to one.',
      details,
      { cause: error },
    );
  }
  if (codes.some((c) => UNTRUSTED.has(c))) {
    return new TlsUntrustedError(
      `Weaviate at ${where}: its TLS certificate is not signed by a trusted CA (${reason}). ` +
        'Give the CA that signed it with `weaviate.tls.ca` / `caFile` (env WEAVIATE_TLS_CA / WEAVIATE_TLS_CA_FILE).',
      details,
      { cause: error },
    );
  }
  // The server's TLS alert about OUR certificate (OpenSSL reports it as ERR_SSL_..._ALERT_...).
  if (codes.some((c) => /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE)$/.test(c))) {
    return new TlsClientCertError(
      `Weaviate at ${where} refused our client certificate (${reason}): it requires mutual TLS. ` +
        'Give a certificate its CA signed with `weaviate.tls.cert` + `key` (env WEAVIATE_TLS_CERT_FILE + WEAVIATE_TLS_KEY_FILE).',
      details,
      { cause: error },
    );
  }
  if (secure && codes.some((c) => NOT_TLS.has(c) || /^ERR_SSL_/.test(c))) {
    return new TlsProtocolError(
      `Weaviate at ${where} did not answer TLS (${reason}): the port speaks plain text. Turn \`weaviate.secure\` off or use the TLS port.`,
      { ...details, spoke: 'tls' },
      { cause: error },
    );
  }
  return undefined;
}

/** The typed error for plain text sent to a TLS port (from the server's own answer). */
export function plainTextToTls(where: string): TlsProtocolError {
  return new TlsProtocolError(
    `Weaviate at ${where} serves TLS but we spoke plain text: set \`weaviate.secure: true\` (env WEAVIATE_SECURE=true) and give its CA (weaviate.tls.ca / caFile).`,
    { target: where, spoke: 'plain' },
  );
}
