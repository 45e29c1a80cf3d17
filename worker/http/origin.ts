/**
 * Cross-site request forgery: a page on another site can make a browser send requests here with
 * the credentials the browser holds for us (cached Basic credentials, cookies). Browsers say
 * where a request comes from: `Origin` on every cross-origin request and on every POST (Fetch
 * standard, "origin" header), and `Sec-Fetch-Site` (Fetch Metadata) in current browsers. Clients
 * that are not browsers (the CLI, docker, curl) send neither, and nothing changes for them.
 *
 * Used by the admin API (routes/admin/guards.ts); any route a browser session can reach with
 * ambient credentials can use it the same way, with the origin it serves.
 */

/** Why `req` must be refused as cross-site, or null when it came from `ownOrigin` (or no browser). */
export function crossSiteReason(req: Request, ownOrigin: string): string | null {
  const site = req.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') return `a ${site} request`;
  const origin = req.headers.get('origin');
  if (origin !== null && origin !== ownOrigin) return `a request from ${origin === 'null' ? 'an opaque origin' : JSON.stringify(origin.slice(0, 200))}`;
  return null;
}
