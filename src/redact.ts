/**
 * Secrets (API keys, bearer tokens) must never reach logs, stats, errors or reports. Every
 * secret the configuration sees is registered here once; `redact()` is applied where text
 * leaves the engine (error messages, log lines, reports). Registration is per thread: workers
 * register the secrets of the configuration they receive.
 */
const secrets = new Set<string>();
let pattern: RegExp | undefined;

const MASK = '[REDACTED]';
/** Shorter strings are not treated as secrets: masking "a" everywhere would garble every message. */
const MIN_SECRET_LENGTH = 4;

export function registerSecret(secret: string | undefined | null): void {
  if (!secret || secret.length < MIN_SECRET_LENGTH || secrets.has(secret)) return;
  secrets.add(secret);
  const escaped = [...secrets]
    .sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  pattern = new RegExp(escaped.join('|'), 'g');
}

/** Mask every registered secret, and any `Bearer <token>` / `api-key: <key>` shape, in a text. */
export function redact(text: string): string {
  let out = pattern ? text.replace(pattern, MASK) : text;
  out = out.replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${MASK}`);
  return out;
}

/** Deep copy of a JSON-like value with every string redacted and secret-named keys masked. */
export function redactValue<T>(value: T): T {
  return walk(value, new WeakSet()) as T;
}

const SECRET_KEY = /^(authorization|api[-_]?key|apikey|token|bearer|password|secret|x-.*-api-key)$/i;

function walk(value: unknown, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null && v !== '' ? MASK : walk(v, seen);
  }
  return out;
}
