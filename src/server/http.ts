/**
 * The HTTP face of the executor (fastify): the note's stats endpoint, a search endpoint,
 * Prometheus metrics and health probes.
 *
 * Safe defaults: binds 127.0.0.1 (another address must be asked for), an optional bearer token
 * protects everything but /healthz, request bodies are capped and schema-checked, sockets that
 * send nothing are timed out, and shedding answers 503 with Retry-After.
 */
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Executor, RequestOptions } from '../engine/executor.ts';
import { ValidationError, isExecutorError, type WeaviateExecutorError } from '../errors.ts';
import { registerSecret, redact } from '../redact.ts';
import type { InsertResult, QueryResult, QuerySpec } from '../query/spec.ts';
import * as v from '../validate.ts';
import { renderMetrics } from './metrics.ts';

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

/** HTTP status and Retry-After for each error code. */
export function httpStatusOf(error: WeaviateExecutorError): { status: number; retryAfter?: number } {
  switch (error.code) {
    case 'WEX_VALIDATION':
    case 'WEX_UNKNOWN_TASK':
      return { status: 400 };
    case 'WEX_QUEUE_FULL':
    case 'WEX_POOL_TIMEOUT':
    case 'WEX_POOL_WAIT_QUEUE_FULL':
      return { status: 503, retryAfter: 1 };
    case 'WEX_SHUTDOWN':
      return { status: 503, retryAfter: 5 };
    case 'WEX_DEADLINE_EXCEEDED':
      return { status: 504 };
    case 'WEX_ABORTED':
      return { status: 499 };
    case 'WEX_QUERY_FAILED':
    case 'WEX_WORKER_CRASHED':
    case 'WEX_CONNECT_FAILED':
      return { status: 502 };
    default:
      return { status: 500 };
  }
}

const searchBody = {
  type: 'object',
  required: ['kind', 'collection'],
  properties: {
    kind: { type: 'string', enum: ['hybrid', 'nearVector', 'bm25', 'fetchObjects'] },
    collection: { type: 'string', minLength: 1, maxLength: 256 },
    query: { type: 'string', maxLength: 4096 },
    text: { type: 'string', maxLength: 4096 },
    vector: { type: 'array', items: { type: 'number' }, maxItems: 65536 },
    alpha: { type: 'number' },
    limit: { type: 'integer' },
    offset: { type: 'integer' },
    filters: { type: 'object' },
    returnProperties: { type: 'array', items: { type: 'string' } },
    returnMetadata: { type: 'array', items: { type: 'string' } },
    includeVector: { type: 'boolean' },
    targetVector: { type: 'string' },
    tenant: { type: 'string' },
    queryProperties: { type: 'array', items: { type: 'string' } },
    distance: { type: 'number' },
    certainty: { type: 'number' },
    sort: { type: 'object' },
    lane: { type: 'string', maxLength: 32 },
    deadlineMs: { type: 'number', exclusiveMinimum: 0 },
  },
  additionalProperties: false,
} as const;

function sendError(reply: FastifyReply, error: unknown): FastifyReply {
  if (!isExecutorError(error)) {
    return reply.code(500).send({ success: false, error: { code: 'WEX_INTERNAL', message: redact(String((error as Error)?.message ?? error)) } });
  }
  const { status, retryAfter } = httpStatusOf(error);
  if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
  return reply.code(status).send({ success: false, error: { code: error.code, message: error.message, details: error.details } });
}

/** What the endpoints need from an engine (the bench serves the same routes from a plain client). */
export interface SearchBackend extends Pick<Executor, 'stats' | 'connectionList'> {
  query(spec: QuerySpec, options?: RequestOptions): Promise<QueryResult | InsertResult>;
}

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
    if (!expected || request.url === '/healthz') return;
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ success: false, error: { code: 'WEX_UNAUTHORIZED', message: 'Missing or wrong bearer token' } });
    }
  });

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number; code?: string }, _request, reply) => {
    if (error.validation) {
      const field = /body\/?([^ ]*)/.exec((error as { validationContext?: string; message: string }).message)?.[1]?.replace(/\//g, '.') ?? '';
      return sendError(reply, new ValidationError(`Invalid request: ${error.message}`, { field }));
    }
    if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ success: false, error: { code: 'WEX_VALIDATION', message: `Request body larger than ${config.bodyLimit} bytes` } });
    }
    if (error.statusCode && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ success: false, error: { code: 'WEX_VALIDATION', message: redact(error.message) } });
    }
    return sendError(reply, error);
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/readyz', async (_request, reply) => {
    const stats = await executor.stats();
    const ready = stats.total_connections > 0;
    return reply.code(ready ? 200 : 503).send({ ready, total_connections: stats.total_connections });
  });

  app.get('/vector-store/pool/stats', async () => ({ success: true, stats: await executor.stats() }));

  app.get('/vector-store/pool/connections', async () => ({ success: true, connections: await executor.connectionList() }));

  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4').send(renderMetrics(await executor.stats())));

  app.post('/vector-store/search', { schema: { body: searchBody } }, async (request, reply) => {
    const { lane, deadlineMs, text, ...spec } = request.body as Record<string, unknown>;
    if (text !== undefined && spec['vector'] === undefined && options.embed && (spec['kind'] === 'hybrid' || spec['kind'] === 'nearVector')) {
      spec['vector'] = options.embed(String(text));
      if (spec['kind'] === 'hybrid' && spec['query'] === undefined) spec['query'] = text;
    }
    const controller = new AbortController();
    // The client went away before its answer: stop the work instead of finishing it for nobody.
    // (The response's 'close', not the request's: that one fires once the body has been read.)
    const onClose = () => {
      if (!reply.raw.writableEnded) controller.abort(new Error('HTTP client disconnected'));
    };
    reply.raw.once('close', onClose);
    const started = performance.now();
    try {
      const result = await executor.query(spec as unknown as QuerySpec, {
        ...(typeof lane === 'string' ? { lane } : {}),
        ...(typeof deadlineMs === 'number' ? { deadlineMs } : {}),
        signal: controller.signal,
      });
      return { success: true, took_ms: Math.round((performance.now() - started) * 100) / 100, result };
    } catch (error) {
      return sendError(reply, error);
    } finally {
      reply.raw.off('close', onClose);
    }
  });

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
