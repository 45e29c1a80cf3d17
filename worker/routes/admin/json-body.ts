/** The admin API's JSON bodies: one object, at most MAX_BODY_BYTES. */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { readCappedText } from '../../http/capped-body.ts';

const MAX_BODY_BYTES = 64 * 1024;

export async function readJsonBody(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const text = await readCappedText(c.req.raw, { limit: MAX_BODY_BYTES });
  try {
    const value: unknown = JSON.parse(text || '{}');
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new RegistryError('INVALID_REQUEST', 'body must be a JSON object');
}
