/**
 * The pool's configuration: the note's environment variables (same names, same units), the
 * options object that mirrors them in milliseconds, one table of defaults, and one resolve step
 * that validates everything once and returns a frozen object. Precedence: options > env > defaults.
 */
import { Secret, sealHeaders } from '../secret.ts';
import { registerSecret } from '../redact.ts';
import type { WeaviateTarget } from '../weaviate/target.ts';
import * as v from '../validate.ts';
import { resolveTls, type TlsOptions } from '../weaviate/tls.ts';
import { NODES_ENV, resolveNodes, type NodeAddress } from '../cluster/nodes.ts';
import { OUTLIER_DEFAULTS, type OutlierConfig } from '../cluster/outlier.ts';
import { HEDGE_DEFAULTS, type HedgeConfig } from '../cluster/hedge.ts';
import { resolveNodeAdaptive, type NodeAdaptiveConfig } from '../cluster/node-limit.ts';
import type { AdaptiveLimitOptions } from '../engine/adaptive-limit.ts';
import { QUERY_PATHS, VECTOR_FORMATS, type QueryPath, type VectorFormat } from '../wire/options.ts';

// The target's type lives with the Weaviate code; re-exported here so existing imports keep working.
export type { WeaviateTarget } from '../weaviate/target.ts';

export type FallbackMode = 'none' | 'single-connection';

export interface PoolConfig {
  /** Pool on, or one plain connection (legacy mode). Env `VECTOR_STORE_USE_POOL`. @default true */
  enabled: boolean;
  /** Connections opened at start and kept open. Env `VECTOR_STORE_MIN_CONNECTIONS`. @default 2 */
  minConnections: number;
  /** Upper bound of open connections. Env `VECTOR_STORE_MAX_CONNECTIONS`. @default 10 */
  maxConnections: number;
  /**
   * Requests one connection carries at once (gRPC multiplexes calls over one HTTP/2 socket);
   * 1 lends each connection to one caller at a time, as the note's pool did.
   * Env `VECTOR_STORE_STREAMS_PER_CONNECTION`. @default 4
   */
  maxStreamsPerConnection: number;
  /** Age after which a connection is recycled. Env `VECTOR_STORE_CONNECTION_LIFETIME` (seconds). @default 3_600_000 */
  connectionLifetimeMs: number;
  /** Each connection's lifetime is shortened by a random fraction up to this, so they do not all expire together. @default 0.1 */
  lifetimeJitter: number;
  /** Time between health checks of open connections (idle or leased). Env `VECTOR_STORE_HEALTH_CHECK_INTERVAL` (seconds). @default 60_000 */
  healthCheckIntervalMs: number;
  /** Idle connections above min are closed after this long unused. Env `VECTOR_STORE_IDLE_TIMEOUT` (seconds). @default 600_000 */
  idleTimeoutMs: number;
  /** Bound of one health check. Env `VECTOR_STORE_HEALTH_CHECK_TIMEOUT` (seconds). @default 5_000 */
  healthCheckTimeoutMs: number;
  /** Default bound of `acquire()`. Env `VECTOR_STORE_ACQUIRE_TIMEOUT` (seconds). @default 30_000 */
  acquireTimeoutMs: number;
  /** Bound of opening one connection, and of the warm-up at start. Env `VECTOR_STORE_CONNECT_TIMEOUT` (seconds). @default 10_000 */
  connectTimeoutMs: number;
  /** Warn (with the acquiring stack) about a lease held longer than this; 0 turns it off. Env `VECTOR_STORE_LEAK_DETECTION_THRESHOLD` (seconds). @default 60_000 */
  leakDetectionThresholdMs: number;
  /** First delay before re-creating a connection after a failure. @default 50 */
  reconnectBaseMs: number;
  /** Cap of the (exponential, fully jittered) re-create delay. @default 1_000 */
  reconnectMaxMs: number;
  /** Callers allowed to wait for a connection at once; more get WaitQueueFullError. @default 10_000 */
  maxWaiters: number;
  /** On an acquire time-out, `'single-connection'` serves the caller from one extra plain connection (opt-in, counted in stats). Env `VECTOR_STORE_FALLBACK`. @default 'none' */
  fallback: FallbackMode;
  /** Sockets the pool's REST traffic may open to Weaviate (schema, meta, single-object CRUD). Env `VECTOR_STORE_REST_MAX_SOCKETS`. @default 2 */
  restMaxSockets: number;
  /**
   * gRPC keepalive ping interval while calls are in flight. Weaviate's gRPC server (grpc-go with
   * its default enforcement policy) closes connections that ping more often than every 5 minutes,
   * so this stays at 5 min; idle connections are proven by health checks instead. @default 300_000
   */
  keepaliveTimeMs: number;
  /** How long a keepalive ping may stay unanswered before the socket is declared dead. @default 20_000 */
  keepaliveTimeoutMs: number;
  /** The weaviate-client's own per-query time-out (its default is 30 s). @default 30_000 */
  queryTimeoutMs: number;
  /**
   * How the engine's own read specs reach Weaviate on pooled connections: `lean` (request and
   * reply coded directly on the connection's gRPC channel, src/wire) or `client`
   * (weaviate-client's `collection.query.*`). Tasks always get the full weaviate-client.
   * Env `VECTOR_STORE_QUERY_PATH`. @default 'lean'
   */
  queryPath: QueryPath;
  /**
   * Result vectors of the lean path: arrays of numbers, or `float32` (Float32Array: cheaper to
   * build and to move across threads, but not a JSON array). Env `VECTOR_STORE_VECTORS`. @default 'array'
   */
  vectors: VectorFormat;
  /**
   * Several nodes (`weaviate.nodes`): when a node is ejected and readmitted (src/cluster/outlier.ts).
   * Envoy's defaults: 5 failures, 30 s x n capped at 300 s, 10 % ejected at most, panic below 50 %.
   */
  outlierDetection: Readonly<OutlierConfig>;
  /** Several nodes: hedged reads, opt-in per lane (src/cluster/hedge.ts). @default off */
  hedge: Readonly<HedgeConfig>;
  /**
   * Several nodes: how a read picks its node. `'least-loaded'`: power of two choices over
   * outstanding x latency EWMA (src/cluster/choose.ts); `'round-robin'`: in turn, blind to load
   * (kept as the comparison bench/cluster.ts measures). @default 'least-loaded'
   */
  balancing: BalancingMode;
  /**
   * Several nodes: an adaptive concurrency limit per node (Gradient2 from that node's measured
   * round trips, src/cluster/node-limit.ts), resolved; undefined when off. The node choice skips
   * a node at its limit; with every node at its limit a request waits for the first free node
   * slot (bounded like a connection wait). `true` takes the defaults of src/engine/adaptive-limit.ts
   * (max: each node pool's slots); an object sets them. Env `VECTOR_STORE_NODE_ADAPTIVE` (true/false).
   * @default undefined (off)
   */
  nodeAdaptive: Readonly<NodeAdaptiveConfig> | undefined;
  weaviate: Readonly<WeaviateTarget>;
}

