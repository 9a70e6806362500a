import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { POOL_DEFAULTS, resolvePoolConfig } from '../../src/pool/config.ts';
import { resolveExecutorConfig } from '../../src/engine/config.ts';

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
  ])('reject a bad env %j with a ConfigError naming the variable and the value', (env, message) => {
    const e = configError(() => resolveExecutorConfig({}, env));
    expect(e.message).toBe(message);
    expect(e.details['variable']).toBe(Object.keys(env)[0]);
  });
});
