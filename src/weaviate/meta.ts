import { ConnectError } from '../errors.ts';
import { httpGet } from './http-get.ts';
import { authHeaders, restOrigin, type WeaviateTarget } from './target.ts';
import { isPlainTextToTlsAnswer, plainTextToTls, tlsFailure } from './tls.ts';

// Re-exported: callers imported them from here before they moved to target.ts.
export { authHeaders, restOrigin };

/**
 * `GET /v1/meta`, bounded, without keep-alive: proves Weaviate is reachable (fail fast at start)
 * and gives the server version that every pooled client is seeded with.
 */
export async function fetchServerVersion(target: Readonly<WeaviateTarget>, timeoutMs: number): Promise<string> {
  const url = `${restOrigin(target)}/v1/meta`;
  let status = 0;
  let body = '';
  try {
    ({ status, body } = await httpGet(url, timeoutMs, authHeaders(target), target.tls));
  } catch (error) {
    // A TLS failure is named (untrusted CA, wrong host name, TLS to a plain port), not "unreachable".
    const tls = tlsFailure(error, restOrigin(target), target.secure);
    if (tls) throw tls;
    throw new ConnectError(
      `Could not reach Weaviate at ${restOrigin(target)} within ${timeoutMs / 1000} s: ${(error as Error).message}. ` +
        'Check that Weaviate runs there and that the executor options `weaviate.host` / `weaviate.httpPort` (env WEAVIATE_HOST / WEAVIATE_PORT) point at it.',
      { url, timeoutMs },
      { cause: error },
    );
  }
  if (!target.secure && isPlainTextToTlsAnswer(status, body)) throw plainTextToTls(restOrigin(target));
  if (status === 401 || status === 403) {
    throw new ConnectError(`Weaviate at ${restOrigin(target)} refused the credentials (HTTP ${status}); check WEAVIATE_API_KEY`, { url, status });
  }
  if (status !== 200) {
    throw new ConnectError(`Weaviate at ${restOrigin(target)} answered HTTP ${status} to GET /v1/meta`, { url, status });
  }
  try {
    const version = (JSON.parse(body) as { version?: unknown }).version;
    if (typeof version === 'string' && version) return version;
  } catch {
    /* fall through */
  }
  throw new ConnectError(`Weaviate at ${restOrigin(target)} answered GET /v1/meta without a version`, { url });
}

/**
 * Several nodes: the version from the first node that answers (the cluster's nodes run one
 * version), so the executor starts while any node is up. A TLS or credentials failure is the
 * same on every node and is thrown at once; otherwise the last node's error.
 */
export async function fetchClusterVersion(target: Readonly<WeaviateTarget>, timeoutMs: number): Promise<string> {
  const nodes = target.nodes ?? [target];
  let lastError: unknown;
  for (const node of nodes) {
    try {
      return await fetchServerVersion({ ...target, host: node.host, httpPort: node.httpPort }, timeoutMs);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('WEX_TLS_')) throw error;
      if ((error as { details?: { status?: number } }).details?.status !== undefined) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