/** What `weaviate` accepts: the target's fields, with `tls` as PEM text or file paths. */
export type WeaviateOptions = Partial<Omit<WeaviateTarget, 'tls' | 'nodes' | 'apiKey'>> & {
  /** A string, or a Secret (src/secret.ts) as a resolved configuration holds it. */
  apiKey?: string | Secret | undefined;
  tls?: TlsOptions | undefined;
  /** `[{ host, httpPort, grpcPort }, ...]`, or `'host:httpPort:grpcPort,...'` as in WEAVIATE_NODES. */
  nodes?: readonly (NodeAddress | string)[] | string | undefined;
};

export type PoolOptions = Partial<Omit<PoolConfig, 'weaviate' | 'outlierDetection' | 'hedge' | 'nodeAdaptive'>> & {
  weaviate?: WeaviateOptions;
  outlierDetection?: Partial<OutlierConfig>;
  hedge?: Partial<HedgeConfig>;
  /** Per-node adaptive concurrency limits (several nodes): `true`, or the limit's options (`protect` excepted). @default false */
  nodeAdaptive?: boolean | Omit<AdaptiveLimitOptions, 'protect'>;
};

export type BalancingMode = 'least-loaded' | 'round-robin';

export const POOL_DEFAULTS: Readonly<Omit<PoolConfig, 'weaviate' | 'outlierDetection' | 'hedge' | 'nodeAdaptive'>> = Object.freeze({
  enabled: true,
  minConnections: 2,
  maxConnections: 10,
  maxStreamsPerConnection: 4,
  connectionLifetimeMs: 3_600_000,
  lifetimeJitter: 0.1,
  healthCheckIntervalMs: 60_000,
  healthCheckTimeoutMs: 5_000,
  idleTimeoutMs: 600_000,
  acquireTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  leakDetectionThresholdMs: 60_000,
  reconnectBaseMs: 50,
  reconnectMaxMs: 1_000,
  maxWaiters: 10_000,
  fallback: 'none',
  balancing: 'least-loaded',
  restMaxSockets: 2,
  keepaliveTimeMs: 300_000,
  keepaliveTimeoutMs: 20_000,
  queryTimeoutMs: 30_000,
  queryPath: 'lean',
  vectors: 'array',
});

