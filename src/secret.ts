/**
 * A secret (the Weaviate API key) held so that no dump of the configuration can show it:
 * `JSON.stringify`, `util.inspect`/`console.log`, template strings and `String()` all give
 * `[REDACTED]`, and the value lives in a module-private WeakMap, not on the object (so
 * `Object.entries`, spreading and structured cloning carry nothing). Only `revealSecret()`
 * gives it back, and only the transport calls it (src/weaviate/target.ts authHeaders, the
 * client and channel set-up in src/weaviate/client.ts). Crossing to a worker thread, the engine
 * sends the value beside the configuration (WorkerData.apiKey) and the worker wraps it again.
 * The value is also registered with src/redact.ts, so a copy that escapes anyway is masked in
 * logs and errors.
 */
import { registerSecret } from './redact.ts';

const MASK = '[REDACTED]';
const values = new WeakMap<Secret, string>();

export class Secret {
  constructor(value: string) {
    values.set(this, value);
    registerSecret(value);
    Object.freeze(this);
  }
  toJSON(): string {
    return MASK;
  }
  toString(): string {
    return MASK;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `Secret ${MASK}`;
  }
}

/** The value of a secret (a plain string passes through), for the transport only. */
export function revealSecret(secret: Secret | string | undefined): string | undefined {
  if (secret === undefined || typeof secret === 'string') return secret;
  return values.get(secret);
}

/**
 * Header values (vectorizer keys and the like) kept usable by the transport (own enumerable
 * string properties, so spreading and structured cloning carry them) while dumps of the object
 * show every value as `[REDACTED]`: non-enumerable `toJSON` and `util.inspect` hooks. Frozen.
 */
export function sealHeaders(headers: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const out: Record<string, string> = { ...headers };
  const masked = () => Object.fromEntries(Object.keys(out).map((k) => [k, MASK]));
  Object.defineProperty(out, 'toJSON', { value: masked, enumerable: false });
  Object.defineProperty(out, Symbol.for('nodejs.util.inspect.custom'), { value: masked, enumerable: false });
  return Object.freeze(out);
}
