/**
 * `weaviate-executor doctor`: checks a Weaviate the way the executor will use it, one line per
 * check as it completes: REST reachable, server version, gRPC reachable (a real query through a
 * pooled connection), TLS, the kagome_kr tokenizer (a temporary collection, created and deleted;
 * `--no-write` skips it), round-trip latency over REST and gRPC, and a collection's schema
 * (properties, tokenization, vector index, object count; the sample collection is compared with
 * the schema the project creates). Every step is bounded; the exit code is 1 when a check fails.
 */
import { performance } from 'node:perf_hooks';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { resolveTarget, type WeaviateTarget } from '../pool/config.ts';
import { createPool } from '../pool/create.ts';
import { httpGet } from '../weaviate/http-get.ts';
import { authHeaders, restOrigin } from '../weaviate/target.ts';
import { SAMPLE_COLLECTION } from '../data/sample.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** Figures behind the detail (ms, counts, names). */
  data?: Record<string, unknown>;
}

export interface DoctorOptions {
  target: WeaviateTarget;
  collection: string;
  /** Round trips per latency figure. @default 20 */
  samples?: number;
  /** Create and delete a temporary collection to try kagome_kr. @default true */
  write?: boolean;
  /** Bound of each step, ms. @default 5000 */
  timeoutMs?: number;
  onCheck?: (check: Check) => void;
  onProgress?: (line: string) => void;
}

