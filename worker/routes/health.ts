/**
 * Probes for load balancers and orchestrators, outside `/v2/` and without credentials:
 * - `GET /healthz`: the process answers (liveness). Never touches the store.
 * - `GET /readyz`: the store answers a listing within a few seconds, and the instance is not
 *   shutting down (readiness); 503 UNAVAILABLE with the reason otherwise, so a load balancer
 *   takes this instance out while its in-flight requests finish.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { RegistryError } from '../oci/errors.ts';
import { json } from './respond.ts';

const READY_TIMEOUT_MS = 5000;

export function healthz(): Response {
  return json({ status: 'ok' }, 200, { 'Cache-Control': 'no-store' });
}

export async function readyz(c: Context<AppEnv>, draining: () => boolean): Promise<Response> {
  if (draining()) throw new RegistryError('UNAVAILABLE', 'shutting down');
  const problem = await c.get('registry').storeProblem(READY_TIMEOUT_MS);
  if (problem) throw new RegistryError('UNAVAILABLE', `store not ready: ${problem}`);
  return json({ status: 'ready' }, 200, { 'Cache-Control': 'no-store' });
}