export const TARGET_DEFAULTS: Readonly<Omit<WeaviateTarget, 'grpcHost'>> = Object.freeze({
  host: 'localhost',
  httpPort: 8080,
  grpcPort: 50051,
  secure: false,
  apiKey: undefined,
  headers: {},
});

/** The environment variables the pool reads, and the option each one sets. Seconds in env, ms in options. */
export const POOL_ENV = Object.freeze({
  VECTOR_STORE_USE_POOL: 'enabled',
  VECTOR_STORE_MIN_CONNECTIONS: 'minConnections',
  VECTOR_STORE_MAX_CONNECTIONS: 'maxConnections',
  VECTOR_STORE_STREAMS_PER_CONNECTION: 'maxStreamsPerConnection',
  VECTOR_STORE_CONNECTION_LIFETIME: 'connectionLifetimeMs',
  VECTOR_STORE_HEALTH_CHECK_INTERVAL: 'healthCheckIntervalMs',
  VECTOR_STORE_HEALTH_CHECK_TIMEOUT: 'healthCheckTimeoutMs',
  VECTOR_STORE_IDLE_TIMEOUT: 'idleTimeoutMs',
  VECTOR_STORE_ACQUIRE_TIMEOUT: 'acquireTimeoutMs',
  VECTOR_STORE_CONNECT_TIMEOUT: 'connectTimeoutMs',
  VECTOR_STORE_LEAK_DETECTION_THRESHOLD: 'leakDetectionThresholdMs',
  VECTOR_STORE_FALLBACK: 'fallback',
  VECTOR_STORE_REST_MAX_SOCKETS: 'restMaxSockets',
  VECTOR_STORE_QUERY_PATH: 'queryPath',
  VECTOR_STORE_VECTORS: 'vectors',
  VECTOR_STORE_NODE_ADAPTIVE: 'nodeAdaptive',
} as const);

export const TARGET_ENV = Object.freeze({
  WEAVIATE_HOST: 'host',
  WEAVIATE_PORT: 'httpPort',
  WEAVIATE_GRPC_HOST: 'grpcHost',
  WEAVIATE_GRPC_PORT: 'grpcPort',
  WEAVIATE_SECURE: 'secure',
  WEAVIATE_API_KEY: 'apiKey',
} as const);

/** The longest delay a Node timer takes. */
export const MAX_TIMER_MS = 2_147_483_647;

const SECONDS_IN_ENV = new Set([
  'connectionLifetimeMs',
  'healthCheckIntervalMs',
  'healthCheckTimeoutMs',
  'idleTimeoutMs',
  'acquireTimeoutMs',
  'connectTimeoutMs',
  'leakDetectionThresholdMs',
]);

type Env = Readonly<Record<string, string | undefined>>;

/** Read one field: the option if given, else the env variable if set (non-empty), else the default. */
function pick(
  options: Record<string, unknown>,
  optionPrefix: string,
  key: string,
  env: Env,
  envName: string | undefined,
): { value: unknown; source: v.Source } | undefined {
  if (options[key] !== undefined) return { value: options[key], source: { name: `${optionPrefix}${key}`, kind: 'option' } };
  if (envName !== undefined) {
    const raw = env[envName];
    if (raw !== undefined && raw !== '') return { value: raw, source: { name: envName, kind: 'env' } };
  }
  return undefined;
}

function envNameOf(table: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.entries(table).find(([, k]) => k === key)?.[0];
}

