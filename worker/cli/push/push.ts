/**
 * `berth push SOURCE REPO:TAG`: reads the image from its source (image.ts), then, blob by blob,
 * skips what the repository already holds (HEAD), mounts what another repository of the same
 * registry holds (as far as earlier pushes know), and uploads the rest: straight to the bucket
 * where the deployment can presign (direct.ts), else in chunks under its body limit
 * (chunked.ts). Manifests go last, children before the index that lists them, the tag with the
 * last one, so a puller never sees a manifest whose blobs are not all there.
 */
import { CliError } from '../args.ts';
import { errorSummary } from '../admin-client.ts';
import { uploadChunked } from './chunked.ts';
import type { PushCredentials } from './credentials.ts';
import { uploadDirect, type BlobUpload } from './direct.ts';
import { distinctBlobs, type LocalBlob, type LocalImage, type LocalManifest } from './image.ts';
import { formatBytes, type Progress } from './progress.ts';
import type { Source, Target } from './reference.ts';
import { RegistryClient } from './registry-client.ts';
import { readDockerArchive } from './sources/docker-archive.ts';
import { readDockerDaemon } from './sources/docker-daemon.ts';
import { readOciLayout } from './sources/oci-layout.ts';
import { PushState } from './state.ts';

export interface PushOptions {
  url: string;
  source: Source;
  target: Target;
  credentials: PushCredentials;
  cacheDir: string;
  progress: Progress;
  /** Parts (or chunks) in flight at once. */
  concurrency: number;
}

export interface PushReport {
  digest: string;
  size: number;
  uploaded: number;
  mounted: number;
  present: number;
  bytesSent: number;
}

export async function loadImage(source: Source, cacheDir: string, progress: Progress): Promise<LocalImage> {
  switch (source.transport) {
    case 'oci':
      return readOciLayout(source.dir, source.ref);
    case 'docker-archive':
    case 'docker-daemon': {
      const id = 'compress';
      const options = {
        cacheDir,
        onLayer: (i: number, n: number, size: number) => progress.start(id, `gzip layer ${i} of ${n}`, size),
        onLayerDone: () => progress.done(id, 'compressed'),
        onCompressBytes: (bytes: number) => progress.advance(id, bytes),
      };
      return source.transport === 'docker-archive' ? readDockerArchive(source.file, options) : readDockerDaemon(source.image, options);
    }
  }
}

export async function push(options: PushOptions): Promise<PushReport> {
  const { target, progress } = options;
  const host = new URL(options.url).host;
  const client = new RegistryClient(options.url, target.repository, options.credentials, host);
  const state = new PushState(options.cacheDir, options.url);
  const image = await loadImage(options.source, options.cacheDir, progress);
  try {
    const report: PushReport = { digest: '', size: 0, uploaded: 0, mounted: 0, present: 0, bytesSent: 0 };
    const up: BlobUpload = { client, state, progress, concurrency: options.concurrency };
    let direct = true;
    for (const blob of distinctBlobs(image)) {
      const outcome = await pushBlob(blob, up, direct);
      if (outcome === 'fallback') direct = false;
      if (outcome === 'present') report.present++;
      else if (outcome === 'mounted') report.mounted++;
      else {
        report.uploaded++;
        report.bytesSent += blob.size;
      }
      await state.remember({ [blob.digest]: target.repository });
    }
    const top = image.manifests.at(-1)!;
    for (const manifest of image.manifests) {
      await putManifest(client, manifest, manifest === top ? target.tag : manifest.digest);
    }
    report.digest = top.digest;
    report.size = top.bytes.byteLength;
    return report;
  } finally {
    await image.cleanup();
  }
}

type BlobOutcome = 'present' | 'mounted' | 'uploaded' | 'fallback';

async function pushBlob(blob: LocalBlob, up: BlobUpload, tryDirect: boolean): Promise<BlobOutcome> {
  const { client, progress } = up;
  const repo = client.repository;
  const short = blob.digest.slice(7, 19);
  const head = await client.send('HEAD', `/v2/${repo}/blobs/${blob.digest}`);
  if (head.status === 200) {
    progress.info(`${short}: already in ${repo}`);
    return 'present';
  }
  const holder = await up.state.holder(blob.digest);
  if (holder && holder !== repo) {
    const mount = await client.send('POST', `/v2/${repo}/blobs/uploads/?mount=${blob.digest}&from=${encodeURIComponent(holder)}`);
    if (mount.status === 201) {
      progress.info(`${short}: mounted from ${holder}`);
      return 'mounted';
    }
    // Not mountable (gone, or no pull right there): the registry opened an upload instead; drop it.
    const location = mount.headers.get('location');
    if (mount.status === 202 && location) await client.send('DELETE', location);
  }
  if (tryDirect) {
    const outcome = await uploadDirect(blob, up);
    if (outcome === 'exists') {
      progress.info(`${short}: already in ${repo}`);
      return 'present';
    }
    if (outcome === 'uploaded') return 'uploaded';
    progress.info(`${client.baseUrl} cannot take direct uploads here: sending chunks under its body limit`);
    await uploadChunked(blob, up);
    return 'fallback';
  }
  await uploadChunked(blob, up);
  return 'uploaded';
}

async function putManifest(client: RegistryClient, manifest: LocalManifest, reference: string): Promise<void> {
  const res = await client.send('PUT', `/v2/${client.repository}/manifests/${reference}`, {
    body: manifest.bytes,
    headers: { 'Content-Type': manifest.mediaType },
  });
  if (res.status !== 201) {
    throw new CliError(`pushing manifest ${manifest.digest} as ${reference}: HTTP ${res.status} ${errorSummary(res.text)}`, 1);
  }
}

