/**
 * Webhook definitions in the bucket: one object per hook under `webhooks/hooks/<id>` (keys.ts).
 * The secret is stored (signing needs it) but never leaves through the API: views say only
 * whether a hook has one. Which events reach a hook: its actions and its repository glob (the
 * glob syntax of access rules, auth/glob.ts).
 */
import type { ObjectStore } from '../../storage/types.ts';
import { globMatches, isValidGlob } from '../../auth/glob.ts';
import { afterPrefix, keyOf } from '../keys.ts';
import { readJson, writeJson } from '../json-objects.ts';
import { mapLimit } from '../concurrency.ts';
import { listKeyPages } from '../list-pages.ts';
import { EVENT_ACTIONS, isEventAction, type EventAction } from './envelope.ts';
import { checkTarget } from './targets.ts';

export interface WebhookRecord {
  id: string;
  url: string;
  events: EventAction[];
  /** Repository glob; `**` is every repository. */
  repos: string;
  secret?: string;
  /** An admin allowed an internal target (targets.ts). */
  allowInternal: boolean;
  createdAt: string;
  createdBy: string;
}

/** What the API shows of a hook: everything but the secret. */
export type WebhookView = Omit<WebhookRecord, 'secret'> & { hasSecret: boolean };

export const MAX_WEBHOOKS = 100;
const MIN_SECRET_LENGTH = 16;
const MAX_SECRET_LENGTH = 256;
const HOOK_ID = /^wh_[0-9a-f]{16}$/;

export function isHookId(id: string): boolean {
  return HOOK_ID.test(id);
}

export function webhookView(hook: WebhookRecord): WebhookView {
  const { secret, ...rest } = hook;
  return { ...rest, hasSecret: secret !== undefined };
}

export function hookWants(hook: WebhookRecord, action: string, repository: string): boolean {
  return (hook.events as string[]).includes(action) && globMatches(hook.repos, repository);
}

/** Checks an untrusted hook definition (admin API body); the record, or the reason it is refused. */
export function validateWebhook(input: Record<string, unknown>, id: string, createdBy: string, now: Date): WebhookRecord | string {
  const target = checkTarget(input.url);
  if (!target.ok) return target.reason;
  if (input.allowInternal !== undefined && typeof input.allowInternal !== 'boolean') return 'allowInternal must be true or false';
  const allowInternal = input.allowInternal === true;
  if (target.internal && !allowInternal) {
    return `${target.url.hostname} is an internal address; a webhook to it needs allowInternal (berth webhooks add --allow-internal)`;
  }
  const events = input.events ?? ['push'];
  if (!Array.isArray(events) || events.length === 0 || !events.every(isEventAction)) {
    return `events must be a non-empty list of ${EVENT_ACTIONS.join(', ')}`;
  }
  const repos = input.repos ?? '**';
  if (typeof repos !== 'string' || !isValidGlob(repos)) return 'repos must be a repository glob (e.g. prod/** or **)';
  const record: WebhookRecord = {
    id, url: target.url.toString(), events: [...new Set(events)], repos, allowInternal, createdAt: now.toISOString(), createdBy,
  };
  if (input.secret !== undefined) {
    if (typeof input.secret !== 'string' || input.secret.length < MIN_SECRET_LENGTH || input.secret.length > MAX_SECRET_LENGTH) {
      return `secret must be ${MIN_SECRET_LENGTH} to ${MAX_SECRET_LENGTH} characters`;
    }
    record.secret = input.secret;
  }
  return record;
}

export function newHookId(): string {
  return `wh_${Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/**
 * The hooks, read through a short cache: every push and pull asks which hooks want it, and a
 * listing per request would cost more than the push. Changes made through this instance apply at
 * once; other instances see them within CACHE_MS.
 */
export class WebhookStore {
  static readonly CACHE_MS = 10_000;
  private cached: { hooks: WebhookRecord[]; until: number } | undefined;

  constructor(private readonly store: ObjectStore) {}

  async all(): Promise<WebhookRecord[]> {
    if (this.cached && this.cached.until > Date.now()) return this.cached.hooks;
    const prefix = keyOf({ kind: 'webhooks' });
    const ids: string[] = [];
    for await (const keys of listKeyPages(this.store, prefix)) ids.push(...keys.map((key) => afterPrefix(key, prefix)));
    const hooks = (await mapLimit(ids.filter(isHookId), 8, (id) => this.get(id))).filter((h): h is WebhookRecord => h !== null);
    this.cached = { hooks, until: Date.now() + WebhookStore.CACHE_MS };
    return hooks;
  }

  /** The cached list when it is fresh (no I/O), else undefined. */
  fresh(): WebhookRecord[] | undefined {
    return this.cached && this.cached.until > Date.now() ? this.cached.hooks : undefined;
  }

  get(id: string): Promise<WebhookRecord | null> {
    return isHookId(id) ? readJson<WebhookRecord>(this.store, keyOf({ kind: 'webhook', id })) : Promise.resolve(null);
  }

  async add(hook: WebhookRecord): Promise<boolean> {
    this.cached = undefined;
    if ((await this.all()).length >= MAX_WEBHOOKS) return false;
    await writeJson(this.store, keyOf({ kind: 'webhook', id: hook.id }), hook, { ifNoneMatch: true });
    this.cached = undefined;
    return true;
  }

  async remove(id: string): Promise<boolean> {
    if (!(await this.get(id))) return false;
    await this.store.delete(keyOf({ kind: 'webhook', id }));
    this.cached = undefined;
    return true;
  }
}