export function resolveTarget(options: WeaviateOptions = {}, env: Env = process.env, prefix = 'weaviate.'): WeaviateTarget {
  v.knownKeys({ name: prefix.replace(/\.$/, ''), kind: 'option' }, options, [
    'host', 'httpPort', 'grpcHost', 'grpcPort', 'secure', 'apiKey', 'headers', 'tls', 'nodes',
  ]);
  const nodes = resolveNodes(options.nodes, env[NODES_ENV], prefix);
  if (nodes && nodes.length > 0) {
    // The first node is the target's own address (start-up check, schema reads).
    options = { ...options, host: nodes[0]!.host, httpPort: nodes[0]!.httpPort, grpcHost: nodes[0]!.host, grpcPort: nodes[0]!.grpcPort };
  }
  const get = (key: keyof WeaviateTarget) => pick(options, prefix, key, env, envNameOf(TARGET_ENV, key));
  const host = get('host');
  const httpPort = get('httpPort');
  const grpcHost = get('grpcHost');
  const grpcPort = get('grpcPort');
  const secure = get('secure');
  const apiKey = get('apiKey');
  const resolvedHost = host ? v.string(host.source, host.value) : TARGET_DEFAULTS.host;
  const tls = resolveTls(options.tls, env, `${prefix}tls`);
  const secureValue = secure ? v.boolean(secure.source, secure.value) : tls !== undefined;
  if (tls && !secureValue) {
    v.conflict(`TLS settings (\`${prefix}tls\` / WEAVIATE_TLS_*) were given but \`${secure?.source.name ?? 'secure'}\` is false`, { option: `${prefix}tls` });
  }
  const target: WeaviateTarget = {
    host: resolvedHost,
    httpPort: httpPort ? v.port(httpPort.source, httpPort.value) : TARGET_DEFAULTS.httpPort,
    grpcHost: grpcHost ? v.string(grpcHost.source, grpcHost.value) : resolvedHost,
    grpcPort: grpcPort ? v.port(grpcPort.source, grpcPort.value) : TARGET_DEFAULTS.grpcPort,
    secure: secureValue,
    apiKey: apiKey ? (apiKey.value instanceof Secret ? apiKey.value : new Secret(v.string(apiKey.source, apiKey.value))) : undefined,
    headers: {},
    ...(tls ? { tls } : {}),
    ...(nodes && nodes.length > 1 ? { nodes: Object.freeze(nodes) } : {}),
  };
  if (options.headers !== undefined) {
    const headers = v.plainObject({ name: `${prefix}headers`, kind: 'option' }, options.headers);
    const out: Record<string, string> = {};
    for (const [k, value] of Object.entries(headers)) {
      out[k] = v.string({ name: `${prefix}headers.${k}`, kind: 'option' }, value, { nonEmpty: false });
      registerSecret(out[k]);
    }
    target.headers = sealHeaders(out);
  }
  return Object.freeze(target);
}

