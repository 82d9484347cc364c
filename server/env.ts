/**
 * Integer settings from the environment, read where they are used: one rule for all of them, so a
 * mistyped value is an error naming the variable, never a silent fallback to the default.
 */
import { UserError } from './errors.js';

/** Environment variables (process.env or a test's own map). */
export type EnvVars = Readonly<Record<string, string | undefined>>;

/** `env[name]` as an integer ≥ min, or `dflt` when unset or empty; otherwise a UserError naming it. */
export function intFromEnv(name: string, dflt: number, min: number, env: EnvVars = process.env): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UserError(`${name} must be an integer ≥ ${min}; got ${JSON.stringify(v)}`);
  return n;
}

/** A URL without its user and password, for messages and logs (which must not carry them). */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(an unparsable URL)';
  }
}
