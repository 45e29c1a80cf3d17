/**
 * Webhooks in the admin API (admins only; registry/webhooks/ has the model, queue and delivery).
 *
 *   GET    /admin/webhooks                       every hook (never its secret), with its last delivery
 *   POST   /admin/webhooks {url, events?, repos?, secret?, allowInternal?}
 *   DELETE /admin/webhooks/:id                   the hook, its queue and its log
 *   POST   /admin/webhooks/:id/test              one signed `test` event now; answers the attempt
 *   GET    /admin/webhooks/:id/deliveries[?limit=N]   the delivery log, newest first
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import type { DeliveryRecord } from '../../registry/webhooks/deliveries.ts';
import { MAX_WEBHOOKS, newHookId, validateWebhook, webhookView, type WebhookRecord } from '../../registry/webhooks/hooks.ts';
import { succeeded } from '../../registry/webhooks/sender.ts';
import { requestOf } from '../events.ts';
import { adminOnly, param } from './guards.ts';
import { readJsonBody } from './json-body.ts';

const MAX_LOG = 100;

/** A delivery as the log shows it: everything but the envelope itself. */
function deliveryView(record: DeliveryRecord): Omit<DeliveryRecord, 'body' | 'leaseUntil'> {
  const { body: _body, leaseUntil: _lease, ...rest } = record;
  return rest;
}

async function existingHook(c: Context<AppEnv>): Promise<WebhookRecord> {
  const id = param(c, 'id');
  const hook = await c.get('registry').webhooks.hooks.get(id);
  if (!hook) throw new RegistryError('WEBHOOK_UNKNOWN', undefined, { id: id.slice(0, 64) });
  return hook;
}

export async function listWebhooks(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const webhooks = c.get('registry').webhooks;
  const hooks = await webhooks.hooks.all();
  const views = await Promise.all(hooks.map(async (hook) => {
    const [last] = await webhooks.deliveries.log(hook.id, 1);
    return { ...webhookView(hook), lastDelivery: last ? deliveryView(last) : null };
  }));
  return Response.json({ webhooks: views });
}

export async function addWebhook(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await adminOnly(c, auth);
  const registry = c.get('registry');
  const hook = validateWebhook(await readJsonBody(c), newHookId(), me.account, registry.clock());
  if (typeof hook === 'string') throw new RegistryError('INVALID_REQUEST', hook);
  if (!(await registry.webhooks.hooks.add(hook))) throw new RegistryError('CONFLICT', `at most ${MAX_WEBHOOKS} webhooks`);
  return Response.json(webhookView(hook), { status: 201 });
}

export async function removeWebhook(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const hook = await existingHook(c);
  await c.get('registry').webhooks.remove(hook.id);
  return new Response(null, { status: 204 });
}

export async function testWebhook(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const me = await adminOnly(c, auth);
  const hook = await existingHook(c);
  const attempt = await c.get('registry').webhooks.test(hook, { ...requestOf(c), actor: me.account });
  return Response.json({ delivered: succeeded(attempt), ...attempt });
}

export async function webhookLog(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  await adminOnly(c, auth);
  const hook = await existingHook(c);
  const raw = c.req.query('limit') ?? '20';
  if (!/^\d{1,3}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_LOG) throw new RegistryError('INVALID_REQUEST', `limit must be 1 to ${MAX_LOG}`);
  const deliveries = await c.get('registry').webhooks.deliveries.log(hook.id, Number(raw));
  return Response.json({ webhook: webhookView(hook), deliveries: deliveries.map(deliveryView) });
}