export function resolvePoolConfig(options: PoolOptions = {}, env: Env = process.env): Readonly<PoolConfig> {
  v.plainObject({ name: 'pool options', kind: 'option' }, options);
  const { weaviate, outlierDetection, hedge, nodeAdaptive, ...rest } = options;
  v.knownKeys({ name: '', kind: 'option' }, rest, Object.keys(POOL_DEFAULTS));
  const field = (key: keyof typeof POOL_DEFAULTS) => pick(rest, '', key, env, envNameOf(POOL_ENV, key));
  const ms = (key: keyof typeof POOL_DEFAULTS, min: number, exclusiveMin: boolean): number => {
    const f = field(key);
    if (!f) return POOL_DEFAULTS[key] as number;
    const seconds = f.source.kind === 'env' && SECONDS_IN_ENV.has(key);
    // Node timers overflow above 2^31-1 ms (~24.8 days) and would fire at once.
    const max = seconds ? MAX_TIMER_MS / 1000 : MAX_TIMER_MS;
    const n = v.number(f.source, f.value, { min, max, exclusiveMin, unit: seconds ? 'seconds' : 'ms' });
    return Math.round(seconds ? n * 1000 : n);
  };
  const int = (key: keyof typeof POOL_DEFAULTS, min: number, max?: number): number => {
    const f = field(key);
    return f ? v.integer(f.source, f.value, min, max) : (POOL_DEFAULTS[key] as number);
  };
  const oneOf = <T extends string>(key: keyof typeof POOL_DEFAULTS, allowed: readonly T[]): T => {
    const f = field(key);
    return f ? v.oneOf(f.source, f.value, allowed) : (POOL_DEFAULTS[key] as T);
  };
  const enabledField = field('enabled');
  const fallbackField = field('fallback');
  const balancingField = field('balancing');
  const jitterField = field('lifetimeJitter');

  const config: PoolConfig = {
    enabled: enabledField ? v.boolean(enabledField.source, enabledField.value) : POOL_DEFAULTS.enabled,
    minConnections: int('minConnections', 0, 1000),
    maxConnections: int('maxConnections', 1, 1000),
    maxStreamsPerConnection: int('maxStreamsPerConnection', 1, 1000),
    connectionLifetimeMs: ms('connectionLifetimeMs', 0, true),
    lifetimeJitter: jitterField
      ? v.number(jitterField.source, jitterField.value, { min: 0, max: 0.5 })
      : POOL_DEFAULTS.lifetimeJitter,
    healthCheckIntervalMs: ms('healthCheckIntervalMs', 0, true),
    healthCheckTimeoutMs: ms('healthCheckTimeoutMs', 0, true),
    idleTimeoutMs: ms('idleTimeoutMs', 0, true),
    acquireTimeoutMs: ms('acquireTimeoutMs', 0, true),
    connectTimeoutMs: ms('connectTimeoutMs', 0, true),
    leakDetectionThresholdMs: ms('leakDetectionThresholdMs', 0, false),
    reconnectBaseMs: ms('reconnectBaseMs', 0, true),
    reconnectMaxMs: ms('reconnectMaxMs', 0, true),
    maxWaiters: int('maxWaiters', 0),
    fallback: fallbackField
      ? v.oneOf(fallbackField.source, fallbackField.value, ['none', 'single-connection'] as const)
      : POOL_DEFAULTS.fallback,
    balancing: balancingField
      ? v.oneOf(balancingField.source, balancingField.value, ['least-loaded', 'round-robin'] as const)
      : POOL_DEFAULTS.balancing,
    restMaxSockets: int('restMaxSockets', 1, 1000),
    keepaliveTimeMs: ms('keepaliveTimeMs', 0, true),
    keepaliveTimeoutMs: ms('keepaliveTimeoutMs', 0, true),
    queryTimeoutMs: ms('queryTimeoutMs', 0, true),
    queryPath: oneOf('queryPath', QUERY_PATHS),
    vectors: oneOf('vectors', VECTOR_FORMATS),
    outlierDetection: resolveOutlier(outlierDetection),
    hedge: resolveHedge(hedge),
    nodeAdaptive: undefined,
    weaviate: resolveTarget(weaviate, env),
  };
  config.nodeAdaptive = resolveNodeAdaptiveOption(nodeAdaptive, env, config.maxConnections * config.maxStreamsPerConnection);

  // Conflicts between values, each named with both sides.
  const nameOf = (key: keyof typeof POOL_DEFAULTS) => field(key)?.source.name ?? key;
  if (config.minConnections > config.maxConnections) {
    v.conflict(
      `\`${nameOf('minConnections')}\` (${config.minConnections}) must be <= \`${nameOf('maxConnections')}\` (${config.maxConnections})`,
      { option: nameOf('minConnections'), value: config.minConnections, maxConnections: config.maxConnections },
    );
  }
  if (config.reconnectBaseMs > config.reconnectMaxMs) {
    v.conflict(`\`reconnectBaseMs\` (${config.reconnectBaseMs}) must be <= \`reconnectMaxMs\` (${config.reconnectMaxMs})`, {
      option: 'reconnectBaseMs',
      value: config.reconnectBaseMs,
    });
  }
  if (config.healthCheckTimeoutMs > config.healthCheckIntervalMs) {
    v.conflict(
      `\`${nameOf('healthCheckTimeoutMs')}\` (${config.healthCheckTimeoutMs} ms) must be <= \`${nameOf('healthCheckIntervalMs')}\` (${config.healthCheckIntervalMs} ms)`,
      { option: nameOf('healthCheckTimeoutMs'), value: config.healthCheckTimeoutMs },
    );
  }
  return Object.freeze(config);
}

