/**
 * The executor's HTTP routes as a fastify plugin, for the host's own fastify app:
 *
 *   await app.register(weaviateExecutorPlugin, { executor, prefix: '/search', registry });
 *
 * Routes (under the prefix the host registers it with): `GET /healthz`, `GET /readyz`,
 * `GET /vector-store/pool/stats`, `GET /vector-store/pool/connections`, `GET /metrics`,
 * `POST /vector-store/search`, `GET /vector-store/dashboard` (src/server/dashboard.ts). The plugin stays encapsulated (fastify-plugin with
 * `encapsulate: true`), so the prefix applies and the hooks of the context it is registered in
 * (the host's auth) run before its routes; its error handler covers only its own routes.
 * The standalone server (src/server/http.ts, `npm start`) is this plugin in a fastify app.
 */
import fp from 'fastify-plugin';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import type { RequestOptions } from '../engine/executor.ts';
import { ValidationError, isExecutorError, type WeaviateExecutorError } from '../errors.ts';
import { registerExecutorMetrics, type ExecutorMetricsOptions, type MetricsSource } from '../metrics/prometheus.ts';
import type { InsertResult, QueryResult, QuerySpec } from '../query/spec.ts';
import { redact } from '../redact.ts';
import { dashboardHtml } from './dashboard.ts';
import type { Executor } from '../engine/executor.ts';

/** What the routes need from an engine (the bench serves the same routes from a plain client). */
export interface SearchBackend extends Pick<Executor, 'stats' | 'connectionList'>, Partial<Pick<Executor, 'onRequest'>> {
  query(spec: QuerySpec, options?: RequestOptions): Promise<QueryResult | InsertResult>;
}

export interface ExecutorPluginOptions {
  executor: SearchBackend;
  /** Fill `vector` of hybrid/nearVector searches that give `text` instead (your embedding model). */
  embed?: (text: string) => number[] | Promise<number[]>;
  /**
   * The prom-client registry the executor's metrics are registered into; `GET /metrics` serves
   * this registry (so, given the host's, everything in it). @default a new Registry
   */
  registry?: Registry;
  /** Options of the metrics (prefix, buckets). */
  metrics?: Omit<ExecutorMetricsOptions, 'registry'>;
  /** Serve `GET /metrics` (false: the host serves its registry itself). @default true */
  metricsRoute?: boolean;
  /** Serve the live dashboard page at `GET /vector-store/dashboard`. @default true */
  dashboardRoute?: boolean;
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
    consistencyLevel: { type: 'string', enum: ['ONE', 'QUORUM', 'ALL'] },
    queryProperties: { type: 'array', items: { type: 'string' } },
    distance: { type: 'number' },
    certainty: { type: 'number' },
    sort: { type: 'object' },
    lane: { type: 'string', maxLength: 32 },
    deadlineMs: { type: 'number', exclusiveMinimum: 0 },
  },
  // Unknown fields are refused by validateSpec (400 naming the field), not here: a host app's
  // ajv (fastify's default: removeAdditional) would silently strip them under `false`.
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

const executorRoutes: FastifyPluginAsync<ExecutorPluginOptions> = async (app, options) => {
  const executor = options.executor;
  if (!executor || typeof executor.query !== 'function' || typeof executor.stats !== 'function') {
    throw new TypeError('Expected `executor` to be an executor (createExecutor()), got ' + typeof executor);
  }
  const metrics = registerExecutorMetrics(executor as MetricsSource, { ...options.metrics, ...(options.registry ? { registry: options.registry } : {}) });
  app.addHook('onClose', async () => metrics.unregister());

  app.setErrorHandler((error: Error & { validation?: unknown; statusCode?: number; code?: string }, _request, reply) => {
    if (error.validation) {
      const field = /body\/?([^ ]*)/.exec((error as { validationContext?: string; message: string }).message)?.[1]?.replace(/\//g, '.') ?? '';
      return sendError(reply, new ValidationError(`Invalid request: ${error.message}`, { field }));
    }
    if (error.statusCode === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({ success: false, error: { code: 'WEX_VALIDATION', message: `Request body larger than the body limit` } });
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

  if (options.dashboardRoute !== false) {
    // Self-contained: inline CSS and JS, no request but its own stats route; nothing else may load.
    const page = dashboardHtml();
    app.get('/vector-store/dashboard', async (_request, reply) =>
      reply
        .type('text/html; charset=utf-8')
        .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:")
        .header('cache-control', 'no-store')
        .send(page),
    );
  }

  app.get('/vector-store/pool/connections', async () => ({ success: true, connections: await executor.connectionList() }));

  if (options.metricsRoute !== false) {
    app.get('/metrics', async (_request, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));
  }

  app.post('/vector-store/search', { schema: { body: searchBody } }, async (request, reply) => {
    const { lane, deadlineMs, text, ...spec } = request.body as Record<string, unknown>;
    if (text !== undefined && spec['vector'] === undefined && options.embed && (spec['kind'] === 'hybrid' || spec['kind'] === 'nearVector')) {
      spec['vector'] = await options.embed(String(text));
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

};

/** The executor's routes, to register into your fastify app (see the top of this file). */
export const weaviateExecutorPlugin = fp(executorRoutes, { name: 'weaviate-executor', fastify: '5.x', encapsulate: true });
export default weaviateExecutorPlugin;
