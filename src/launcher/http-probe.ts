import { httpGet, type HttpGetTls } from '../weaviate/http-get.ts';

// The bounded GET lives with the Weaviate code (production code must not depend on the
// launcher); re-exported for the launcher's and older callers' imports.
export { httpGet, type ProbeResult } from '../weaviate/http-get.ts';

/** True when `GET /v1/.well-known/ready` answers 2xx within the bound. */
export async function isReady(baseUrl: string, timeoutMs = 2000, tls?: HttpGetTls): Promise<boolean> {
  try {
    const r = await httpGet(`${baseUrl}/v1/.well-known/ready`, timeoutMs, {}, tls);
    return r.status >= 200 && r.status < 300;
  } catch {
    return false;
  }
}
