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
import { requestSite } from '../http/origin.ts';

/** The origin check (http/origin.ts reads the headers): only requests known to be our own. */
export function originAllowed(headers: Headers, expectedOrigin: string): boolean {
  return requestSite(headers, expectedOrigin) === 'same-origin';
}

export function sameToken(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string' || presented === '' || expected === '') return false;
  return constantTimeEqual(utf8(presented), utf8(expected));
}
