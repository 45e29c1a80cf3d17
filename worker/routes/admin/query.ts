/** Query parameters of admin API calls, checked: a value the API cannot read is a 400 naming it. */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';

/** `?name=true|false`; absent is false. */
export function booleanQuery(c: Context<AppEnv>, name: string): boolean {
  const value = c.req.query(name) ?? 'false';
  if (value !== 'true' && value !== 'false') throw new RegistryError('INVALID_REQUEST', `${name} must be true or false`);
  return value === 'true';
}

/** `?name=N` for a whole number from `min` to `max`; absent is undefined. */
export function wholeNumberQuery(c: Context<AppEnv>, name: string, min: number, max: number): number | undefined {
  const raw = c.req.query(name);
  if (raw === undefined) return undefined;
  const value = /^\d{1,12}$/.test(raw) ? Number(raw) : NaN;
  if (!(value >= min && value <= max)) throw new RegistryError('INVALID_REQUEST', `${name} must be a whole number from ${min} to ${max}`);
  return value;
}
