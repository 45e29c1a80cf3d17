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
