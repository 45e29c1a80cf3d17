/**
 * Multipart uploads for the filesystem driver.
 *
 *   <root>/multipart/<id>/meta.json   {key, partSize}; its presence makes the id known
 *   <root>/multipart/<id>/data        empty object header, then part n at 4096 + (n-1)*partSize
 *   <root>/multipart/<id>/parts       one line "<n> <size> <etag>" appended per uploaded part,
 *                                     after the part's bytes are synced
 *
 * Parts go straight to their final offset in one sparse file, so they may arrive concurrently
 * and in any order. Each part's bytes are flushed to disk (fdatasync) before `uploadPart`
 * returns, while the client is still streaming the next part, so a part record always stands
 * for durable bytes. Completing reads the one parts log, then truncate + fsync of the inode +
 * rename: a constant number of calls whatever the size or the number of parts (finishing
 * costs the same for 1 KB and 10 GB; it used to flush the whole file here, 361 ms for 1 GiB, and read one record
 * file per part). Appends with O_APPEND land whole at the end of the log, so concurrent parts
 * need no lock; a line cut short by a crash has no newline and is ignored; a part uploaded
 * again is recorded again and its last line wins. Because the offset is fixed by the part
 * number, parts must be numbered 1..n without gaps (the registry numbers them that way).
 */
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NoSuchUploadError } from './errors.ts';
import { DIR_MODE, errnoCode, FILE_MODE, publish, tempName, writeAll } from './fs-io.ts';
import { encodeHeader, HEADER_BYTES } from './fs-object-file.ts';
import type { MultipartPart } from './types.ts';

const ID_PATTERN = /^[0-9a-f]{32}$/;
const PART_LINE = /^([1-9][0-9]*) ([0-9]+) ([0-9a-f]{16})$/;

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
    await writeFile(temp, JSON.stringify(value), { flag: 'wx', mode: FILE_MODE });
    await rename(temp, join(dir, name));
  }

  return {
    async create(key, partSize) {
      if (!Number.isSafeInteger(partSize) || partSize < 1) throw new Error(`fs store: invalid part size ${partSize}`);
      const uploadId = randomBytes(16).toString('hex');
      const dir = join(multipartDir, uploadId);
      await mkdir(dir, { recursive: true, mode: DIR_MODE });
      await writeFile(join(dir, 'data'), encodeHeader({}), { flag: 'wx', mode: FILE_MODE });
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
          await writeAll(data, body, HEADER_BYTES + (partNumber - 1) * upload.partSize);
          // Flushes this part (and the header, on the first) now rather than all at completion.
          // Concurrent parts may flush each other's pages too: harmless, each still waits for its own.
          await data.datasync();
        } finally {
          await data.close();
        }
        const etag = randomBytes(8).toString('hex');
        // Fails with ENOENT (no 'x' needed) when the upload directory is gone.
        await appendFile(join(dir, 'parts'), `${partNumber} ${body.byteLength} ${etag}\n`, { flag: 'a', mode: FILE_MODE });
        return { partNumber, etag };
      } catch (error) {
        // Aborted or completed while this part was being written.
        if (errnoCode(error) === 'ENOENT') throw new NoSuchUploadError(`fs store: no multipart upload ${uploadId}`, { cause: error });
        throw error;
      }
    },

    async complete(key, uploadId, parts, target) {
      const { dir, meta: upload } = await meta(key, uploadId);
      if (parts.length === 0) throw new Error('fs store: completeMultipart needs at least one part');
      const records = await readParts(dir);
      let total = 0;
      for (const [index, part] of parts.entries()) {
        if (part.partNumber !== index + 1) {
          throw new Error(`fs store: parts must be numbered 1..${parts.length} in order (got ${part.partNumber} at position ${index + 1})`);
        }
        const record = records.get(part.partNumber);
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
        // Drops bytes of parts that were uploaded but not listed. Every listed part's bytes were
        // synced by uploadPart, so this fsync only writes the inode (its new size).
        await data.truncate(HEADER_BYTES + total);
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

/** The parts log as part number → last record; an upload with no part yet has an empty map. */
async function readParts(dir: string): Promise<Map<number, PartRecord>> {
  let text;
  try {
    text = await readFile(join(dir, 'parts'), 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return new Map();
    throw error;
  }
  const records = new Map<number, PartRecord>();
  const lines = text.split('\n');
  // The last element follows the last newline: empty, or a line an interrupted append left.
  for (const line of lines.slice(0, -1)) {
    const match = PART_LINE.exec(line);
    if (!match) continue;
    records.set(Number(match[1]), { size: Number(match[2]), etag: match[3] ?? '' });
  }
  return records;
}
