/**
 * An upstream registry as the mirror sees it: manifests and blobs by name, over the
 * distribution-spec endpoints end-2 (blobs) and end-3 (manifests), authenticated like docker
 * (upstream-auth.ts). Every failure is an UpstreamError naming the upstream and its status.
 *
 * Redirects are followed here rather than by fetch, so the Authorization header meant for the
 * registry never reaches another origin (Docker Hub and GHCR redirect blob GETs to a CDN with a
 * signed URL; RFC 9110 §15.4 leaves credentials on redirects to the client).
 */
import type { MirrorUpstream } from '../../config.ts';
import { MANIFEST_MEDIA_TYPES } from '../../oci/media-types.ts';
import { UpstreamAuth, USER_AGENT, type Fetch } from './upstream-auth.ts';
import { UpstreamError } from './upstream-error.ts';
import type { UpstreamTokens } from './upstream-tokens.ts';

/** How long an upstream may take to start answering (headers); bodies are watched by the caller. */
const HEADERS_TIMEOUT_MS = 30_000;
const MAX_REDIRECTS = 5;
const REDIRECTS = [301, 302, 303, 307, 308];
/** Every manifest kind Berth stores (schema 1 is not asked for: registries convert or refuse it). */
const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

/** An upstream's answer, with a way to drop its connection (a body that stalls, a client gone). */
export interface UpstreamAnswer {
  response: Response;
  abort(): void;
}

export class Upstream {
  readonly url: string;
  private readonly auth: UpstreamAuth;

  constructor(
    mirror: MirrorUpstream,
    tokens: UpstreamTokens,
    private readonly fetch: Fetch = (input, init) => globalThis.fetch(input, init),
  ) {
    this.url = mirror.url;
    this.auth = new UpstreamAuth(mirror.url, mirror.credentials, tokens, this.fetch);
  }

  /** GET or HEAD `/v2/<name>/manifests/<reference>` asking for every manifest kind. */
  manifest(name: string, reference: string, method: 'GET' | 'HEAD'): Promise<UpstreamAnswer> {
    const separator = reference.includes(':') ? '@' : ':';
    return this.send(`/v2/${name}/manifests/${reference}`, method, name, `manifest ${name}${separator}${reference}`, {
      Accept: MANIFEST_ACCEPT,
    });
  }

  /** GET or HEAD `/v2/<name>/blobs/<digest>`. */
  blob(name: string, digest: string, method: 'GET' | 'HEAD'): Promise<UpstreamAnswer> {
    return this.send(`/v2/${name}/blobs/${digest}`, method, name, `blob ${name}@${digest}`, {});
  }

  private async send(path: string, method: string, name: string, what: string, headers: Record<string, string>): Promise<UpstreamAnswer> {
    const scope = `repository:${name}:pull`;
    const url = `${this.url}${path}`;
    let answer = await this.follow(url, method, headers, this.auth.preemptive(scope), what);
    if (answer.response.status === 401) {
      const challenge = answer.response.headers.get('www-authenticate');
      await discard(answer.response);
      const authorization = await this.auth.respond(challenge, scope, what);
      answer = await this.follow(url, method, headers, authorization, what);
    }
    const { response } = answer;
    if (!response.ok) {
      await discard(response);
      throw new UpstreamError(this.url, response.status, what, { retryAfter: response.headers.get('retry-after') ?? undefined });
    }
    return answer;
  }

  /** One request and its redirects; Authorization goes only to the upstream's own origin. */
  private async follow(
    start: string,
    method: string,
    headers: Record<string, string>,
    authorization: string | undefined,
    what: string,
  ): Promise<UpstreamAnswer> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const sameOrigin = new URL(url).origin === this.url;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(new DOMException('upstream did not answer in time', 'TimeoutError')), HEADERS_TIMEOUT_MS);
      let response: Response;
      try {
        response = await this.fetch(url, {
          method,
          redirect: 'manual',
          signal: controller.signal,
          headers: {
            'User-Agent': USER_AGENT,
            ...headers,
            ...(authorization && sameOrigin ? { Authorization: authorization } : {}),
          },
        });
      } catch (cause) {
        throw new UpstreamError(this.url, null, what, { cause });
      } finally {
        clearTimeout(timer);
      }
      const location = response.headers.get('location');
      if (!REDIRECTS.includes(response.status) || !location) return { response, abort: () => controller.abort() };
      await discard(response);
      const next = new URL(location, url);
      if (hop >= MAX_REDIRECTS || (next.protocol !== 'https:' && next.protocol !== 'http:')) {
        throw new UpstreamError(this.url, 502, what, { problem: `redirected too often or to "${next.protocol}"` });
      }
      url = next.toString();
    }
  }
}

async function discard(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => undefined);
}
