/**
 * `docker-archive:FILE`: the tarball `docker save` writes (and the Docker Engine API's
 * `GET /images/{name}/get` streams): `manifest.json` names each image's config and layer files,
 * in either the classic layout (`<id>/layer.tar`) or docker 25's OCI one (`blobs/sha256/<hex>`).
 *
 * The image is pushed as `docker push` would: the config unchanged (so the image ID survives),
 * every layer gzip-compressed (compress.ts; already-gzipped members are sent as they are), under
 * a Docker image manifest v2 schema 2. The archive is read twice, streaming: once for the small
 * JSON members, once to compress the layers the cache does not hold yet.
 */
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { extract } from 'tar-stream';
import { CliError } from '../../args.ts';
import { cachedLayer, compressLayer, isGzip, type CompressedLayer } from '../compress.ts';
import type { LocalBlob, LocalImage } from '../image.ts';
import { sha256Of } from './oci-layout.ts';

const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
/** Members up to this size are read in the first pass: manifest.json and configs are far smaller. */
const MAX_JSON_MEMBER = 1024 * 1024;

interface ArchiveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

interface ImageConfig {
  rootfs?: { diff_ids?: string[] };
}

export interface ArchiveOptions {
  cacheDir: string;
  /** Told when a layer of `size` uncompressed bytes starts compressing, and when it is done. */
  onLayer?: (index: number, count: number, size: number) => void;
  onLayerDone?: () => void;
  /** Called with the uncompressed bytes compressed so far (progress). */
  onCompressBytes?: (n: number) => void;
}

/** Calls `visit` for every regular file member; `visit` must consume or drain the stream. */
async function eachMember(file: string, visit: (name: string, size: number, body: Readable) => Promise<void>): Promise<void> {
  const reader = extract();
  const source = createReadStream(file);
  source.on('error', (error) => reader.destroy(error));
  source.pipe(reader);
  try {
    for await (const entry of reader) {
      const { name, size, type } = entry.header;
      if (type === 'file' || type === 'contiguous-file') await visit(name.replace(/^\.\//, ''), size ?? 0, entry as unknown as Readable);
      entry.resume();
    }
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`docker-archive:${file}: not a readable tar archive (${error instanceof Error ? error.message : String(error)})`, 2);
  }
}

async function readMember(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function readDockerArchive(file: string, options: ArchiveOptions): Promise<LocalImage> {
  const json = new Map<string, Buffer>();
  await eachMember(file, async (name, size, body) => {
    // JSON members (manifest.json, configs: `<id>.json`, or `blobs/sha256/<hex>` in docker 25's layout).
    if (size <= MAX_JSON_MEMBER && (name.endsWith('.json') || name.startsWith('blobs/'))) json.set(name, await readMember(body));
  });
  const manifestBytes = json.get('manifest.json');
  if (!manifestBytes) throw new CliError(`docker-archive:${file}: no manifest.json (is it \`docker save\` output?)`);
  let entries: ArchiveEntry[];
  try {
    entries = JSON.parse(manifestBytes.toString('utf8')) as ArchiveEntry[];
  } catch {
    throw new CliError(`docker-archive:${file}: manifest.json is not valid JSON`);
  }
  if (!Array.isArray(entries) || entries.length !== 1) {
    throw new CliError(`docker-archive:${file}: holds ${Array.isArray(entries) ? entries.length : 0} images; save one image per archive`);
  }
  const entry = entries[0]!;
  const configBytes = json.get(entry.Config);
  if (!configBytes) throw new CliError(`docker-archive:${file}: config ${entry.Config} is missing`);
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length) {
    throw new CliError(`docker-archive:${file}: ${entry.Layers.length} layer files but ${diffIds.length} diff_ids in the config`);
  }

  // Layers already compressed by an earlier run (or an interrupted one) are not compressed again.
  const layers: (CompressedLayer | null)[] = await Promise.all(diffIds.map((id) => cachedLayer(options.cacheDir, id)));
  const wanted = new Map<string, number[]>();
  entry.Layers.forEach((name, i) => {
    if (!layers[i]) wanted.set(name, [...(wanted.get(name) ?? []), i]);
  });
  if (wanted.size > 0) {
    let done = 0;
    const count = wanted.size;
    await eachMember(file, async (name, size, body) => {
      const indexes = wanted.get(name);
      if (!indexes) return;
      options.onLayer?.(++done, count, size);
      const layer = await layerFrom(options, body);
      options.onLayerDone?.();
      for (const i of indexes) layers[i] = layer;
      wanted.delete(name);
    });
    if (wanted.size > 0) throw new CliError(`docker-archive:${file}: layer file ${[...wanted.keys()][0]} is missing`);
  }

  const configDir = join(options.cacheDir, 'configs');
  await mkdir(configDir, { recursive: true });
  const configDigest = sha256Of(configBytes);
  const configFile = join(configDir, configDigest.slice(7));
  await writeFile(configFile, configBytes);
  const blobs: LocalBlob[] = [
    { digest: configDigest, size: configBytes.length, file: configFile, offset: 0, mediaType: DOCKER_CONFIG },
    ...layers.map((l) => ({ digest: l!.digest, size: l!.size, file: l!.file, offset: 0, mediaType: DOCKER_LAYER_GZIP })),
  ];
  const manifest = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: configBytes.length, digest: configDigest },
    layers: layers.map((l) => ({ mediaType: DOCKER_LAYER_GZIP, size: l!.size, digest: l!.digest })),
  };
  const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 3));
  return { manifests: [{ digest: sha256Of(bytes), mediaType: DOCKER_MANIFEST, bytes, blobs }], cleanup: async () => undefined };
}

/** Compresses a layer member, or keeps it when it already is gzip (a containerd-store export). */
async function layerFrom(options: ArchiveOptions, body: Readable): Promise<CompressedLayer> {
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Buffer = first.done ? Buffer.alloc(0) : (first.value as Buffer);
  const rest = Readable.from((async function* () {
    if (head.length > 0) yield head;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  })());
  if (isGzip(head)) throw new CliError('docker-archive: gzip-compressed layers in the archive are not supported yet; export with the classic image store');
  return compressLayer(options.cacheDir, rest, options.onCompressBytes);
}
