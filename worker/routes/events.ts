/**
 * What routes tell webhooks (registry/webhooks/): one call after the answer is decided. It only
 * describes the event; matching hooks, queueing and delivery happen in the background
 * (`c.get('background')`), so nothing here can slow or fail the request.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import type { EventAction, RegistryEvent } from '../registry/webhooks/envelope.ts';

export interface EventTarget {
  repository: string;
  digest?: string;
  mediaType?: string;
  size?: number;
  tag?: string;
}

/** The request part of an event, as Distribution's notifications describe it. */
export function requestOf(c: Context<AppEnv>): Pick<RegistryEvent, 'request' | 'baseUrl' | 'actor'> {
  const url = new URL(c.req.url);
  const useragent = c.req.header('User-Agent');
  const addr = c.get('client') ?? undefined;
  const subject = c.get('principal')?.subject ?? undefined;
  return {
    request: { id: c.get('requestId'), host: url.host, method: c.req.method, ...(addr ? { addr } : {}), ...(useragent ? { useragent: useragent.slice(0, 256) } : {}) },
    baseUrl: c.get('config').publicUrl ?? url.origin,
    ...(subject ? { actor: subject } : {}),
  };
}

/** `actor` names the caller where no registry principal exists (admin API routes). */
export function announce(c: Context<AppEnv>, action: EventAction, target: EventTarget, actor?: string): void {
  c.get('registry').webhooks.notify({ action, ...target, ...requestOf(c), ...(actor ? { actor } : {}) }, c.get('background'));
}
