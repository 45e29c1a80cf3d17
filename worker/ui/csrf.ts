/**
 * Cross-site request forgery defences of the UI's forms, as pure functions. Two independent
 * checks, both required on every state-changing request (OWASP CSRF Prevention Cheat Sheet):
 * - the request comes from our own origin: `Origin` (sent by browsers on every POST) must be
 *   ours; without it, `Sec-Fetch-Site` must say same-origin, or `Referer` must be ours;
 *   a request carrying none of them is refused;
 * - the form carries the token bound to the session (or, before sign-in, to the browser's
 *   pre-session cookie), compared in constant time.
 * The session cookie is also SameSite=Strict, so a cross-site form never carries it at all.
 */
import { constantTimeEqual, utf8 } from '../auth/bytes.ts';

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

export function originAllowed(headers: Headers, expectedOrigin: string): boolean {
  const origin = headers.get('origin');
  // "null" is what sandboxed frames and some redirects send: never ours.
  if (origin !== null) return origin === expectedOrigin;
  const site = headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin';
  const referer = headers.get('referer');
  return referer !== null && originOf(referer) === expectedOrigin;
}

export function sameToken(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string' || presented === '' || expected === '') return false;
  return constantTimeEqual(utf8(presented), utf8(expected));
}
