/**
 * Scopes as the Docker token spec writes them (distribution docs/spec/auth/scope.md):
 * `resourcetype[(class)]:resourcename:action[,action]*`. The resource name may hold a host with
 * a port (`repository:host:5000/app:pull`), so the type ends at the first ':' and the actions
 * start after the last one. Anything we do not understand is dropped, never half-granted.
 */
import { isValidName } from '../oci/reference.ts';
import type { AccessRequest, Action } from './types.ts';

export const KNOWN_ACTIONS: readonly Action[] = ['pull', 'push', 'delete', '*'];
/** Repository actions `*` stands for. */
export const ALL_REPOSITORY_ACTIONS: readonly Action[] = ['pull', 'push', 'delete'];

/**
 * Berth's scope for its admin API (`registry:admin:*`, beside the spec's `registry:catalog:*`).
 * A Bearer token opens `/admin/…` only when it carries this scope, and the token endpoint puts it
 * only in tokens from a password login: a leaked pull token or refresh token cannot administer.
 */
export const ADMIN_SCOPE: AccessRequest = { type: 'registry', name: 'admin', actions: ['*'] };

/** The `registry:<name>` resources there are. */
export function isRegistryResource(name: string): boolean {
  return name === 'catalog' || name === 'admin';
}

/** Bounds on hostile input: a real client asks for a handful of short scopes. */
export const MAX_SCOPES = 32;
export const MAX_SCOPE_LENGTH = 512;

export function isAction(value: string): value is Action {
  return (KNOWN_ACTIONS as readonly string[]).includes(value);
}

export function parseScope(scope: string): AccessRequest | null {
  if (scope.length === 0 || scope.length > MAX_SCOPE_LENGTH) return null;
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return null;
  // The optional `(class)` suffix (e.g. `repository(plugin)`) does not change permissions.
  const type = scope.slice(0, first).replace(/\([a-z0-9]+\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = [...new Set(scope.slice(last + 1).split(',').filter(isAction))];
  if (actions.length === 0) return null;
  if (type === 'repository' && isValidName(name)) return { type, name, actions };
  if (type === 'registry' && isRegistryResource(name)) return { type, name, actions };
  return null;
}

/**
 * Every `scope` parameter of a token request; each may itself hold several space-separated
 * scopes (oauth.md). Unparseable scopes are skipped; the same resource asked twice is merged.
 */
export function parseScopes(params: readonly string[]): AccessRequest[] {
  const merged = new Map<string, AccessRequest>();
  for (const scope of params.flatMap((p) => p.split(' ')).filter(Boolean).slice(0, MAX_SCOPES)) {
    const parsed = parseScope(scope);
    if (!parsed) continue;
    const key = `${parsed.type}:${parsed.name}`;
    const seen = merged.get(key);
    if (seen) seen.actions = [...new Set([...seen.actions, ...parsed.actions])];
    else merged.set(key, parsed);
  }
  return [...merged.values()];
}

export function formatScope(access: AccessRequest): string {
  return `${access.type}:${access.name}:${access.actions.join(',')}`;
}

/** True when `granted` contains every action of `needed` (a granted `*` covers them all). */
export function covers(granted: readonly AccessRequest[], needed: AccessRequest): boolean {
  const entry = granted.find((g) => g.type === needed.type && g.name === needed.name);
  if (!entry) return needed.actions.length === 0;
  if (entry.actions.includes('*')) return true;
  return needed.actions.every((a) => a !== '*' && entry.actions.includes(a));
}
