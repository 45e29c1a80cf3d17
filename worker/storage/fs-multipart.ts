/**
 * Multipart uploads for the filesystem driver.
 *
 *   <root>/multipart/<id>/meta.json   {key, partSize}; its presence makes the id known
 *   <root>/multipart/<id>/data        empty object header, then part n at (n-1)*partSize
 *   <root>/multipart/<id>/part-<n>    {size, etag}, written after the part's bytes
 *
 * Parts go straight to their final offset in one sparse file, so they may arrive concurrently
 * and in any order, and completing is truncate + fsync + rename: O(1) whatever the size
 * (ARCHITECTURE.md principle 6). Because the offset is fixed by the part number, parts must
 * be numbered 1..n without gaps (the registry numbers them that way).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NoSuchUploadError } from './errors.ts';
import { errnoCode, publish, tempName, writeAll } from './fs-io.ts';
import { EMPTY_HEADER_BYTES, encodeHeader } from './fs-object-file.ts';
import type { MultipartPart } from './types.ts';

const ID_PATTERN = /^[0-9a-f]{32}$/;

interface UploadMeta {
  key: string;
  partSize: number;
}

interface PartRecord {
  size: number;
  etag: string;
}

export interface FsMultipart {
  create(key: string, partSize: number): Promise<string>;
  uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<MultipartPart>;
  complete(key: string, uploadId: string, parts: MultipartPart[], target: string): Promise<void>;
  abort(key: string, uploadId: string): Promise<void>;
}

export function fsMultipart(multipartDir: string): FsMultipart {
  function uploadDir(uploadId: string): string {
    // Ids are ours (32 hex digits); anything else cannot name an upload, nor escape the root.
    if (typeof uploadId !== 'string' || !ID_PATTERN.test(uploadId)) throw new NoSuchUploadError(`fs store: no multipart upload ${String(uploadId).slice(0, 64)}`);
    return join(multipartDir, uploadId);
  }

  async function readJson<T>(path: string, uploadId: string): Promise<T> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as T;
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') throw new NoSuchUploadError(`fs store: no multipart upload ${uploadId}`);
      throw error;
    }
  }

  async function meta(key: string, uploadId: string): Promise<{ dir: string; meta: UploadMeta }> {
    const dir = uploadDir(uploadId);
    const value = await readJson<UploadMeta>(join(dir, 'meta.json'), uploadId);
    // S3 answers NoSuchUpload when the id belongs to another key.
    if (value.key !== key) throw new NoSuchUploadError(`fs store: multipart upload ${uploadId} is not for ${key}`);
    return { dir, meta: value };
  }

  // Small JSON files are written to a temp name and renamed, so readers see all or nothing.
  async function writeJsonAtomically(dir: string, name: string, value: unknown): Promise<void> {
    const temp = tempName(dir, name);
    await writeFile(temp, JSON.stringify(value), { flag: 'wx' });
    await rename(temp, join(dir, name));
  }

  return {
    async create(key, partSize) {
      if (!Number.isSafeInteger(partSize) || partSize < 1) throw new Error(`fs store: invalid part size ${partSize}`);
      const uploadId = randomBytes(16).toString('hex');
      const dir = join(multipartDir, uploadId);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'data'), encodeHeader({}), { flag: 'wx' });
      await writeJsonAtomically(dir, 'meta.json', { key, partSize } satisfies UploadMeta);
      return uploadId;
    },

    async uploadPart(key, uploadId, partNumber, body) {
      if (!Number.isSafeInteger(partNumber) || partNumber < 1) throw new Error(`fs store: invalid part number ${partNumber}`);
      const { dir, meta: upload } = await meta(key, uploadId);
      if (body.byteLength > upload.partSize) {
        throw new Error(`fs store: part ${partNumber} has ${body.byteLength} bytes, more than the part size ${upload.partSize}`);
      }
      try {
        const data = await open(join(dir, 'data'), 'r+');
        try {
          await writeAll(data, body, EMPTY_HEADER_BYTES + (partNumber - 1) * upload.partSize);
        } finally {
          await data.close();
        }
        const record: PartRecord = { size: body.byteLength, etag: randomBytes(8).toString('hex') };
        await writeJsonAtomically(dir, `part-${partNumber}`, record);
        return { partNumber, etag: record.etag };
      } catch (error) {
        // Aborted or completed while this part was being written.
        if (errnoCode(error) === 'ENOENT') throw new NoSuchUploadError(`fs store: no multipart upload ${uploadId}`, { cause: error });
        throw error;
      }
    },

    async complete(key, uploadId, parts, target) {
      const { dir, meta: upload } = await meta(key, uploadId);
      if (parts.length === 0) throw new Error('fs store: completeMultipart needs at least one part');
      let total = 0;
      for (const [index, part] of parts.entries()) {
        if (part.partNumber !== index + 1) {
          throw new Error(`fs store: parts must be numbered 1..${parts.length} in order (got ${part.partNumber} at position ${index + 1})`);
        }
        const record = await readPart(dir, part.partNumber);
        if (!record || record.etag !== part.etag) throw new Error(`fs store: part ${part.partNumber} was not uploaded or has another etag`);
        const isLast = index === parts.length - 1;
        // R2's rule, kept by every driver: all parts but the last have exactly partSize bytes.
        if (!isLast && record.size !== upload.partSize) {
          throw new Error(`fs store: part ${part.partNumber} has ${record.size} bytes; non-final parts need ${upload.partSize}`);
        }
        total += record.size;
      }
      const dataPath = join(dir, 'data');
      let data;
      try {
        data = await open(dataPath, 'r+');
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') throw new NoSuchUploadError(`fs store: no multipart upload ${uploadId}`, { cause: error });
        throw error;
      }
      try {
        // Drops bytes of parts that were uploaded but not listed.
        await data.truncate(EMPTY_HEADER_BYTES + total);
        await data.sync();
      } finally {
        await data.close();
      }
      try {
        await publish(dataPath, target, 'rename');
      } catch (error) {
        // A concurrent complete or abort took the data file first.
        if (errnoCode(error) === 'ENOENT') throw new NoSuchUploadError(`fs store: no multipart upload ${uploadId}`, { cause: error });
        throw error;
      }
      await rm(dir, { recursive: true, force: true });
    },

    async abort(key, uploadId) {
      if (typeof uploadId !== 'string' || !ID_PATTERN.test(uploadId)) return;
      const dir = join(multipartDir, uploadId);
      try {
        await meta(key, uploadId);
      } catch (error) {
        // Unknown id: nothing to do. Another key's upload: not ours to remove.
        if (error instanceof NoSuchUploadError) return;
        throw error;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function readPart(dir: string, partNumber: number): Promise<PartRecord | null> {
  try {
    return JSON.parse(await readFile(join(dir, `part-${partNumber}`), 'utf8')) as PartRecord;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}