function resolveOutlier(option: unknown): Readonly<OutlierConfig> {
  if (option === undefined) return OUTLIER_DEFAULTS;
  const source = (k: string): v.Source => ({ name: `outlierDetection.${k}`, kind: 'option' });
  const o = v.plainObject({ name: 'outlierDetection', kind: 'option' }, option);
  v.knownKeys({ name: 'outlierDetection', kind: 'option' }, o, Object.keys(OUTLIER_DEFAULTS));
  const get = (k: keyof OutlierConfig, min: number, max: number, integer = false) =>
    o[k] === undefined ? OUTLIER_DEFAULTS[k] : integer ? v.integer(source(k), o[k], min, max) : v.number(source(k), o[k], { min, max });
  const config: OutlierConfig = {
    consecutiveFailures: get('consecutiveFailures', 1, 1000, true),
    baseEjectionMs: get('baseEjectionMs', 1, MAX_TIMER_MS),
    maxEjectionMs: get('maxEjectionMs', 1, MAX_TIMER_MS),
    maxEjectionPercent: get('maxEjectionPercent', 0, 100),
    panicThresholdPercent: get('panicThresholdPercent', 0, 100),
    intervalMs: get('intervalMs', 1, MAX_TIMER_MS),
    successRateRequestVolume: get('successRateRequestVolume', 1, 1e9, true),
    successRateMinimumHosts: get('successRateMinimumHosts', 1, 1000, true),
    successRateStdevFactor: get('successRateStdevFactor', 0, 100),
    failurePercentageThreshold: get('failurePercentageThreshold', 0, 100),
  };
  if (config.baseEjectionMs > config.maxEjectionMs) {
    v.conflict(`\`outlierDetection.baseEjectionMs\` (${config.baseEjectionMs}) must be <= \`outlierDetection.maxEjectionMs\` (${config.maxEjectionMs})`, { option: 'outlierDetection.baseEjectionMs' });
  }
  return Object.freeze(config);
}

/** `nodeAdaptive` (option: a boolean or the limit's options) or VECTOR_STORE_NODE_ADAPTIVE (a boolean). */
function resolveNodeAdaptiveOption(option: unknown, env: Env, slots: number): Readonly<NodeAdaptiveConfig> | undefined {
  const f = pick({ nodeAdaptive: option }, '', 'nodeAdaptive', env, envNameOf(POOL_ENV, 'nodeAdaptive'));
  if (!f) return undefined;
  if (f.source.kind === 'env' || typeof f.value === 'boolean') return resolveNodeAdaptive(f.source.name, v.boolean(f.source, f.value), slots);
  if (typeof f.value !== 'object' || f.value === null || Array.isArray(f.value)) v.fail(f.source, 'a boolean or an object of adaptive limit options', f.value);
  const o = v.plainObject(f.source, f.value);
  // [] is what a resolved configuration holds (workers resolve the main thread's config again).
  if (o['protect'] !== undefined && !(Array.isArray(o['protect']) && o['protect'].length === 0)) v.fail({ name: 'nodeAdaptive.protect', kind: 'option' }, 'unset (a node limit has no tail guard; it answers to the node\'s own latency)', o['protect']);
  // A resolved configuration's marker (workers resolve the main thread's config again).
  const { maxLimitFromSlots, ...rest } = o;
  if (maxLimitFromSlots !== undefined && typeof maxLimitFromSlots !== 'boolean') v.fail({ name: 'nodeAdaptive.maxLimitFromSlots', kind: 'option' }, 'a boolean', maxLimitFromSlots);
  return resolveNodeAdaptive('nodeAdaptive', rest as AdaptiveLimitOptions, slots, maxLimitFromSlots);
}

function resolveHedge(option: unknown): Readonly<HedgeConfig> {
  if (option === undefined) return HEDGE_DEFAULTS;
  const o = v.plainObject({ name: 'hedge', kind: 'option' }, option);
  v.knownKeys({ name: 'hedge', kind: 'option' }, o, Object.keys(HEDGE_DEFAULTS));
  const lanes = o['lanes'] === undefined ? [] : o['lanes'];
  if (!Array.isArray(lanes) || lanes.some((l) => typeof l !== 'string')) v.fail({ name: 'hedge.lanes', kind: 'option' }, 'an array of lane names', lanes);
  return Object.freeze({
    lanes: Object.freeze([...(lanes as string[])]),
    maxExtraPercent: o['maxExtraPercent'] === undefined ? HEDGE_DEFAULTS.maxExtraPercent : v.number({ name: 'hedge.maxExtraPercent', kind: 'option' }, o['maxExtraPercent'], { min: 0, max: 100 }),
    minDelayMs: o['minDelayMs'] === undefined ? HEDGE_DEFAULTS.minDelayMs : v.number({ name: 'hedge.minDelayMs', kind: 'option' }, o['minDelayMs'], { min: 0, max: MAX_TIMER_MS }),
  });
}
