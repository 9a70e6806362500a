/**
 * The whole configuration `start` reads from the environment, validated at once, before
 * anything is built or started: the executor's (pool, target, workers, lanes, deadlines,
 * autoscale), the HTTP server's and the log level. A wrong value throws the same ConfigError
 * the executor would throw later, naming the variable; unknown `VECTOR_STORE_*` names (typos
 * that would silently fall back to a default) come back as warnings.
 */
import { existsSync } from 'node:fs';
import { ENGINE_ENV, resolveExecutorConfig } from '../engine/config.ts';
import { POOL_ENV, TARGET_ENV } from '../pool/config.ts';
import { resolveServerOptions } from '../server/http.ts';
import * as v from '../validate.ts';

type Env = Readonly<Record<string, string | undefined>>;

const HTTP_ENV = ['VECTOR_STORE_HTTP_HOST', 'VECTOR_STORE_HTTP_PORT', 'VECTOR_STORE_HTTP_TOKEN'];
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface CheckedStartConfig {
  /** One line saying what will run. */
  summary: string;
  warnings: string[];
}

export function checkStartConfig(env: Env = process.env): CheckedStartConfig {
  const config = resolveExecutorConfig({}, env);
  const server = resolveServerOptions({}, env);
  if (env['LOG_LEVEL'] !== undefined) v.oneOf({ name: 'LOG_LEVEL', kind: 'env' }, env['LOG_LEVEL'], LOG_LEVELS);
  const bin = env['WEAVIATE_BIN'];
  if (bin && !existsSync(bin)) v.fail({ name: 'WEAVIATE_BIN', kind: 'env' }, 'the path of a weaviate-server binary that exists', bin);

  const known = new Set<string>([...Object.keys(POOL_ENV), ...Object.keys(ENGINE_ENV), ...HTTP_ENV, ...Object.keys(TARGET_ENV)]);
  const warnings = Object.keys(env)
    .filter((name) => name.startsWith('VECTOR_STORE_') && !known.has(name))
    .map((name) => `\`${name}\` is not a setting this version reads (typo?); known: ${[...known].filter((k) => k.startsWith('VECTOR_STORE_')).sort().join(', ')}`);
  const p = config.pool;
  const w = p.weaviate;
  const security = `${w.secure ? ` over TLS${w.tls?.ca !== undefined ? ' (CA from config)' : ''}` : ''}${w.apiKey ? ', API key set' : ''}`;
  const target = w.nodes
    ? `Weaviate cluster of ${w.nodes.length} nodes (${w.nodes.map((n) => `${n.host}:${n.httpPort}`).join(', ')})${security}`
    : env['WEAVIATE_HOST'] || env['WEAVIATE_PORT'] ? `Weaviate at ${w.host}:${w.httpPort}${security}` : 'a local Weaviate (started here)';
  // An adaptive lane says which lanes its tail guard answers to (`protect`, default critical), as resolved.
  const lanes = config.lanes.map((l) => `${l.name}${l.adaptive ? ` (adaptive${l.adaptive.protect.length ? `, guards ${l.adaptive.protect.join('|')}` : ''})` : ''}`).join(', ');
  return {
    summary: `${target}; connections ${p.minConnections}..${p.maxConnections}, ${config.workers} worker(s), lanes ${lanes}; HTTP on ${server.host}:${server.port}`,
    warnings,
  };
}
