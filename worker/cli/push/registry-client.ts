/**
 * The push side of the Distribution API for `berth push`: authenticated requests to one
 * repository, with the Docker token flow (distribution `docs/spec/auth/token.md`): on a 401
 * Bearer challenge, fetch a token from the realm (Basic credentials, or a refresh token from a
 * `docker login`) for `repository:<name>:push,pull` and retry. Berth also takes Basic directly.
 */
import { CliError } from '../args.ts';
import { errorSummary, networkCause } from '../admin-client.ts';
import type { PushCredentials } from './credentials.ts';

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

export class RegistryClient {
  private bearer: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly repository: string,
    private readonly credentials: PushCredentials,
    private readonly host: string,
  ) {}

  /** Headers that authorise a request to the registry (not to presigned store URLs). */
  authHeaders(): Record<string, string> {
    if (this.bearer) return { Authorization: `Bearer ${this.bearer}` };
    return this.basicHeaders();
  }

  private basicHeaders(): Record<string, string> {
    if (this.credentials.kind !== 'basic') return {};
    return { Authorization: `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}` };
  }

  /** A request to `path` (or an absolute Location); a 401 is answered once with a token. */
  async send(method: string, path: string, init: { body?: string | Uint8Array; headers?: Record<string, string> } = {}): Promise<Answer> {
    let answer = await this.raw(method, path, init);
    if (answer.status === 401) {
      const challenge = answer.headers.get('www-authenticate') ?? '';
      if (await this.fetchToken(challenge)) answer = await this.raw(method, path, init);
    }
    if (answer.status === 401) {
      if (this.credentials.kind === 'none') {
        throw new CliError(`no credentials for ${this.host}: use --user with --password-stdin, BERTH_USER/BERTH_PASSWORD, or docker login ${this.host}`);
      }
      throw new CliError(`${this.host} refused the credentials from ${this.credentials.from}: ${errorSummary(answer.text)}`, 1);
    }
    if (answer.status === 403) throw new CliError(`${this.credentials.kind === 'none' ? 'anonymous' : this.credentials.username} may not push to ${this.repository} on ${this.host}: ${errorSummary(answer.text)}`, 1);
    return answer;
  }

  resolve(location: string): string {
    return new URL(location, this.baseUrl).toString();
  }

  private async raw(method: string, path: string, init: { body?: string | Uint8Array; headers?: Record<string, string> }): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(this.resolve(path), {
        method,
        headers: { ...this.authHeaders(), ...init.headers },
        body: init.body as BodyInit | undefined,
        redirect: 'manual',
      });
    } catch (error) {
      throw new CliError(`cannot reach ${this.baseUrl}: ${networkCause(error)}`, 1);
    }
    return { status: res.status, headers: res.headers, text: method === 'HEAD' ? '' : await res.text() };
  }

  /** Token from the challenge's realm; false when there is no Bearer challenge or nothing to sign in with. */
  private async fetchToken(challenge: string): Promise<boolean> {
    if (!/^Bearer /i.test(challenge) || this.credentials.kind === 'none') return false;
    const realm = /realm="([^"]+)"/i.exec(challenge)?.[1];
    const service = /service="([^"]+)"/i.exec(challenge)?.[1];
    if (!realm) return false;
    // The challenge names the scopes this request needs (a mount also needs pull on its source).
    const challenged = /scope="([^"]+)"/i.exec(challenge)?.[1];
    const scopes = challenged ? challenged.split(' ').filter(Boolean) : [`repository:${this.repository}:push,pull`];
    let res: Response;
    try {
      if (this.credentials.kind === 'refresh') {
        const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.credentials.refreshToken, client_id: 'berth' });
        for (const scope of scopes) form.append('scope', scope);
        if (service) form.set('service', service);
        res = await fetch(realm, { method: 'POST', body: form });
      } else {
        const url = new URL(realm);
        if (service) url.searchParams.set('service', service);
        for (const scope of scopes) url.searchParams.append('scope', scope);
        res = await fetch(url, { headers: this.basicHeaders() });
      }
    } catch (error) {
      throw new CliError(`cannot reach the token service ${realm}: ${networkCause(error)}`, 1);
    }
    const body = (await res.json().catch(() => ({}))) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!res.ok || !token) return false;
    this.bearer = token;
    return true;
  }
}
