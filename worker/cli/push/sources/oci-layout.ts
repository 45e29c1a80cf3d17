/**
 * `oci:DIR[:REF]`: an OCI image layout (image-spec "image-layout.md": `oci-layout`, `index.json`,
 * `blobs/<alg>/<hex>`). REF picks the `index.json` entry whose `org.opencontainers.image.ref.name`
 * annotation is REF; without REF the layout must hold exactly one entry. Blobs are pushed as they
 * are (like `skopeo copy --preserve-digests`), so manifest digests survive the push; an image
 * index (multi-arch) brings every child manifest it lists that the layout holds.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tryParseDigest } from '../../../oci/digest.ts';
import { FOREIGN_LAYER_MEDIA_TYPES } from '../../../oci/media-types.ts';
import { CliError } from '../../args.ts';
import type { LocalBlob, LocalImage, LocalManifest } from '../image.ts';

const REF_NAME = 'org.opencontainers.image.ref.name';
const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
/** Manifests are small; a larger file is not one (the registry would refuse it too). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

interface Descriptor {
  mediaType?: string;
  digest?: string;
  size?: number;
  annotations?: Record<string, string>;
}

interface ManifestJson {
  mediaType?: string;
  manifests?: Descriptor[];
  config?: Descriptor;
  layers?: Descriptor[];
}

export async function readOciLayout(dir: string, ref: string | undefined): Promise<LocalImage> {
  const index = await readJson<ManifestJson>(join(dir, 'index.json'), `oci:${dir}: no OCI layout there (index.json)`);
  const entries = index.manifests ?? [];
  let chosen: Descriptor | undefined;
  if (ref !== undefined) {
    chosen = entries.find((d) => d.annotations?.[REF_NAME] === ref);
    if (!chosen) {
      const names = entries.map((d) => d.annotations?.[REF_NAME]).filter(Boolean);
      throw new CliError(`oci:${dir}: no image named "${ref}" in index.json (it has: ${names.join(', ') || 'no named images'})`);
    }
  } else if (entries.length === 1) {
    chosen = entries[0];
  } else {
    throw new CliError(`oci:${dir}: index.json lists ${entries.length} images; name one (oci:${dir}:REF)`);
  }
  const manifests: LocalManifest[] = [];
  await collect(dir, chosen!, manifests, 0);
  return { manifests, cleanup: async () => undefined };
}

/** Depth-first: children are pushed before the index that lists them. */
async function collect(dir: string, descriptor: Descriptor, out: LocalManifest[], depth: number): Promise<void> {
  if (depth > 4) throw new CliError(`oci:${dir}: indexes nested deeper than 4 levels`);
  const blob = await blobOf(dir, descriptor);
  if (blob.size > MAX_MANIFEST_BYTES) throw new CliError(`oci:${dir}: manifest ${blob.digest} is over 4 MiB`);
  const bytes = new Uint8Array(await readFile(blob.file));
  let parsed: ManifestJson;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as ManifestJson;
  } catch {
    throw new CliError(`oci:${dir}: ${blob.digest} is not a JSON manifest`);
  }
  const mediaType = parsed.mediaType ?? descriptor.mediaType ?? 'application/vnd.oci.image.manifest.v1+json';
  if (out.some((m) => m.digest === blob.digest)) return;
  if (INDEX_TYPES.has(mediaType) || parsed.manifests) {
    for (const child of parsed.manifests ?? []) await collect(dir, child, out, depth + 1);
    out.push({ digest: blob.digest, mediaType, bytes, blobs: [] });
    return;
  }
  const blobs: LocalBlob[] = [];
  for (const d of [parsed.config, ...(parsed.layers ?? [])]) {
    if (!d) continue;
    // Foreign (non-distributable) layers live at their `urls`, not in the layout or a registry.
    if (d.mediaType && FOREIGN_LAYER_MEDIA_TYPES.includes(d.mediaType)) continue;
    blobs.push(await blobOf(dir, d));
  }
  out.push({ digest: blob.digest, mediaType, bytes, blobs });
}

async function blobOf(dir: string, descriptor: Descriptor): Promise<LocalBlob> {
  const digest = tryParseDigest(String(descriptor.digest ?? ''));
  if (!digest) throw new CliError(`oci:${dir}: a descriptor has no valid digest (${String(descriptor.digest)})`);
  const file = join(dir, 'blobs', digest.algorithm, digest.hex);
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) throw new CliError(`oci:${dir}: blob ${digest.digest} is missing from the layout`);
  if (descriptor.size !== undefined && descriptor.size !== info.size) {
    throw new CliError(`oci:${dir}: blob ${digest.digest} has ${info.size} bytes, its descriptor says ${descriptor.size}`);
  }
  const blob: LocalBlob = { digest: digest.digest, size: info.size, file, offset: 0 };
  if (descriptor.mediaType) blob.mediaType = descriptor.mediaType;
  return blob;
}

async function readJson<T>(file: string, missing: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new CliError(missing);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new CliError(`${file} is not valid JSON`);
  }
}

/** sha256 digest of bytes in memory (manifests). */
export function sha256Of(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
