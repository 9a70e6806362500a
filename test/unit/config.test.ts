import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { inspect } from 'node:util';
import { POOL_DEFAULTS, resolvePoolConfig } from '../../src/pool/config.ts';
import { resolveExecutorConfig } from '../../src/engine/config.ts';
import { Secret, revealSecret } from '../../src/secret.ts';
import { authHeaders } from '../../src/weaviate/target.ts';
import { nodeTlsOptions } from '../../src/weaviate/tls.ts';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('pool configuration', () => {
  it('has the note defaults', () => {
    const c = resolvePoolConfig({}, {});
    expect(c).toMatchObject({
      enabled: true,
      minConnections: 2,
      maxConnections: 10,
      connectionLifetimeMs: 3_600_000,
      healthCheckIntervalMs: 60_000,
      acquireTimeoutMs: 30_000,
      fallback: 'none',
    });
    expect(c.weaviate).toMatchObject({ host: 'localhost', httpPort: 8080, grpcPort: 50051, secure: false });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads the note env variables, seconds in env and ms in options', () => {
    const c = resolvePoolConfig({}, {
      VECTOR_STORE_USE_POOL: 'false',
      VECTOR_STORE_MIN_CONNECTIONS: '3',
      VECTOR_STORE_MAX_CONNECTIONS: '7',
      VECTOR_STORE_CONNECTION_LIFETIME: '120',
      VECTOR_STORE_HEALTH_CHECK_INTERVAL: '15',
      WEAVIATE_HOST: 'weaviate.internal',
      WEAVIATE_PORT: '9090',
      WEAVIATE_GRPC_PORT: '50052',
    });
    expect(c).toMatchObject({ enabled: false, minConnections: 3, maxConnections: 7, connectionLifetimeMs: 120_000, healthCheckIntervalMs: 15_000 });
    expect(c.weaviate).toMatchObject({ host: 'weaviate.internal', grpcHost: 'weaviate.internal', httpPort: 9090, grpcPort: 50052 });
  });

  it('options win over env', () => {
    const c = resolvePoolConfig({ maxConnections: 4 }, { VECTOR_STORE_MAX_CONNECTIONS: '20' });
    expect(c.maxConnections).toBe(4);
  });

  it.each([
    [{ VECTOR_STORE_MIN_CONNECTIONS: 'abc' }, 'Expected `VECTOR_STORE_MIN_CONNECTIONS` to be an integer between 0 and 1000, got `abc` (string)'],
    [{ VECTOR_STORE_MAX_CONNECTIONS: '0' }, 'Expected `VECTOR_STORE_MAX_CONNECTIONS` to be an integer between 1 and 1000, got `0` (string)'],
    [{ VECTOR_STORE_CONNECTION_LIFETIME: '-5' }, 'Expected `VECTOR_STORE_CONNECTION_LIFETIME` to be a finite number > 0 and <= 2147483.647 (seconds), got `-5` (string)'],
    [{ VECTOR_STORE_CONNECTION_LIFETIME: '0' }, 'to be a finite number > 0'],
    [{ VECTOR_STORE_USE_POOL: 'maybe' }, 'Expected `VECTOR_STORE_USE_POOL` to be a boolean'],
    [{ WEAVIATE_PORT: '70000' }, 'Expected `WEAVIATE_PORT` to be an integer between 1 and 65535, got `70000` (string)'],
    [{ VECTOR_STORE_FALLBACK: 'empty' }, "Expected `VECTOR_STORE_FALLBACK` to be one of 'none', 'single-connection', got `empty` (string)"],
  ])('rejects bad env %j, naming the variable and the value', (env, message) => {
    const e = configError(() => resolvePoolConfig({}, env));
    expect(e.message).toContain(message);
    expect(e.code).toBe('WEX_CONFIG_INVALID');
    expect(e.details['variable']).toBe(Object.keys(env)[0]);
  });

  it('rejects bad options, naming the option and the value', () => {
    expect(configError(() => resolvePoolConfig({ maxConnections: 2.5 }, {})).message).toBe(
      'Expected `maxConnections` to be an integer between 1 and 1000, got `2.5` (number)',
    );
    expect(configError(() => resolvePoolConfig({ acquireTimeoutMs: Number.NaN }, {})).message).toMatch(/`acquireTimeoutMs`.*`NaN`/);
    expect(configError(() => resolvePoolConfig({ minConnections: '2' as unknown as number }, {})).message).toMatch(/`minConnections`.*\(string\)/);
    expect(configError(() => resolvePoolConfig({ maxConnection: 3 } as never, {})).message).toMatch(/Unknown option `maxConnection`/);
  });

  it('rejects conflicting values with both sides named', () => {
    const e = configError(() => resolvePoolConfig({}, { VECTOR_STORE_MIN_CONNECTIONS: '12', VECTOR_STORE_MAX_CONNECTIONS: '10' }));
    expect(e.message).toBe('`VECTOR_STORE_MIN_CONNECTIONS` (12) must be <= `VECTOR_STORE_MAX_CONNECTIONS` (10)');
    expect(configError(() => resolvePoolConfig({ minConnections: 5, maxConnections: 3 }, {})).message).toBe(
      '`minConnections` (5) must be <= `maxConnections` (3)',
    );
    expect(configError(() => resolvePoolConfig({ healthCheckIntervalMs: 1000, healthCheckTimeoutMs: 5000 }, {})).message).toMatch(
      /healthCheckTimeoutMs.*must be <=.*healthCheckIntervalMs/,
    );
  });

  it('never puts an API key into an error message', () => {
    const key = 'sk-test-very-secret-key-123';
    resolvePoolConfig({ weaviate: { apiKey: key } }, {});
    const e = configError(() => resolvePoolConfig({ weaviate: { apiKey: key, httpPort: -1 } }, {}));
    expect(e.message).not.toContain(key);
    expect(JSON.stringify(e.toJSON())).not.toContain(key);
  });

  it('the resolved configuration holds the API key so that no dump shows it; the transport still gets it', () => {
    const key = 'sk-test-dump-secret-key-456';
    const fromEnv = resolveExecutorConfig({ workers: 1 }, { WEAVIATE_API_KEY: key, WEAVIATE_NODES: 'n1=a:1:2,b:3:4' });
    const fromOption = resolvePoolConfig({ weaviate: { apiKey: key, headers: { 'X-Vectorizer-Api-Key': key } } }, {});
    for (const config of [fromEnv, fromOption]) {
      const dumps = [
        JSON.stringify(config),
        inspect(config, { depth: 10, showHidden: true }),
        String((config as { pool?: { weaviate: unknown } }).pool?.weaviate ?? (config as { weaviate: unknown }).weaviate),
        `${JSON.stringify(Object.entries((config as { pool?: { weaviate: object } }).pool?.weaviate ?? (config as { weaviate: object }).weaviate))}`,
        // A structured clone carries no Secret's value (header values it does carry: the transport's copy for workers).
        JSON.stringify(structuredClone({ apiKey: ((config as { pool?: { weaviate: { apiKey: unknown } } }).pool?.weaviate ?? (config as { weaviate: { apiKey: unknown } }).weaviate).apiKey })),
        `${(config as { pool?: { weaviate: { apiKey: unknown } } }).pool?.weaviate.apiKey ?? (config as { weaviate: { apiKey: unknown } }).weaviate.apiKey}`,
      ];
      for (const dump of dumps) expect(dump).not.toContain(key);
      expect(dumps[0]).toContain('[REDACTED]');
    }
    // The transport gets it: the bearer header, and a configuration built from a resolved one keeps it.
    expect(authHeaders(fromOption.weaviate)).toEqual({ 'X-Vectorizer-Api-Key': key, authorization: `Bearer ${key}` });
    expect(JSON.stringify(fromOption.weaviate.headers)).toBe('{"X-Vectorizer-Api-Key":"[REDACTED]"}');
    expect(revealSecret(fromEnv.pool.weaviate.apiKey)).toBe(key);
    const again = resolvePoolConfig({ weaviate: { ...fromOption.weaviate, tls: undefined } }, {});
    expect(revealSecret(again.weaviate.apiKey)).toBe(key);
    expect(new Secret('plain').toString()).toBe('[REDACTED]');
    // The client private key of mutual TLS is held the same way.
    const pemBody = 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7kpemTEST';
    const tls = resolvePoolConfig({ weaviate: { tls: { cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----', key: `-----BEGIN PRIVATE KEY-----\n${pemBody}\n-----END PRIVATE KEY-----` } } }, {});
    expect(JSON.stringify(tls)).not.toContain(pemBody);
    expect(inspect(tls, { depth: 10, showHidden: true })).not.toContain(pemBody);
    expect(nodeTlsOptions(tls.weaviate.tls).key).toContain(pemBody);
    expect(revealSecret(resolvePoolConfig({ weaviate: { ...tls.weaviate } }, {}).weaviate.tls!.key)).toContain(pemBody);
  });

  it('documents every default in one frozen table', () => {
    expect(Object.isFrozen(POOL_DEFAULTS)).toBe(true);
  });
});

describe('query path, vectors and reply hand-off (issue 11 switches)', () => {
  it('default to the lean path, number arrays and the bytes hand-off', () => {
    const c = resolveExecutorConfig({}, {});
    expect(c.pool.queryPath).toBe('lean');
    expect(c.pool.vectors).toBe('array');
    expect(c.replyHandoff).toBe('bytes');
    expect(c.decodeSliceMs).toBe(1);
  });

  it('are typed options, and env still works; options win over env', () => {
    const fromOptions = resolveExecutorConfig({ queryPath: 'client', vectors: 'float32', replyHandoff: 'objects' }, {});
    expect([fromOptions.pool.queryPath, fromOptions.pool.vectors, fromOptions.replyHandoff]).toEqual(['client', 'float32', 'objects']);
    const env = { VECTOR_STORE_QUERY_PATH: 'client', VECTOR_STORE_VECTORS: 'float32', VECTOR_STORE_REPLY_HANDOFF: 'objects' };
    const fromEnv = resolveExecutorConfig({}, env);
    expect([fromEnv.pool.queryPath, fromEnv.pool.vectors, fromEnv.replyHandoff]).toEqual(['client', 'float32', 'objects']);
    const both = resolveExecutorConfig({ queryPath: 'lean', vectors: 'array', replyHandoff: 'bytes' }, env);
    expect([both.pool.queryPath, both.pool.vectors, both.replyHandoff]).toEqual(['lean', 'array', 'bytes']);
    // The pool on its own (no engine) takes the two connection-level switches too.
    expect(resolvePoolConfig({ vectors: 'float32' }, { VECTOR_STORE_QUERY_PATH: 'client' })).toMatchObject({ queryPath: 'client', vectors: 'float32' });
  });

  it.each([
    [{ queryPath: 'fast' }, "Expected `queryPath` to be one of 'lean', 'client', got `fast` (string)", 'option'],
    [{ vectors: 'f16' }, "Expected `vectors` to be one of 'array', 'float32', got `f16` (string)", 'option'],
    [{ replyHandoff: 'json' }, "Expected `replyHandoff` to be one of 'bytes', 'objects', got `json` (string)", 'option'],
    [{ decodeSliceMs: -1 }, 'Expected `decodeSliceMs` to be a finite number >= 0 and <= 2147483647 (ms), got `-1` (number)', 'option'],
  ])('reject a bad option %j with a ConfigError naming it and the value', (options, message, key) => {
    const e = configError(() => resolveExecutorConfig(options as never, {}));
    expect(e.message).toBe(message);
    expect(e.details[key]).toBe(Object.keys(options)[0]);
  });

  it.each([
    [{ VECTOR_STORE_QUERY_PATH: 'fast' }, "Expected `VECTOR_STORE_QUERY_PATH` to be one of 'lean', 'client', got `fast` (string)"],
    [{ VECTOR_STORE_VECTORS: 'number' }, "Expected `VECTOR_STORE_VECTORS` to be one of 'array', 'float32', got `number` (string)"],
    [{ VECTOR_STORE_REPLY_HANDOFF: 'json' }, "Expected `VECTOR_STORE_REPLY_HANDOFF` to be one of 'bytes', 'objects', got `json` (string)"],
    [{ VECTOR_STORE_WORKER_YOUNG_GENERATION_MB: 'big' }, 'Expected `VECTOR_STORE_WORKER_YOUNG_GENERATION_MB` to be a finite number >= 1 and <= 1048576 (MB), got `big` (string)'],
    [{ VECTOR_STORE_WORKER_OLD_GENERATION_MB: '0' }, 'Expected `VECTOR_STORE_WORKER_OLD_GENERATION_MB` to be a finite number >= 1 and <= 1048576 (MB), got `0` (string)'],
  ])('reject a bad env %j with a ConfigError naming the variable and the value', (env, message) => {
    const e = configError(() => resolveExecutorConfig({}, env));
    expect(e.message).toBe(message);
    expect(e.details['variable']).toBe(Object.keys(env)[0]);
  });
});

describe('workerResourceLimits (V8 heap limits of the worker threads)', () => {
  it('defaults to a 12 MB young generation (V8 for the rest); given keys win, keys not given keep their defaults', () => {
    expect(resolveExecutorConfig({}, {}).workerResourceLimits).toEqual({ maxYoungGenerationSizeMb: 12 });
    expect(resolveExecutorConfig({ workerResourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 512, stackSizeMb: 4 } }, {}).workerResourceLimits).toEqual({
      maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 512, stackSizeMb: 4,
    });
    expect(resolveExecutorConfig({ workerResourceLimits: { maxOldGenerationSizeMb: 512 } }, {}).workerResourceLimits).toEqual({ maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 512 });
  });

  it.each([
    [{ workerResourceLimits: 8 }, 'Expected `workerResourceLimits` to be an object, got `8` (number)', 'workerResourceLimits'],
    [{ workerResourceLimits: { maxYoungGenerationSizeMb: 0 } }, 'Expected `workerResourceLimits.maxYoungGenerationSizeMb` to be a finite number >= 1 and <= 1048576 (MB), got `0` (number)', 'workerResourceLimits.maxYoungGenerationSizeMb'],
    [{ workerResourceLimits: { stackSizeMb: 0.1 } }, 'Expected `workerResourceLimits.stackSizeMb` to be a finite number >= 0.5 and <= 1048576 (MB), got `0.1` (number)', 'workerResourceLimits.stackSizeMb'],
  ])('rejects %j with a ConfigError naming the option', (options, message, option) => {
    const e = configError(() => resolveExecutorConfig(options as never, {}));
    expect(e.message).toBe(message);
    expect(e.details['option']).toBe(option);
  });

  it('reads the heap sizes from the environment, key by key under the option', () => {
    const env = { VECTOR_STORE_WORKER_YOUNG_GENERATION_MB: '16', VECTOR_STORE_WORKER_OLD_GENERATION_MB: '256' };
    expect(resolveExecutorConfig({}, env).workerResourceLimits).toEqual({ maxYoungGenerationSizeMb: 16, maxOldGenerationSizeMb: 256 });
    expect(resolveExecutorConfig({ workerResourceLimits: { maxYoungGenerationSizeMb: 8, stackSizeMb: 2 } }, env).workerResourceLimits).toEqual({
      maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 256, stackSizeMb: 2,
    });
    expect(resolveExecutorConfig({}, { VECTOR_STORE_WORKER_OLD_GENERATION_MB: '256' }).workerResourceLimits).toEqual({ maxYoungGenerationSizeMb: 12, maxOldGenerationSizeMb: 256 });
  });

  it('rejects an unknown key, naming it', () => {
    const e = configError(() => resolveExecutorConfig({ workerResourceLimits: { maxYoungGenSizeMb: 8 } } as never, {}));
    expect(e.message).toMatch(/workerResourceLimits/);
    expect(e.message).toMatch(/maxYoungGenSizeMb/);
  });
});

describe('lanes with dedicated workers', () => {
  it('the reservations of the other lanes must leave one of the shared workers\' slots to lanes without one: a ConfigError naming it, before anything starts', () => {
    // 2 workers, 4 connections x 4 streams = 16 slots; write owns worker 0 (8), the rest share worker 1's 8.
    const base = { workers: 2, minConnections: 2, maxConnections: 4 };
    expect(() => resolveExecutorConfig({ ...base, lanes: { write: { dedicatedWorkers: 1 }, critical: { reserved: 7 } } }, {})).not.toThrow();
    const error = (() => {
      try {
        resolveExecutorConfig({ ...base, lanes: { write: { dedicatedWorkers: 1 }, critical: { reserved: 8 } } }, {});
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/Lanes reserve 8 slots of 8 \(the connections of the workers without a dedicated lane/);
    // Without dedicated workers the engine's 16 are what counts.
    expect(() => resolveExecutorConfig({ ...base, lanes: { critical: { reserved: 8 } } }, {})).not.toThrow();
  });
});
