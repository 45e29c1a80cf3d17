/**
 * Helpers for the pull-through mirror suites: the upstreams they run (Debian's docker-registry
 * with htpasswd, a second Berth with token auth) and a pull done the way clients do it
 * (manifest, then every blob, each verified against its digest).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe as explain, type Fetcher } from './registry-client.ts';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export interface Descriptor {
  digest: string;
  size: number;
}

export interface PulledImage {
  digest: string;
  config: Descriptor;
  layers: Descriptor[];
  /** Per blob: did Berth answer with a redirect (to the store) or serve it itself. */
  redirected: boolean[];
}

/**
 * GET manifest (asserting 200), then every blob (following redirects), each checked against its
 * digest. Every request says `Connection: close`, as docker, podman and skopeo do: ten pulls at
 * once on a busy machine otherwise lose requests to keep-alive connections the server closes as
 * they are reused.
 */
export async function pullImage(fetcher: Fetcher, name: string, reference: string): Promise<PulledImage> {
  const res = await fetcher(`/v2/${name}/manifests/${reference}`, { headers: { Accept: MANIFEST_ACCEPT, Connection: 'close' } });
  assert.equal(res.status, 200, `manifest ${name}:${reference}: ${await explain(res)}`);
  const text = await res.text();
  const digest = res.headers.get('docker-content-digest') ?? '';
  assert.equal(digest, sha256(text), 'Docker-Content-Digest is the digest of the bytes served');
  const manifest = JSON.parse(text) as { config: Descriptor; layers: Descriptor[] };
  const redirected: boolean[] = [];
  for (const blob of [manifest.config, ...manifest.layers]) {
    const got = await fetcher(`/v2/${name}/blobs/${blob.digest}`, { redirect: 'follow', headers: { Connection: 'close' } });
    assert.equal(got.status, 200, `blob ${blob.digest}: ${await explain(got)}`);
    const bytes = new Uint8Array(await got.arrayBuffer());
    assert.equal(bytes.byteLength, blob.size, `size of ${blob.digest}`);
    assert.equal(sha256(bytes), blob.digest, `bytes of ${blob.digest}`);
    redirected.push(got.redirected);
  }
  return { digest, config: manifest.config, layers: manifest.layers, redirected };
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The mirror's log lines (`{…,"msg":"mirror: stale-tag","event":"stale-tag",…}`) in a process's output. */
export function mirrorEvents(output: string): Record<string, unknown>[] {
  const events: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.includes('"msg":"mirror: ')) continue;
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the capture
    }
  }
  return events;
}
