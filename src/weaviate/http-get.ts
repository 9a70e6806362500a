import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { nodeTlsOptions, type TlsSettings } from './tls.ts';

export interface ProbeResult {
  status: number;
  body: string;
}

/** TLS for an https GET: the target's settings, or (launcher probes of its own node only) no verification. */
export type HttpGetTls = Readonly<TlsSettings> & { rejectUnauthorized?: boolean };

/**
 * One bounded GET without keep-alive (`agent: false`): probes must not leave pooled sockets to
 * Weaviate behind, because tests count this process's sockets to it. Over https, `tls` gives the
 * CA, client certificate and server name (src/weaviate/tls.ts); without it, the system's roots.
 */
export function httpGet(url: string, timeoutMs: number, headers: Record<string, string> = {}, tls?: HttpGetTls): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = (u.protocol === 'https:' ? requestTls : request)(
      u,
      {
        method: 'GET',
        agent: false,
        headers: { connection: 'close', ...headers },
        timeout: timeoutMs,
        ...(u.protocol === 'https:' && tls ? { ...nodeTlsOptions(tls), ...(tls.rejectUnauthorized === false ? { rejectUnauthorized: false } : {}) } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    const timer = setTimeout(() => req.destroy(new Error(`GET ${u.pathname} timed out after ${timeoutMs} ms`)), timeoutMs);
    req.on('timeout', () => req.destroy(new Error(`GET ${u.pathname} timed out after ${timeoutMs} ms`)));
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}
