/**
 * The CLI's client for the registry API itself (`/v2/`), for the browsing commands. Berth takes
 * HTTP Basic on /v2 directly, so signed-in requests carry it; without a password the Docker
 * token flow runs anonymously (public repositories): a 401 Bearer challenge names the realm,
 * service and scope, a token is fetched and the request sent once more with it.
 * Every failure is one line (CliError) naming what was asked and why it failed.
 */
import { CliError } from './args.ts';
import { errorSummary, networkCause } from './admin-client.ts';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Most bytes read from one answer (manifests are at most a few MiB, configs smaller). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

function challengeParams(header: string | null): Record<string, string> | null {
  if (!header || !/^bearer\s/i.test(header)) return null;
  const params: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/gi)) params[m[1]!.toLowerCase()] = m[2]!.replace(/\\(.)/g, '$1');
  return params;
}

export class RegistryApiClient {
  private readonly basic: string | null;
  private token: string | null = null;

  constructor(
    readonly url: string,
    credentials: RegistryCredentials | null,
  ) {
    this.basic = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : null;
  }

  /** Sends a request under /v2/; `what` names it in errors ("tags team/app"). Non-2xx is a CliError. */
  async request(method: string, path: string, what: string, headers: Record<string, string> = {}): Promise<Response> {
    let res = await this.send(method, path, headers);
    if (res.status === 401 && !this.basic) {
      const params = challengeParams(res.headers.get('www-authenticate'));
      await res.body?.cancel();
      if (params?.realm) {
        this.token = await this.anonymousToken(params);
        res = await this.send(method, path, headers);
      }
    }
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      const hint = res.status === 401 ? (this.basic ? ' (check the user and password)' : ' (sign in: --password-stdin or BERTH_PASSWORD)') : '';
      throw new CliError(`${what}: HTTP ${res.status} ${errorSummary(text) || res.statusText}${hint}`, 1);
    }
    return res;
  }

  async json<T>(path: string, what: string, headers: Record<string, string> = {}): Promise<{ value: T; res: Response }> {
    const res = await this.request('GET', path, what, headers);
    const text = await boundedText(res, what);
    try {
      return { value: JSON.parse(text) as T, res };
    } catch {
      throw new CliError(`${what}: the answer is not JSON`, 1);
    }
  }

  /** Every page of a paged listing (catalog, tags), following `Link: <…>; rel="next"` (RFC 8288). */
  async *pages<T>(first: string, what: string, maxPages = 10_000): AsyncGenerator<T> {
    let path: string | null = first;
    for (let page = 0; path !== null && page < maxPages; page++) {
      const { value, res }: { value: T; res: Response } = await this.json<T>(path, what);
      yield value;
      path = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1] ?? null;
    }
  }

  private async send(method: string, path: string, headers: Record<string, string>): Promise<Response> {
    const auth = this.basic ?? (this.token ? `Bearer ${this.token}` : null);
    try {
      return await fetch(`${this.url}${path}`, { method, headers: { ...headers, ...(auth ? { Authorization: auth } : {}) } });
    } catch (error) {
      throw new CliError(`cannot reach ${this.url}: ${networkCause(error)}`, 1);
    }
  }

  private async anonymousToken(params: Record<string, string>): Promise<string> {
    const realm = new URL(params.realm!);
    if (params.service) realm.searchParams.set('service', params.service);
    for (const scope of (params.scope ?? '').split(' ').filter(Boolean)) realm.searchParams.append('scope', scope);
    let res: Response;
    try {
      res = await fetch(realm);
    } catch (error) {
      throw new CliError(`cannot reach the token service ${realm.origin}: ${networkCause(error)}`, 1);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!res.ok || !token) throw new CliError(`the token service ${realm.origin} refused an anonymous token (HTTP ${res.status})`, 1);
    return token;
  }
}

/** The body as text, refusing more than MAX_BODY_BYTES (a wrong URL could serve anything). */
export async function boundedText(res: Response, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > MAX_BODY_BYTES) {
    await res.body?.cancel();
    throw new CliError(`${what}: the answer is larger than ${MAX_BODY_BYTES} bytes`, 1);
  }
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new CliError(`${what}: the answer is larger than ${MAX_BODY_BYTES} bytes`, 1);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
