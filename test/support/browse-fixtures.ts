/**
 * What the UI and CLI browsing tests look at, pushed over the real API: an image with a full
 * config (entrypoint, env with a secret value, labels, created), a multi-platform index (amd64,
 * arm64 and a buildx-style attestation), a signature referring to the image, a repository a
 * pull-only user may not see, and that user.
 */
import assert from 'node:assert/strict';
import { describe as describeResponse, OCI_INDEX, OCI_MANIFEST, RegistryClient, randomBlob, sha256 } from './registry-client.ts';

export const READER = { username: 'reader', password: 'reader-password-1' };
/** The env value that must never appear in a page or CLI output. */
export const SECRET_ENV_VALUE = 'hunter2-do-not-show';

export interface PushedImage {
  digest: string;
  manifestSize: number;
  /** Config + layers, as the UI sums them. */
  size: number;
  configDigest: string;
  layerDigests: string[];
}

export interface BrowseFixtures {
  app: PushedImage;
  amd64: PushedImage;
  arm64: PushedImage;
  indexDigest: string;
  signatureDigest: string;
}

const CONFIG_TYPE = 'application/vnd.oci.image.config.v1+json';
const LAYER_TYPE = 'application/vnd.oci.image.layer.v1.tar+gzip';

async function pushImage(client: RegistryClient, repo: string, reference: string, config: object, layerSizes: number[]): Promise<PushedImage> {
  const configBody = JSON.stringify(config);
  const configDigest = await client.pushBlob(repo, configBody);
  const layers = [];
  for (const size of layerSizes) {
    layers.push({ mediaType: LAYER_TYPE, digest: await client.pushBlob(repo, randomBlob(size)), size });
  }
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: CONFIG_TYPE, digest: configDigest, size: Buffer.byteLength(configBody) },
    layers,
  });
  const res = await client.putManifest(repo, reference, manifest);
  assert.equal(res.status, 201, await describeResponse(res));
  return {
    digest: sha256(manifest),
    manifestSize: Buffer.byteLength(manifest),
    size: Buffer.byteLength(configBody) + layerSizes.reduce((a, b) => a + b, 0),
    configDigest,
    layerDigests: layers.map((l) => l.digest),
  };
}

function imageConfig(architecture: string, extra: object = {}): object {
  return {
    created: '2026-11-05T10:20:30Z',
    architecture,
    os: 'linux',
    config: {
      Entrypoint: ['/usr/bin/app', '--serve'],
      Cmd: ['--port', '8080'],
      Env: ['PATH=/usr/local/bin:/usr/bin', `API_TOKEN=${SECRET_ENV_VALUE}`],
      Labels: { 'org.opencontainers.image.source': 'https://example.invalid/team/app', maintainer: 'team@example.invalid' },
      ExposedPorts: { '8080/tcp': {} },
      WorkingDir: '/srv',
      User: 'app',
    },
    rootfs: { type: 'layers', diff_ids: [] },
    history: [{ created_by: 'test fixture' }],
    ...extra,
  };
}

export async function pushBrowseFixtures(base: string, admin: { username: string; password: string }): Promise<BrowseFixtures> {
  const client = new RegistryClient(base, admin);
  const app = await pushImage(client, 'team/app', '1.0', imageConfig('amd64'), [2048, 3000]);
  const again = await client.putManifest('team/app', 'latest', await (await client.fetch(`/v2/team/app/manifests/${app.digest}`)).text());
  assert.equal(again.status, 201);

  const amd64 = await pushImage(client, 'team/multi', 'amd64-only', imageConfig('amd64', { created: '2026-11-01T00:00:00Z' }), [1024]);
  const arm64 = await pushImage(client, 'team/multi', 'arm64-only', imageConfig('arm64', { variant: 'v8', created: '2026-11-02T00:00:00Z' }), [4096, 512]);
  const attestation = await pushImage(client, 'team/multi', 'attestation-only', { architecture: 'unknown', os: 'unknown' }, [100]);
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [
      { mediaType: OCI_MANIFEST, digest: amd64.digest, size: amd64.manifestSize, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: OCI_MANIFEST, digest: arm64.digest, size: arm64.manifestSize, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      {
        mediaType: OCI_MANIFEST, digest: attestation.digest, size: attestation.manifestSize, platform: { os: 'unknown', architecture: 'unknown' },
        annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': amd64.digest },
      },
    ],
  });
  const indexRes = await client.putManifest('team/multi', '2.0', index, OCI_INDEX);
  assert.equal(indexRes.status, 201, await describeResponse(indexRes));
  // Only the index keeps its tag: the children stay reachable by digest.
  for (const tag of ['amd64-only', 'arm64-only', 'attestation-only']) {
    assert.equal((await client.fetch(`/v2/team/multi/manifests/${tag}`, { method: 'DELETE' })).status, 202);
  }

  const empty = '{}';
  const emptyDigest = await client.pushBlob('team/app', empty);
  const signatureLayer = await client.pushBlob('team/app', 'signature-bytes');
  const signature = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: emptyDigest, size: 2 },
    layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: signatureLayer, size: 15 }],
    subject: { mediaType: OCI_MANIFEST, digest: app.digest, size: app.manifestSize },
  });
  const signatureDigest = sha256(signature);
  const sigRes = await client.putManifest('team/app', signatureDigest, signature);
  assert.equal(sigRes.status, 201, await describeResponse(sigRes));

  await pushImage(client, 'other/private', '1', imageConfig('amd64'), [64]);
  await pushImage(client, 'team/scratch', 'old', imageConfig('amd64'), [64]);

  const user = await fetch(`${base}/admin/users`, {
    method: 'POST',
    headers: { Authorization: `Basic ${btoa(`${admin.username}:${admin.password}`)}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ account: READER.username, password: READER.password, rules: ['team/**=pull'] }),
  });
  assert.equal(user.status, 201, await user.text());
  return { app, amd64, arm64, indexDigest: sha256(index), signatureDigest };
}
