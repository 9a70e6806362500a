/**
 * Keeps the error list, its documentation and the serialisation across threads in step
 * (as fastify's test/internals/errors.test.js does for its docs).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as exported from '../../src/index.ts';
import { ERROR_CLASSES, QueueFullError, fromSerialized, isExecutorError, serializeError } from '../../src/errors.ts';
import { registerSecret } from '../../src/redact.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

describe('errors', () => {
  it('every code is documented in docs/errors.md with its class, and every class is exported', () => {
    for (const [code, cls] of Object.entries(ERROR_CLASSES)) {
      expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| \`${cls.name}\` \\|`));
      expect((exported as Record<string, unknown>)[cls.name], cls.name).toBe(cls);
    }
    const documented = [...doc.matchAll(/^\| `(WEX_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CLASSES).sort());
  });

  it('codes are unique and stable in shape', () => {
    const codes = Object.keys(ERROR_CLASSES);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^WEX_[A-Z_]+$/);
  });

  it('keeps class, code, message and details across a structured clone (a thread boundary)', () => {
    const error = new QueueFullError('Lane `normal` is full', { lane: 'normal', queued: 5, maxQueue: 5 });
    const copy = fromSerialized(structuredClone(serializeError(error)));
    expect(copy).toBeInstanceOf(QueueFullError);
    expect(isExecutorError(copy)).toBe(true);
    expect(copy).toMatchObject({ code: 'WEX_QUEUE_FULL', message: 'Lane `normal` is full', details: { lane: 'normal', queued: 5 } });
    const foreign = fromSerialized(structuredClone(serializeError(new RangeError('user code broke'))));
    expect(foreign).toMatchObject({ code: 'WEX_TASK_FAILED', message: 'user code broke', details: { originalName: 'RangeError' } });
  });

  it('masks registered secrets and bearer tokens in every message', () => {
    registerSecret('s3cr3t-api-key-value');
    const e = new exported.QueryError('failed with header authorization: Bearer s3cr3t-api-key-value and Bearer abcdefghijklmnop', {});
    expect(e.message).not.toContain('s3cr3t-api-key-value');
    expect(e.message).not.toContain('abcdefghijklmnop');
    expect(serializeError(new Error('key s3cr3t-api-key-value leaked')).message).toBe('key [REDACTED] leaked');
  });
});
