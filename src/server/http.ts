/**
 * The standalone HTTP server of the executor (`npm start`): a fastify app with safe defaults
 * and an optional bearer token, serving the routes of the fastify plugin (./plugin.ts).
 *
 * Safe defaults: binds 127.0.0.1 (another address must be asked for), an optional bearer token
 * protects everything but /healthz, request bodies are capped and schema-checked, sockets that
 * send nothing are timed out, and shedding answers 503 with Retry-After.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Registry } from 'prom-client';
import { registerSecret } from '../redact.ts';
import * as v from '../validate.ts';
import { weaviateExecutorPlugin, type SearchBackend } from './plugin.ts';

export interface ServerOptions {
  /** Env `VECTOR_STORE_HTTP_HOST`. @default '127.0.0.1' */
  host?: string;
  /** Env `VECTOR_STORE_HTTP_PORT`. @default 8010 */
  port?: number;
  /** Require `Authorization: Bearer <token>` (all routes but /healthz). Env `VECTOR_STORE_HTTP_TOKEN`. */
  token?: string;
  /** Largest request body, bytes. @default 1 MiB */
  bodyLimit?: number;
  /** A connection that sends no complete request within this is closed, ms. @default 10_000 */
  idleTimeoutMs?: number;
  /** Fill `vector` of hybrid/nearVector searches that give `text` instead (demo embeddings). */
  embed?: (text: string) => number[];
  /** prom-client registry for the executor's metrics (GET /metrics serves it). @default a new one */
  registry?: Registry;
  /** Log level of the HTTP layer (pino). @default 'info' */
  logLevel?: string;
}

export interface ResolvedServerOptions {
  host: string;
  port: number;
  token: string | undefined;
  bodyLimit: number;
  idleTimeoutMs: number;
}

export function resolveServerOptions(options: ServerOptions = {}, env: Readonly<Record<string, string | undefined>> = process.env): ResolvedServerOptions {
  const portRaw = options.port ?? env['VECTOR_STORE_HTTP_PORT'];
  const port = portRaw === undefined ? 8010 : v.integer({ name: options.port !== undefined ? 'port' : 'VECTOR_STORE_HTTP_PORT', kind: options.port !== undefined ? 'option' : 'env' }, portRaw, 0, 65535);
  const token = options.token ?? (env['VECTOR_STORE_HTTP_TOKEN'] || undefined);
  registerSecret(token);
  return {
    host: options.host ?? (env['VECTOR_STORE_HTTP_HOST'] || '127.0.0.1'),
    port,
    token,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    idleTimeoutMs: options.idleTimeoutMs ?? 10_000,
  };
}

export { httpStatusOf, type SearchBackend } from './plugin.ts';

export function buildServer(executor: SearchBackend, options: ServerOptions = {}, env = process.env): { app: FastifyInstance; config: ResolvedServerOptions } {
  const config = resolveServerOptions(options, env);
  const app = Fastify({
    logger: { level: options.logLevel ?? env['LOG_LEVEL'] ?? 'info', redact: ['req.headers.authorization'] },
    bodyLimit: config.bodyLimit,
    connectionTimeout: config.idleTimeoutMs,
    requestTimeout: 60_000,
    keepAliveTimeout: 5_000,
    return503OnClosing: true,
    forceCloseConnections: true,
    // Unknown body fields are errors, not silently dropped (fastify's default strips them).
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const expected = config.token ? Buffer.from(`Bearer ${config.token}`) : undefined;

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // The dashboard page holds no data (its stats fetch carries the token): a browser can open it.
    if (!expected || request.url === '/healthz' || request.url.split('?')[0] === '/vector-store/dashboard') return;
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ success: false, error: { code: 'WEX_UNAUTHORIZED', message: 'Missing or wrong bearer token' } });
    }
  });

  void app.register(weaviateExecutorPlugin, { executor, ...(options.embed ? { embed: options.embed } : {}), ...(options.registry ? { registry: options.registry } : {}) });

  return { app, config };
}

/** Build and listen. Warns when bound beyond loopback. */
export async function startServer(executor: SearchBackend, options: ServerOptions = {}, env = process.env): Promise<{ app: FastifyInstance; url: string }> {
  const { app, config } = buildServer(executor, options, env);
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(config.host);
  if (!loopback) {
    app.log.warn(`HTTP endpoints are bound to ${config.host} (VECTOR_STORE_HTTP_HOST)${config.token ? '' : ' WITHOUT a token: set VECTOR_STORE_HTTP_TOKEN'}`);
  }
  return { app, url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}` };
}
