/**
 * Test images for the end-to-end client tests, written by hand so that nothing is pulled from
 * outside and the same inputs always give the same digests.
 *
 * One image, two forms:
 *   - a `docker save`-style archive (manifest.json + config + layer tars) for `docker load` and
 *     `podman load`;
 *   - an OCI image layout (image-spec "image-layout.md": oci-layout, index.json, blobs/) for skopeo.
 * Both share the image config, so the OCI config digest equals the Docker image ID.
 *
 * Layers: a small one, and one holding `layerMb` MiB of incompressible bytes. Incompressible so
 * that the gzip clients apply on push does not shrink the transfer. The bytes are an AES-128-CTR
 * keystream under a fixed key: random-looking, yet identical on every run and fast (~1 GB/s).
 *
 * Everything is built once under `dir` and reused while the recorded inputs match (meta.json).
 */
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const MiB = 1024 * 1024;

/** Bumped whenever the image recipe changes, so a cached build from an old recipe is redone. */
const RECIPE = 1;

export interface TestImage {
  /** Tarball for `docker load` / `podman load` (docker-archive). */
  dockerArchive: string;
  /** Tag the archive carries once loaded. */
  localTag: string;
  /** `sha256:…` of the config: `docker inspect .Id` after load or pull. */
  imageId: string;
  /** OCI image layout directory; its manifest is tagged `ociTag`. */
  ociLayout: string;
  ociTag: string;
  /** `sha256:…` of the OCI manifest in `ociLayout`. */
  ociManifestDigest: string;
  /** Bytes of the large layer's uncompressed tar. */
  bigLayerBytes: number;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

const sha256 = (data: Uint8Array | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** One ustar header block (POSIX.1-1988). mtime, uid and gid are 0 so digests never drift. */
function tarHeader(name: string, size: number, type: 'file' | 'dir'): Buffer {
  const block = Buffer.alloc(512);
  const put = (offset: number, length: number, value: string): void => {
    block.write(value, offset, length, 'ascii');
  };
  const octal = (offset: number, length: number, value: number): void => {
    put(offset, length - 1, value.toString(8).padStart(length - 1, '0'));
  };
  if (name.length > 100) throw new Error(`tar name too long: ${name}`);
  put(0, 100, name);
  octal(100, 8, type === 'dir' ? 0o755 : 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, 0);
  put(148, 8, '        ');
  put(156, 1, type === 'dir' ? '5' : '0');
  put(257, 6, 'ustar\0');
  put(263, 2, '00');
  put(265, 32, 'root');
  put(297, 32, 'root');
  let sum = 0;
  for (const byte of block) sum += byte;
  put(148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

const padding = (size: number): Buffer => Buffer.alloc((512 - (size % 512)) % 512);

/** Writes to a file while hashing, awaiting back-pressure so memory stays flat. */
class HashingFile {
  readonly hash: Hash = createHash('sha256');
  bytes = 0;
  private readonly out: WriteStream;
  constructor(path: string) {
    this.out = createWriteStream(path);
  }
  async write(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.out.write(chunk)) await new Promise<void>((resolve) => this.out.once('drain', resolve));
  }
  async close(): Promise<string> {
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/** Small layer: a directory and a text file. Returned in memory (a few KiB). */
function smallLayerTar(layerMb: number, variant: string): Buffer {
  const text = Buffer.from(`Berth end-to-end test image, large layer ${layerMb} MiB, recipe ${RECIPE}${variant ? `, variant ${variant}` : ''}\n`);
  return Buffer.concat([
    tarHeader('berth-e2e/', 0, 'dir'),
    tarHeader('berth-e2e/readme.txt', text.length, 'file'),
    text,
    padding(text.length),
    Buffer.alloc(1024),
  ]);
}

/** Large layer: `berth-e2e/big.bin` of `layerMb` MiB keystream, streamed to `path`. */
async function writeBigLayerTar(path: string, layerMb: number, variant: string): Promise<{ digest: string; size: number }> {
  const file = new HashingFile(path);
  const size = layerMb * MiB;
  await file.write(tarHeader('berth-e2e/', 0, 'dir'));
  await file.write(tarHeader('berth-e2e/big.bin', size, 'file'));
  const key = variant ? createHash('sha256').update(variant).digest().subarray(0, 16) : Buffer.alloc(16, 0x42);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16, 0));
  const zeros = Buffer.alloc(MiB);
  for (let i = 0; i < layerMb; i++) await file.write(cipher.update(zeros));
  await file.write(padding(size));
  await file.write(Buffer.alloc(1024));
  return { digest: await file.close(), size: file.bytes };
}

function blobPath(layout: string, digest: string): string {
  return join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length));
}

/** Appends a whole file to `out` as one tar entry. */
async function appendFileEntry(out: HashingFile, name: string, source: string, size: number): Promise<void> {
  await out.write(tarHeader(name, size, 'file'));
  for await (const chunk of createReadStream(source, { highWaterMark: MiB })) await out.write(chunk as Buffer);
  await out.write(padding(size));
}

export interface ImageOptions {
  /** Work directory (e.g. `.tmp/e2e/images`); created if missing. */
  dir: string;
  /** Size of the large layer in MiB. */
  layerMb: number;
  /**
   * Makes every layer and the config distinct (own image ID), for suites that remove their
   * images from the shared Docker daemon while other checkouts' suites may be using theirs.
   */
  variant?: string;
}

/** Builds the test image in both forms, or returns the cached build. */
export async function ensureTestImage({ dir, layerMb, variant = '' }: ImageOptions): Promise<TestImage> {
  if (!Number.isSafeInteger(layerMb) || layerMb < 1) throw new Error(`layerMb must be a positive integer, got ${layerMb}`);
  if (!/^[a-z0-9-]*$/.test(variant)) throw new Error(`variant must be lowercase letters, digits and -, got ${variant}`);
  const name = `${layerMb}mb${variant ? `-${variant}` : ''}`;
  const root = join(dir, `image-${name}`);
  const metaPath = join(root, 'meta.json');
  if (existsSync(metaPath)) {
    const cached = JSON.parse(readFileSync(metaPath, 'utf8')) as TestImage & { recipe: number };
    if (cached.recipe === RECIPE && existsSync(cached.dockerArchive) && existsSync(cached.ociLayout)) return cached;
  }
  rmSync(root, { recursive: true, force: true });
  const layout = join(root, 'oci');
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });

  // The big layer is written once, as an OCI blob; the docker archive copies it in.
  const tmpBig = join(root, 'big.tar.tmp');
  const big = await writeBigLayerTar(tmpBig, layerMb, variant);
  renameSync(tmpBig, blobPath(layout, big.digest));

  const small = smallLayerTar(layerMb, variant);
  const smallDiffId = sha256(small);
  const created = '1970-01-01T00:00:00Z';
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      created,
      config: { Env: ['PATH=/'], Cmd: ['/berth-e2e/none'], Labels: { 'org.berth.e2e.layer-mb': String(layerMb), ...(variant ? { 'org.berth.e2e.variant': variant } : {}) } },
      rootfs: { type: 'layers', diff_ids: [smallDiffId, big.digest] },
      history: [
        { created, created_by: 'berth e2e: small layer' },
        { created, created_by: `berth e2e: ${layerMb} MiB incompressible layer` },
      ],
    }),
  );
  const configDigest = sha256(config);
  writeFileSync(blobPath(layout, configDigest), config);

  // OCI form: small layer gzip-compressed (the usual media type), big one as a plain tar
  // (also valid, and it keeps the upload exactly layerMb MiB).
  const smallGz = gzipSync(small, { level: 9 });
  const smallGzDigest = sha256(smallGz);
  writeFileSync(blobPath(layout, smallGzDigest), smallGz);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [
        { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: smallGzDigest, size: smallGz.length },
        { mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: big.digest, size: big.size },
      ],
    }),
  );
  const manifestDigest = sha256(manifest);
  writeFileSync(blobPath(layout, manifestDigest), manifest);
  const ociTag = 'v1';
  const index: { schemaVersion: number; mediaType: string; manifests: Descriptor[] } = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: manifestDigest,
        size: manifest.length,
        annotations: { 'org.opencontainers.image.ref.name': ociTag },
      },
    ],
  };
  writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));

  // Docker archive form (the `docker save` layout: manifest.json names config and layer files).
  const localTag = `berth-e2e/app:${name}`;
  const hex = (d: string): string => d.slice('sha256:'.length);
  const archiveManifest = Buffer.from(
    JSON.stringify([
      {
        Config: `${hex(configDigest)}.json`,
        RepoTags: [localTag],
        Layers: [`${hex(smallDiffId)}/layer.tar`, `${hex(big.digest)}/layer.tar`],
      },
    ]),
  );
  const dockerArchive = join(root, 'image.docker.tar');
  const tmpArchive = `${dockerArchive}.tmp`;
  const out = new HashingFile(tmpArchive);
  const entry = async (name: string, data: Buffer): Promise<void> => {
    await out.write(tarHeader(name, data.length, 'file'));
    await out.write(data);
    await out.write(padding(data.length));
  };
  await out.write(tarHeader(`${hex(smallDiffId)}/`, 0, 'dir'));
  await entry(`${hex(smallDiffId)}/layer.tar`, small);
  await out.write(tarHeader(`${hex(big.digest)}/`, 0, 'dir'));
  await appendFileEntry(out, `${hex(big.digest)}/layer.tar`, blobPath(layout, big.digest), big.size);
  await entry(`${hex(configDigest)}.json`, config);
  await entry('manifest.json', archiveManifest);
  await out.write(Buffer.alloc(1024));
  await out.close();
  renameSync(tmpArchive, dockerArchive);

  const image: TestImage = {
    dockerArchive,
    localTag,
    imageId: configDigest,
    ociLayout: layout,
    ociTag,
    ociManifestDigest: manifestDigest,
    bigLayerBytes: big.size,
  };
  writeFileSync(metaPath, JSON.stringify({ ...image, recipe: RECIPE }, null, 2));
  return image;
}
