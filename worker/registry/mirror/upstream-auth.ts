/**
 * Authenticating to an upstream registry the way docker does (distribution docs/spec/auth/
 * token.md "How to authenticate"):
 *
 * 1. a request goes out with whatever is known for its scope (a cached token, or Basic once the
 *    upstream asked for Basic) — nothing, the first time;
 * 2. a 401 names the scheme in `WWW-Authenticate`:
 *    - `Bearer realm=…,service=…,scope=…`: GET `<realm>?service=…&scope=…` (with Basic
 *      credentials and `account=` when the mirror has them; anonymously otherwise: Docker Hub
 *      and GHCR hand out anonymous pull tokens for public images), answered with `token` or
 *      `access_token` and `expires_in`;
 *    - `Basic realm=…` (RFC 7617): the mirror's credentials, if it has any;
 * 3. the request is sent once more with that.
 */
import { findChallenge, parseWwwAuthenticate } from '../../oci/www-authenticate.ts';
import { readCappedText } from '../../http/capped-body.ts';
import { RegistryError } from '../../oci/errors.ts';
import { UpstreamError } from './upstream-error.ts';
import { DEFAULT_TOKEN_SECONDS, type UpstreamTokens } from './upstream-tokens.ts';

export interface UpstreamCredentials {
  username: string;
  password: string;
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** A token answer is a small JSON object; anything larger is not one. */
const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** Longest lifetime trusted from an upstream, whatever it claims. */
const MAX_TOKEN_SECONDS = 3600;
const TOKEN_TIMEOUT_MS = 30_000;

export class UpstreamAuth {
  /** Set once the upstream answered with a Basic challenge: later requests send Basic up front. */
  private wantsBasic = false;

  constructor(
    private readonly upstream: string,
    private readonly credentials: UpstreamCredentials | undefined,
    private readonly tokens: UpstreamTokens,
    private readonly fetch: Fetch,
  ) {}

  /** What to send before any challenge: a token cached for `scope`, or Basic. */
  preemptive(scope: string): string | undefined {
    const token = this.tokens.get(this.tokenKey(scope));
    if (token) return `Bearer ${token}`;
    return this.wantsBasic ? this.basic() : undefined;
  }

  /**
   * The Authorization answering a 401's `WWW-Authenticate` for `scope`.
   * Throws UpstreamError when the challenge cannot be met.
   */
  async respond(header: string | null, scope: string, what: string): Promise<string> {
    const bearer = findChallenge(header, 'bearer');
    if (bearer?.params.realm) return `Bearer ${await this.fetchToken(bearer.params, scope, what)}`;
    if (findChallenge(header, 'basic') && this.credentials) {
      this.wantsBasic = true;
      return this.basic()!;
    }
    const schemes = parseWwwAuthenticate(header).map((c) => c.scheme).join(', ') || 'none';
    throw new UpstreamError(this.upstream, 401, what, {
      problem: this.credentials
        ? `answered 401 with a challenge Berth cannot meet (schemes: ${schemes})`
        : 'needs credentials (set the mirror\'s _USERNAME and _PASSWORD)',
    });
  }

  private basic(): string | undefined {
    if (!this.credentials) return undefined;
    const { username, password } = this.credentials;
    return `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${username}:${password}`)))}`;
  }

  /** Token keys carry only the upstream and scope: the realm and service come from the challenge. */
  private tokenKey(scope: string): string {
    return `${this.upstream} ${scope}`;
  }

  private async fetchToken(params: Record<string, string>, scope: string, what: string): Promise<string> {
    const realm = this.realmUrl(params.realm ?? '', what);
    if (params.service) realm.searchParams.set('service', params.service);
    // The upstream knows best what it needs; our own scope when its challenge names none.
    for (const one of (params.scope ?? scope).split(' ').filter(Boolean)) realm.searchParams.append('scope', one);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': USER_AGENT };
    const basic = this.basic();
    if (basic && this.credentials) {
      headers.Authorization = basic;
      realm.searchParams.set('account', this.credentials.username);
    }
    let res: Response;
    try {
      res = await this.fetch(realm.toString(), { headers, redirect: 'follow', signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS) });
    } catch (cause) {
      throw new UpstreamError(this.upstream, null, `token for ${what}`, { cause });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new UpstreamError(this.upstream, res.status >= 500 || res.status === 429 ? res.status : 502, `token for ${what}`, {
        problem: res.status === 401 || res.status === 403
          ? `its token service ${realm.origin} refused ${this.credentials ? "the mirror's credentials" : 'an anonymous token'} (${res.status})`
          : `its token service ${realm.origin} answered ${res.status}`,
        retryAfter: res.headers.get('retry-after') ?? undefined,
      });
    }
    const answer = await readTokenAnswer(res);
    if (!answer) throw new UpstreamError(this.upstream, 502, `token for ${what}`, { problem: `its token service ${realm.origin} sent no token` });
    this.tokens.set(this.tokenKey(scope), answer.token, answer.expiresIn);
    return answer.token;
  }

  /**
   * The realm must be http(s), and plain http only for an upstream that is itself plain http
   * (a local registry): credentials never go out in clear because an upstream said so.
   */
  private realmUrl(realm: string, what: string): URL {
    let url: URL | null = null;
    try {
      url = new URL(realm);
    } catch {
      url = null;
    }
    const upstreamIsHttp = this.upstream.startsWith('http:');
    if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && upstreamIsHttp))) {
      throw new UpstreamError(this.upstream, 502, what, { problem: `its token realm "${realm.slice(0, 200)}" is not an acceptable URL` });
    }
    return url;
  }
}

export const USER_AGENT = 'berth-mirror';

async function readTokenAnswer(res: Response): Promise<{ token: string; expiresIn: number } | null> {
  let value: unknown;
  try {
    value = JSON.parse(await readCappedText(res, { limit: MAX_TOKEN_RESPONSE_BYTES, tooLarge: () => new RegistryError('UNAVAILABLE') }));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const body = value as { token?: unknown; access_token?: unknown; expires_in?: unknown };
  const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
  if (typeof token !== 'string' || !token || token.length > MAX_TOKEN_RESPONSE_BYTES) return null;
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
  return { token, expiresIn: Math.min(expiresIn, MAX_TOKEN_SECONDS) };
}
