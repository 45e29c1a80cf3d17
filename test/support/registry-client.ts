/** A small OCI client for the API suite: raw requests plus the common push steps. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { authedFetch } from './auth-client.ts';

export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export type Bytes = Uint8Array<ArrayBuffer>;

export function randomBlob(size: number): Bytes {
  return new Uint8Array(randomBytes(size));
}

export class RegistryClient {
  readonly fetch: Fetcher;

  constructor(
    readonly base: string,
    credentials: { username: string; password: string } | null,
  ) {
    this.fetch = authedFetch(base, credentials);
  }

  /** Absolute URL for a Location header (relative or absolute). */
  resolve(location: string): string {
    return new URL(location, this.base).toString();
  }

  async startUpload(repo: string): Promise<string> {
    const res = await this.fetch(`/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    assert.equal(res.status, 202, await describe(res));
    const location = res.headers.get('location');
    assert.ok(location, 'upload Location header');
    return location;
  }

  /** POST + one PATCH + PUT, as skopeo does. Returns the digest. */
  async pushBlob(repo: string, bytes: Bytes | string): Promise<string> {
    const body = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    const digest = sha256(body);
    const location = await this.startUpload(repo);
    const patch = await this.fetch(location, { method: 'PATCH', body, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(patch.status, 202, await describe(patch));
    const put = await this.fetch(withDigest(patch.headers.get('location') ?? location, digest), { method: 'PUT' });
    assert.equal(put.status, 201, await describe(put));
    return digest;
  }

  async putManifest(repo: string, reference: string, manifest: object | string, mediaType = OCI_MANIFEST): Promise<Response> {
    const body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    return this.fetch(`/v2/${repo}/manifests/${reference}`, { method: 'PUT', body, headers: { 'Content-Type': mediaType } });
  }

  /** Pushes a config and `layers` blobs and an OCI image manifest under `tag`. */
  async pushImage(repo: string, tag: string, layers: Bytes[] = [randomBlob(1024)], extra: object = {}): Promise<{ digest: string; body: string }> {
    const config = JSON.stringify({ architecture: 'amd64', os: 'linux', nonce: randomBytes(8).toString('hex') });
    const configDigest = await this.pushBlob(repo, config);
    const layerDescriptors = [];
    for (const layer of layers) {
      layerDescriptors.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: await this.pushBlob(repo, layer), size: layer.byteLength });
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(config) },
      layers: layerDescriptors,
      ...extra,
    };
    const body = JSON.stringify(manifest);
    const res = await this.putManifest(repo, tag, body);
    assert.equal(res.status, 201, await describe(res));
    return { digest: sha256(body), body };
  }
}

export function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** Status and body of a response, for assertion messages. */
export async function describe(res: Response): Promise<string> {
  const text = await res.clone().text().catch(() => '');
  return `${res.status} ${res.url} ${text.slice(0, 400)}`;
}

/** The first OCI error code of an error response. */
export async function errorCode(res: Response): Promise<string | undefined> {
  return errorCodeOf(await res.text().catch(() => ''));
}

/** The first OCI error code of an error body already read as text. */
export function errorCodeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { errors?: { code?: string }[] } | null)?.errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** Fetches a token the way docker does: read the challenge, ask the realm with Basic credentials. */
export async function bearerToken(base: string, creds: { username: string; password: string }, scope: string | string[]): Promise<string> {
  const challenge = (await fetch(`${base}/v2/`)).headers.get('www-authenticate') ?? '';
  const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
  const service = /service="([^"]+)"/.exec(challenge)?.[1];
  assert.ok(realm && service, `Bearer challenge expected, got "${challenge}"`);
  const url = new URL(realm);
  url.searchParams.set('service', service);
  for (const one of Array.isArray(scope) ? scope : [scope]) url.searchParams.append('scope', one);
  const basic = Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
  const res = await fetch(url, { headers: { Authorization: `Basic ${basic}` } });
  assert.equal(res.status, 200, await describe(res));
  const body = (await res.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  assert.ok(token);
  return token;
}
