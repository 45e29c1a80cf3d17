/**
 * The UI's own URLs, made in one place (every one is mounted in worker/app.ts). A repository
 * page is `/ui/r/<name>`; an image is `/ui/r/<name>:<tag>` or `/ui/r/<name>@<digest>`, the way
 * docker writes references (oci/image-ref.ts parses them back).
 */
import { formatImageRef } from '../oci/image-ref.ts';
import type { Reference } from '../oci/reference.ts';

export const UI_ROOT = '/ui/';

function query(params: Record<string, string | undefined>): string {
  const entries = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '');
  return entries.length === 0 ? '' : `?${new URLSearchParams(entries)}`;
}

export const urls = {
  home: (params: { q?: string; last?: string } = {}) => `${UI_ROOT}${query(params)}`,
  signIn: (next?: string) => `/ui/sign-in${query({ next })}`,
  signOut: () => '/ui/sign-out',
  session: () => '/ui/session',
  repository: (name: string, params: { last?: string; deleted?: string } = {}) => `/ui/r/${name}${query(params)}`,
  image: (name: string, reference: Reference, platform?: string) => `/ui/r/${formatImageRef(name, reference)}${query({ platform })}`,
  confirmDelete: (ref: string) => `/ui/delete${query({ ref })}`,
  delete: () => '/ui/delete',
  tokens: (params: { revoked?: string } = {}) => `/ui/tokens${query(params)}`,
  revokeToken: () => '/ui/tokens/revoke',
  users: (params: { done?: string } = {}) => `/ui/users${query(params)}`,
  userRules: () => '/ui/users/rules',
  deleteUser: () => '/ui/users/delete',
  gc: () => '/ui/gc',
  asset: (file: string) => `/ui/assets/${file}`,
};

/** A `next` target after sign-in: only a path inside the UI, never another site (open redirect). */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/ui/') || next.startsWith('//') || /[\\\s]/.test(next)) return UI_ROOT;
  return next;
}
