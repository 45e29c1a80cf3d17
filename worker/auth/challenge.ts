/**
 * Where clients fetch tokens and what they are told: the realm URL, the service name and the
 * `WWW-Authenticate: Bearer …` challenge (distribution docs/spec/auth/token.md "How to
 * authenticate"; RFC 6750 §3 for `error="invalid_token"` / `"insufficient_scope"`).
 */
import type { AuthSettings } from './settings.ts';
import { formatScope } from './scope.ts';
import type { AccessRequest } from './types.ts';

/** The origin clients reached us at: BERTH_PUBLIC_URL, else the request (proxy headers if trusted). */
export function baseUrl(req: Request, settings: AuthSettings): string {
  if (settings.publicUrl) return settings.publicUrl;
  const url = new URL(req.url);
  if (settings.trustProxy) {
    const proto = req.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
    const host = req.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
    if (proto === 'http' || proto === 'https') url.protocol = `${proto}:`;
    if (host && /^[A-Za-z0-9.:[\]-]+$/.test(host)) url.host = host;
  }
  return url.origin;
}

/**
 * Why a server listening on `host` should be told its public name, or null. Without
 * BERTH_PUBLIC_URL or BERTH_SERVICE the token realm and audience come from each request's Host,
 * which anyone reaching a non-loopback address can choose; tokens still cannot cross
 * deployments (each signs with its own issuer, signing-key.ts), but realms and audiences are
 * then whatever clients name.
 */
export function unnamedServiceWarning(settings: AuthSettings, host: string): string | null {
  if (settings.mode !== 'token' || settings.publicUrl || settings.service) return null;
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (loopback) return null;
  return `listening on ${host} without BERTH_PUBLIC_URL or BERTH_SERVICE: the token realm and audience follow each request's Host header; set BERTH_PUBLIC_URL to the URL clients use`;
}

/** BERTH_SERVICE, else the host clients use (what `docker login <host>` typed). */
export function serviceName(req: Request, settings: AuthSettings): string {
  return settings.service ?? new URL(baseUrl(req, settings)).host;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

export function bearerChallenge(
  req: Request,
  settings: AuthSettings,
  scopes: readonly AccessRequest[],
  error?: 'invalid_token' | 'insufficient_scope',
): string {
  const parts = [`realm=${quote(`${baseUrl(req, settings)}/token`)}`, `service=${quote(serviceName(req, settings))}`];
  const wanted = scopes.filter((s) => s.actions.length > 0);
  if (wanted.length > 0) parts.push(`scope=${quote(wanted.map(formatScope).join(' '))}`);
  if (error) parts.push(`error=${quote(error)}`);
  return `Bearer ${parts.join(',')}`;
}
