/**
 * The notification envelope, shaped like CNCF Distribution's (`notifications/event.go`,
 * "Notifications" in its docs), so receivers written for Distribution work unchanged:
 *
 *   {"events": [{"id", "timestamp", "action": "push"|"delete"|"pull",
 *                "target": {"mediaType", "digest", "size", "length", "repository", "url", "tag"},
 *                "request": {"id", "addr", "host", "method", "useragent"},
 *                "actor": {"name"}, "source": {"addr", "instanceID"}}]}
 *
 * sent as `application/vnd.docker.distribution.events.v1+json`. Berth sends manifest events only
 * (Distribution also sends one per blob; a deploy system wants the image, not its layers), plus
 * `test` from `berth webhooks test`. Pure: ids and times come in from the caller.
 */

export const EVENT_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

export const EVENT_ACTIONS = ['push', 'delete', 'pull'] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];

export function isEventAction(value: unknown): value is EventAction {
  return typeof value === 'string' && (EVENT_ACTIONS as readonly string[]).includes(value);
}

/** What a route reports: the manifest concerned and the request that touched it. */
export interface RegistryEvent {
  action: EventAction | 'test';
  repository: string;
  digest?: string;
  mediaType?: string;
  size?: number;
  tag?: string;
  /** Account name; absent for anonymous pulls. */
  actor?: string;
  request: { id: string; addr?: string; host: string; method: string; useragent?: string };
  /** Base URL clients reach the registry at (for target.url). */
  baseUrl: string;
}

export interface EnvelopeEvent {
  id: string;
  timestamp: string;
  action: string;
  target: {
    mediaType?: string;
    digest?: string;
    size?: number;
    length?: number;
    repository: string;
    url?: string;
    tag?: string;
  };
  request: RegistryEvent['request'];
  actor: { name?: string };
  source: { addr: string; instanceID: string };
}

export interface Envelope {
  events: EnvelopeEvent[];
}

export interface EventIdentity {
  id: string;
  timestamp: Date;
  instanceId: string;
}

export function envelopeEvent(event: RegistryEvent, identity: EventIdentity): EnvelopeEvent {
  const target: EnvelopeEvent['target'] = { repository: event.repository };
  if (event.mediaType !== undefined) target.mediaType = event.mediaType;
  if (event.digest !== undefined) target.digest = event.digest;
  if (event.size !== undefined) {
    target.size = event.size;
    target.length = event.size; // Distribution sends both (length is the older name)
  }
  if (event.digest !== undefined) target.url = `${event.baseUrl}/v2/${event.repository}/manifests/${event.digest}`;
  if (event.tag !== undefined) target.tag = event.tag;
  return {
    id: identity.id,
    timestamp: identity.timestamp.toISOString(),
    action: event.action,
    target,
    request: event.request,
    actor: event.actor ? { name: event.actor } : {},
    source: { addr: event.request.host, instanceID: identity.instanceId },
  };
}

/** `push prod/app:1.0.0` / `delete prod/app@sha256:…`: how the delivery log names an event. */
export function summarize(event: EnvelopeEvent): string {
  const where = event.target.tag ? `:${event.target.tag}` : event.target.digest ? `@${event.target.digest}` : '';
  return `${event.action} ${event.target.repository}${where}`;
}
