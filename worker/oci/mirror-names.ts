/**
 * Names of the pull-through mirror, as pure functions: which repository names a mirror serves
 * and what the upstream calls them.
 *
 * A mirror is a prefix: `hub/library/alpine` in Berth is `library/alpine` on the upstream that
 * `hub` names (BERTH_MIRRORS `hub=https://registry-1.docker.io`). Docker Hub keeps official
 * images under `library/`, and docker itself expands a one-component name to it
 * (`alpine` → `docker.io/library/alpine`, distribution/reference `normalize.go`), so
 * `hub/alpine` asks Docker Hub for `library/alpine` too.
 */
import { isValidName } from './reference.ts';

/** One path component of the repository grammar, without `.` and `_`, so it maps to an env name. */
export const MIRROR_PREFIX_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The hosts Docker Hub's registry API answers on. */
const DOCKER_HUB_HOSTS: readonly string[] = ['registry-1.docker.io', 'index.docker.io', 'docker.io', 'registry.hub.docker.com'];

export interface MirrorPrefix {
  prefix: string;
  /** Origin of the upstream registry (`https://ghcr.io`); its API is under `/v2/`. */
  upstream: string;
}

export type MirrorListResult = { ok: true; mirrors: MirrorPrefix[] } | { ok: false; reason: string };

/**
 * `prefix=upstream` pairs, comma-separated (`hub=https://registry-1.docker.io,ghcr=https://ghcr.io`).
 * An upstream is an http(s) origin: no path, query, fragment or user info.
 */
export function parseMirrorList(value: string): MirrorListResult {
  const mirrors: MirrorPrefix[] = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter(Boolean)) {
    const equals = entry.indexOf('=');
    if (equals <= 0) return { ok: false, reason: `entry "${entry}" is not prefix=https://upstream` };
    const prefix = entry.slice(0, equals).trim();
    const upstream = upstreamOrigin(entry.slice(equals + 1).trim());
    if (!MIRROR_PREFIX_PATTERN.test(prefix) || prefix.length > 64) {
      return { ok: false, reason: `prefix "${prefix}" must be lowercase letters and digits, optionally joined by single dashes` };
    }
    if (upstream === null) {
      return { ok: false, reason: `upstream of "${prefix}" must be an http(s) origin such as https://registry-1.docker.io` };
    }
    if (mirrors.some((m) => m.prefix === prefix)) return { ok: false, reason: `prefix "${prefix}" is given twice` };
    mirrors.push({ prefix, upstream });
  }
  return { ok: true, mirrors };
}

/** The origin of an upstream URL, or null when it is not a bare http(s) origin. */
function upstreamOrigin(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const bare = (url.pathname === '/' || url.pathname === '') && !url.search && !url.hash && !url.username && !url.password;
  return (url.protocol === 'http:' || url.protocol === 'https:') && bare ? url.origin : null;
}

/** Where a mirror's upstream credentials are read from: upper-cased prefix, `-` as `_`. */
export function credentialVariables(prefix: string): { username: string; password: string } {
  const stem = `BERTH_MIRROR_${prefix.toUpperCase().replaceAll('-', '_')}`;
  return { username: `${stem}_USERNAME`, password: `${stem}_PASSWORD` };
}

export function isDockerHub(upstream: string): boolean {
  return DOCKER_HUB_HOSTS.includes(new URL(upstream).hostname);
}

/** The name the upstream knows: Docker Hub gets `library/` before a one-component name. */
export function upstreamName(rest: string, dockerHub: boolean): string {
  return dockerHub && !rest.includes('/') ? `library/${rest}` : rest;
}

/** Splits `<prefix>/<rest>` when the name starts with one of `prefixes`; null otherwise. */
export function splitMirrored(name: string, prefixes: readonly string[]): { prefix: string; rest: string } | null {
  const slash = name.indexOf('/');
  if (slash <= 0) return null;
  const prefix = name.slice(0, slash);
  return prefixes.includes(prefix) ? { prefix, rest: name.slice(slash + 1) } : null;
}

/**
 * The mirror repository an unprefixed name stands for when a default mirror is configured
 * (BERTH_MIRROR_DEFAULT): `library/alpine` → `hub/library/alpine`. Null when the result would
 * not be a valid repository name (too long).
 */
export function defaultMirrorName(name: string, defaultPrefix: string): string | null {
  const mirrored = `${defaultPrefix}/${name}`;
  return isValidName(mirrored) ? mirrored : null;
}