/** What the sample collection must look like (src/data/load.ts creates it). */
const SAMPLE_PROPERTIES: Record<string, string> = {
  title: 'text/kagome_kr', content: 'text/kagome_kr', company: 'text/field', ticker: 'text/field', sector: 'text/field',
  doc_type: 'text/field', rating: 'text/field', broker: 'text/field', target_price: 'int', doc_id: 'int', published_at: 'date',
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** A bounded REST call with a body (POST/DELETE), without keep-alive. */
function rest(target: WeaviateTarget, method: string, path: string, body: unknown, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${restOrigin(target)}${path}`);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      { method, agent: false, timeout: timeoutMs, headers: { connection: 'close', ...authHeaders(target), ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const { target, collection } = options;
  const samples = options.samples ?? 20;
  const timeoutMs = options.timeoutMs ?? 5000;
  const checks: Check[] = [];
  const report = (check: Check) => {
    checks.push(check);
    options.onCheck?.(check);
    return check;
  };
  const progress = options.onProgress ?? (() => {});
  const origin = restOrigin(target);

  // 1. REST
  progress(`REST: GET ${origin}/v1/.well-known/ready ...`);
  let restUp = false;
  try {
    const t0 = performance.now();
    const r = await httpGet(`${origin}/v1/.well-known/ready`, timeoutMs, authHeaders(target));
    restUp = r.status === 200;
    report({ name: 'rest', status: restUp ? 'ok' : 'fail', detail: `${origin} answered HTTP ${r.status} in ${ms(performance.now() - t0)}`, data: { status: r.status } });
  } catch (error) {
    report({ name: 'rest', status: 'fail', detail: `${origin} unreachable: ${(error as Error).message}` });
  }

  // 2. Version
  let version: string | undefined;
  let modules: Record<string, unknown> = {};
  if (restUp) {
    try {
      const r = await httpGet(`${origin}/v1/meta`, timeoutMs, authHeaders(target));
      if (r.status === 401 || r.status === 403) throw new Error(`HTTP ${r.status}: the credentials were refused (WEAVIATE_API_KEY)`);
      const meta = JSON.parse(r.body) as { version?: string; modules?: Record<string, unknown> };
      version = meta.version;
      modules = meta.modules ?? {};
      const [major = 0, minor = 0] = (version ?? '').split('.').map(Number);
      // weaviate-client 3.x speaks gRPC to servers from 1.23.7 on.
      const old = major < 1 || (major === 1 && minor < 24);
      report({ name: 'version', status: old ? 'warn' : 'ok', detail: `Weaviate ${version ?? '?'}${old ? ' (older than 1.24: the gRPC API this client uses may be missing)' : ''}; modules: ${Object.keys(modules).join(', ') || 'none'}`, data: { version, modules: Object.keys(modules) } });
    } catch (error) {
      report({ name: 'version', status: 'fail', detail: `GET /v1/meta failed: ${(error as Error).message}` });
    }
  } else report({ name: 'version', status: 'skip', detail: 'REST is down' });

  // 3. Schema of the collection (REST)
  let exists = false;
  if (restUp) {
    const stored = collection.charAt(0).toUpperCase() + collection.slice(1);
    try {
      const r = await rest(target, 'GET', `/v1/schema/${encodeURIComponent(stored)}`, undefined, timeoutMs);
      if (r.status === 404) {
        report({ name: 'schema', status: 'warn', detail: `collection \`${collection}\` does not exist (stored names are capitalised: \`${stored}\`)` });
      } else if (r.status !== 200) {
        report({ name: 'schema', status: 'fail', detail: `GET /v1/schema/${stored} answered HTTP ${r.status}` });
      } else {
        exists = true;
        const schema = JSON.parse(r.body) as { properties?: { name: string; dataType: string[]; tokenization?: string }[]; vectorIndexType?: string; vectorConfig?: Record<string, { vectorIndexType?: string }>; vectorizer?: string };
        const props = Object.fromEntries((schema.properties ?? []).map((p) => [p.name, `${p.dataType.join(',')}${p.tokenization && p.dataType[0] === 'text' ? `/${p.tokenization}` : ''}`]));
        const index = schema.vectorIndexType ?? Object.entries(schema.vectorConfig ?? {}).map(([k, c]) => `${k}:${c.vectorIndexType}`).join(',');
        let status: CheckStatus = 'ok';
        let against = '';
        if (collection.toLowerCase() === SAMPLE_COLLECTION.toLowerCase()) {
          const wrong = Object.entries(SAMPLE_PROPERTIES).filter(([n, t]) => props[n] !== t).map(([n, t]) => `${n} (want ${t}, got ${props[n] ?? 'missing'})`);
          status = wrong.length ? 'fail' : 'ok';
          against = wrong.length ? `; differs from the sample schema: ${wrong.join('; ')}` : '; matches the sample schema';
        }
        report({
          name: 'schema', status,
          detail: `\`${stored}\`: ${Object.keys(props).length} properties (${Object.entries(props).map(([n, t]) => `${n}:${t}`).join(', ')}), vector index ${index || '?'}${against}`,
          data: { properties: props, vectorIndex: index },
        });
      }
    } catch (error) {
      report({ name: 'schema', status: 'fail', detail: `schema read failed: ${(error as Error).message}` });
    }
  } else report({ name: 'schema', status: 'skip', detail: 'REST is down' });

  // 4. gRPC: a connection of the executor's own pool, and a real query through it.
  progress(`gRPC: opening a pooled connection to ${target.grpcHost}:${target.grpcPort} ...`);
  const grpcTimes: number[] = [];
  let objects: number | undefined;
  try {
    const pool = await createPool({ weaviate: target, minConnections: 0, maxConnections: 1, connectTimeoutMs: timeoutMs, acquireTimeoutMs: timeoutMs });
    try {
      await pool.withConnection(async (client) => {
        if (exists) {
          const c = client.collections.use(collection);
          for (let i = 0; i < samples; i++) {
            const t0 = performance.now();
            await c.query.fetchObjects({ limit: 1 });
            grpcTimes.push(performance.now() - t0);
          }
          objects = (await c.aggregate.overAll()).totalCount;
        }
      });
      report({
        name: 'grpc', status: exists ? 'ok' : 'warn',
        detail: `${target.grpcHost}:${target.grpcPort} ${exists ? `answered ${samples} queries on \`${collection}\` (${objects} objects)` : `accepted a pooled connection; no collection \`${collection}\` to query, so no query went over it (--collection NAME)`}`,
        data: { objects },
      });
    } finally {
      await pool.close();
    }
  } catch (error) {
    report({ name: 'grpc', status: 'fail', detail: `${target.grpcHost}:${target.grpcPort}: ${(error as Error).message.split('\n')[0]}` });
  }

  // 5. TLS
  report({
    name: 'tls', status: target.secure ? (restUp ? 'ok' : 'fail') : 'ok',
    detail: target.secure ? `on (WEAVIATE_SECURE): REST handshake ${restUp ? 'succeeded' : 'failed'}; gRPC ${checks.find((c) => c.name === 'grpc')?.status === 'ok' ? 'succeeded' : 'failed'}` : 'off (plain HTTP and gRPC; WEAVIATE_SECURE=true to use TLS)',
  });

  // 6. Tokenizer kagome_kr: a temporary collection with a kagome_kr property.
  if (!restUp) report({ name: 'tokenizer', status: 'skip', detail: 'REST is down' });
  else if (options.write === false) report({ name: 'tokenizer', status: 'skip', detail: '--no-write: no temporary collection created' });
  else {
    const name = `WexDoctor${process.pid}${Date.now() % 100000}`;
    progress(`tokenizer: creating temporary collection ${name} with a kagome_kr property ...`);
    try {
      const r = await rest(target, 'POST', '/v1/schema', { class: name, vectorizer: 'none', properties: [{ name: 'title', dataType: ['text'], tokenization: 'kagome_kr' }] }, timeoutMs);
      if (r.status === 200) report({ name: 'tokenizer', status: 'ok', detail: 'kagome_kr available (a temporary collection with it was created and deleted)' });
      else report({ name: 'tokenizer', status: 'fail', detail: `kagome_kr refused (HTTP ${r.status}: ${r.body.slice(0, 200)}); start Weaviate with ENABLE_TOKENIZER_KAGOME_KR=true` });
    } catch (error) {
      report({ name: 'tokenizer', status: 'fail', detail: `could not try kagome_kr: ${(error as Error).message}` });
    } finally {
      await rest(target, 'DELETE', `/v1/schema/${name}`, undefined, timeoutMs).catch(() => undefined);
    }
  }

  // 7. Round-trip latency
  if (restUp) {
    progress(`latency: ${samples} REST round trips ...`);
    const restTimes: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      await httpGet(`${origin}/v1/.well-known/live`, timeoutMs, authHeaders(target)).catch(() => undefined);
      restTimes.push(performance.now() - t0);
    }
    const r = [...restTimes].sort((a, b) => a - b);
    const g = [...grpcTimes].sort((a, b) => a - b);
    const grpcPart = g.length ? `; gRPC fetchObjects limit 1 p50 ${ms(percentile(g, 50))}, p99 ${ms(percentile(g, 99))}` : '';
    report({
      name: 'latency', status: 'ok',
      detail: `REST GET /v1/.well-known/live (new socket each) p50 ${ms(percentile(r, 50))}, max ${ms(r.at(-1)!)}${grpcPart} (${samples} each)`,
      data: { rest_p50_ms: percentile(r, 50), rest_max_ms: r.at(-1), grpc_p50_ms: g.length ? percentile(g, 50) : null, grpc_p99_ms: g.length ? percentile(g, 99) : null },
    });
  } else report({ name: 'latency', status: 'skip', detail: 'REST is down' });

  return checks;
}

/** The target from the environment (WEAVIATE_*) with command-line overrides. */
export function doctorTarget(flags: { host?: string | undefined; port?: string | undefined; grpcPort?: string | undefined; secure?: boolean | undefined }, env = process.env): WeaviateTarget {
  const merged = { ...env };
  if (flags.host !== undefined) merged['WEAVIATE_HOST'] = flags.host;
  if (flags.port !== undefined) merged['WEAVIATE_PORT'] = flags.port;
  if (flags.grpcPort !== undefined) merged['WEAVIATE_GRPC_PORT'] = flags.grpcPort;
  if (flags.secure) merged['WEAVIATE_SECURE'] = 'true';
  return resolveTarget({}, merged);
}
