/**
 * Layer compression the way `docker push` does it: gzip (RFC 1952) of the uncompressed layer
 * tar, so the result pulls like any pushed image. Compressed layers are kept in the local cache
 * under their uncompressed digest (the config's diff_id), which makes a re-push of an unchanged
 * image, and a push resumed after an interruption, send the same bytes under the same digest
 * without compressing again.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export interface CompressedLayer {
  digest: string;
  size: number;
  file: string;
  /** sha256 of the uncompressed bytes (diff_id). */
  diffId: string;
}

const GZIP_MAGIC = [0x1f, 0x8b];

export function isGzip(head: Uint8Array): boolean {
  return head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
}

/** The cached compression of the layer whose uncompressed digest is `diffId`, if any. */
export async function cachedLayer(cacheDir: string, diffId: string): Promise<CompressedLayer | null> {
  const hex = diffId.replace(/^sha256:/, '');
  try {
    const meta = JSON.parse(await readFile(join(cacheDir, 'layers', `${hex}.json`), 'utf8')) as CompressedLayer;
    const info = await stat(meta.file);
    return info.size === meta.size ? meta : null;
  } catch {
    return null;
  }
}

/** Hashes what passes through. */
function hashing(hash: ReturnType<typeof createHash>, count: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      count.bytes += chunk.length;
      done(null, chunk);
    },
  });
}

/**
 * gzips `input` (an uncompressed layer tar) into the cache, hashing both sides as bytes pass;
 * memory stays at zlib's window and the streams' buffers whatever the layer's size.
 */
export async function compressLayer(cacheDir: string, input: Readable, onBytes?: (n: number) => void): Promise<CompressedLayer> {
  const dir = join(cacheDir, 'layers');
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `incoming-${process.pid}-${Date.now()}.gz`);
  const raw = createHash('sha256');
  const packed = createHash('sha256');
  const rawCount = { bytes: 0 };
  const packedCount = { bytes: 0 };
  const counting = hashing(raw, rawCount);
  if (onBytes) counting.on('data', (chunk: Buffer) => onBytes(chunk.length));
  try {
    await pipeline(input, counting, createGzip(), hashing(packed, packedCount), createWriteStream(temporary));
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  const diffId = `sha256:${raw.digest('hex')}`;
  const file = join(dir, `${diffId.slice(7)}.tar.gz`);
  await rename(temporary, file);
  const layer: CompressedLayer = { digest: `sha256:${packed.digest('hex')}`, size: packedCount.bytes, file, diffId };
  await writeFile(join(dir, `${diffId.slice(7)}.json`), JSON.stringify(layer));
  return layer;
}
