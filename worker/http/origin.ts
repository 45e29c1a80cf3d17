/**
 * Where a request comes from, as far as the browser says: the one reading of `Origin`,
 * `Sec-Fetch-Site` and `Referer` behind every cross-site request forgery (CSRF) defence here.
 * A page on another site can make a browser send requests to Berth with the credentials the
 * browser holds for it (cached Basic credentials, cookies); browsers name the page's origin in
 * `Origin` on every cross-origin request and every POST (Fetch standard), in `Sec-Fetch-Site`
 * (Fetch Metadata) in current browsers, and often in `Referer`. Clients that are not browsers
 * (the CLI, docker, curl) usually send none of them: 'unknown'.
 *
 * The web UI's forms accept only 'same-origin' (ui/csrf.ts); the admin API refuses
 * 'cross-site' and lets 'unknown' through, since its clients are not browsers and its writes
 * must be JSON, which no form can send (routes/admin/guards.ts).
 */

export type RequestSite = 'same-origin' | 'cross-site' | 'unknown';

export function requestSite(headers: Headers, ownOrigin: string): RequestSite {
  const origin = headers.get('origin');
  // "null" is what sandboxed frames and some redirects send: never ours.
  if (origin !== null) return origin === ownOrigin ? 'same-origin' : 'cross-site';
  const site = headers.get('sec-fetch-site');
  if (site === 'same-origin') return 'same-origin';
  // `none`: the user opened the URL directly (typed, bookmarked); no other page is involved.
  if (site !== null) return site === 'none' ? 'unknown' : 'cross-site';
  const referer = headers.get('referer');
  if (referer === null) return 'unknown';
  const from = originOf(referer);
  if (from === null) return 'unknown';
  return from === ownOrigin ? 'same-origin' : 'cross-site';
}

function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}
