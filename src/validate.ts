/**
 * Validation of configuration values, options and environment variables alike. Messages follow
 * one shape, naming the option (or variable), the value and its type:
 *   Expected `VECTOR_STORE_MIN_CONNECTIONS` to be an integer >= 0, got `abc` (string)
 */
import { ConfigError } from './errors.ts';

/** Where a value came from: an option path (`pool.minConnections`) or an env variable name. */
export interface Source {
  name: string;
  kind: 'option' | 'env';
}

export function show(value: unknown): string {
  let text: string;
  try {
    text =
      typeof value === 'string'
        ? value
        : typeof value === 'object' && value !== null
          ? (JSON.stringify(value) ?? String(value))
          : String(value); // numbers keep NaN / Infinity readable (JSON would say null)
  } catch {
    text = String(value);
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  return `\`${text}\` (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}

export function fail(source: Source, expected: string, value: unknown): never {
  throw new ConfigError(`Expected \`${source.name}\` to be ${expected}, got ${show(value)}`, {
    [source.kind === 'env' ? 'variable' : 'option']: source.name,
    value: typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : show(value),
    expected,
  });
}

/** Env values arrive as strings; options as numbers. Both are accepted, anything else fails. */
function toNumber(source: Source, value: unknown, expected: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && source.kind === 'env' && value.trim() !== '') {
    const n = Number(value.trim());
    if (!Number.isNaN(n)) return n;
  }
  return fail(source, expected, value);
}

export function integer(source: Source, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const expected = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer between ${min} and ${max}`;
  const n = toNumber(source, value, expected);
  if (!Number.isInteger(n) || n < min || n > max) fail(source, expected, value);
  return n;
}

export function number(
  source: Source,
  value: unknown,
  {
    min = -Infinity,
    max = Infinity,
    exclusiveMin = false,
    unit = '',
  }: { min?: number; max?: number; exclusiveMin?: boolean; unit?: string } = {},
): number {
  const lower = exclusiveMin ? `> ${min}` : `>= ${min}`;
  const suffix = unit ? ` (${unit})` : '';
  const expected =
    max === Infinity ? `a finite number ${lower}${suffix}` : `a finite number ${lower} and <= ${max}${suffix}`;
  const n = toNumber(source, value, expected);
  if (!Number.isFinite(n) || (exclusiveMin ? n <= min : n < min) || n > max) fail(source, expected, value);
  return n;
}

export function boolean(source: Source, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && source.kind === 'env') {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off'].includes(v)) return false;
  }
  return fail(source, 'a boolean (true/false, 1/0, yes/no, on/off)', value);
}

export function string(source: Source, value: unknown, { nonEmpty = true } = {}): string {
  if (typeof value !== 'string' || (nonEmpty && value.trim() === '')) {
    return fail(source, nonEmpty ? 'a non-empty string' : 'a string', value);
  }
  return value;
}

export function oneOf<T extends string>(source: Source, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  return fail(source, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
}

export function port(source: Source, value: unknown): number {
  return integer(source, value, 1, 65535);
}

export function plainObject(source: Source, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(source, 'an object', value);
  return value as Record<string, unknown>;
}

/** Reject keys we do not know: a typo (`maxConnection`) must not be silently ignored. */
export function knownKeys(source: Source, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new ConfigError(
        `Unknown option \`${source.name ? `${source.name}.` : ''}${key}\`; known options are: ${known.join(', ')}`,
        { option: source.name ? `${source.name}.${key}` : key },
      );
    }
  }
}

export function conflict(message: string, details: Record<string, unknown>): never {
  throw new ConfigError(message, { ...details, kind: 'range' });
}
