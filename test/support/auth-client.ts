/**
 * A fetch that authenticates like docker: on a 401 with a Bearer challenge it asks the realm
 * for a token (Basic credentials when given, anonymous otherwise) with the challenge's service
 * and scope, caches the token per scope, and retries the request once with it. On a Basic
 * challenge (the reference registry's htpasswd) it retries with Basic, and sends Basic up front
 * from then on.
 */

export interface Creds {
  username: string;
  password: string;
}

export function parseChallenge(header: string | null): Record<string, string> | null {
  if (!header || !/^bearer\s/i.test(header)) return null;
  const params: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/gi)) {
    params[m[1]!.toLowerCase()] = m[2]!.replace(/\\(.)/g, '$1');
  }
  return params;
}

export function authedFetch(
  base: string,
  creds: Creds | null,
): (path: string, init?: RequestInit) => Promise<Response> {
  const tokens = new Map<string, string>();
  const basic = creds ? `Basic ${btoa(`${creds.username}:${creds.password}`)}` : null;

  async function fetchToken(challenge: Record<string, string>): Promise<string | null> {
    const realm = challenge.realm;
    if (!realm) return null;
    const url = new URL(realm);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    for (const scope of (challenge.scope ?? '').split(' ').filter(Boolean)) url.searchParams.append('scope', scope);
    if (creds) url.searchParams.set('account', creds.username);
    const res = await fetch(url, { headers: basic ? { Authorization: basic } : {} });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    return body.token ?? body.access_token ?? null;
  }

  let basicWanted = false;

  return async (path, init = {}) => {
    const url = path.startsWith('http') ? path : `${base}${path}`;
    const send = (token: string | undefined): Promise<Response> => {
      const headers = new Headers(init.headers);
      if (token) headers.set('Authorization', `Bearer ${token}`);
      else if (basicWanted && basic) headers.set('Authorization', basic);
      return fetch(url, { ...init, headers, redirect: init.redirect ?? 'manual' });
    };
    // Reuse the token of the last scope this path's repository needed, if any.
    const cachedKey = [...tokens.keys()].find((k) => k !== '' && scopeRepo(k) === repoOf(path));
    const first = await send(cachedKey !== undefined ? tokens.get(cachedKey) : tokens.get(''));
    if (first.status !== 401) return first;
    if (basic && !basicWanted && /^basic\s/i.test(first.headers.get('www-authenticate') ?? '')) {
      basicWanted = true;
      await first.body?.cancel();
      return send(undefined);
    }
    const challenge = parseChallenge(first.headers.get('www-authenticate'));
    if (!challenge) return first;
    // A streamed body cannot be sent twice; callers pass replayable bodies (strings, bytes).
    const key = challenge.scope ?? '';
    let token = tokens.get(key);
    if (!token || challenge.error) {
      token = (await fetchToken(challenge)) ?? undefined;
      if (!token) return first;
      tokens.set(key, token);
    }
    await first.body?.cancel();
    return send(token);
  };
}

function repoOf(path: string): string | undefined {
  return /^\/v2\/(.+?)\/(?:blobs|manifests|tags|referrers)\//.exec(new URL(path, 'http://x').pathname)?.[1];
}

function scopeRepo(scope: string): string | undefined {
  return /^repository:(.+):[^:]*$/.exec(scope.split(' ')[0] ?? '')?.[1];
}
