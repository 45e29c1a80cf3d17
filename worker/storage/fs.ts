/**
 * ObjectStore on a local directory: for the embedded Node server, development and tests.
 *
 *   <root>/objects/…      one file per object (key layout: fs-keys.ts, file format: fs-object-file.ts)
 *   <root>/tmp/           every write lands here first, then is renamed (or linked) into place
 *   <root>/multipart/     unfinished multipart uploads (fs-multipart.ts)
 *
 * The contract in types.ts maps onto POSIX guarantees: `rename` replaces a file atomically, so
 * readers see the old object or the new one, never a mix (last rename wins between concurrent
 * writers); `link` fails with EEXIST when the name exists, which makes `ifNoneMatch` atomic.
 * Nothing here can presign, so blob pulls stream through the server. Files are 0600 and
 * directories 0700, fixed at start for stores written before (fs-modes.ts).
 */
import { unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { closeFd, errnoCode, openForReading, publish, pruneEmptyDirs, tempName, writeDurably } from './fs-io.ts';
import { objectFilePath } from './fs-keys.ts';
import { listKeys, listObjects } from './fs-list.ts';
import { secureStoreModes } from './fs-modes.ts';
import { fsMultipart } from './fs-multipart.ts';
import { encodeHeader, PREFETCH_BYTES, readObject } from './fs-object-file.ts';
import { streamFile } from './fs-read-stream.ts';
import { inMemoryObject } from './memory-body.ts';
import type { ObjectInfo, ObjectStore, StoredObject } from './types.ts';

export { NoSuchUploadError } from './errors.ts';

export interface FsStoreOptions {
  /** Directory holding the store; created on first write. */
  root: string;
}

const encoder = new TextEncoder();

export function createFsStore(options: FsStoreOptions): ObjectStore {
  if (!options || typeof options.root !== 'string' || options.root.trim() === '') {
    throw new Error('fs store: option "root" must be a non-empty directory path');
  }
  const root = resolve(options.root);
  const objectsDir = join(root, 'objects');
  const tmpDir = join(root, 'tmp');
  const multipart = fsMultipart(join(root, 'multipart'));
  secureStoreModes(root, [objectsDir, tmpDir, join(root, 'multipart')], join(objectsDir, 'auth'));
  const pathOf = (key: string) => objectFilePath(objectsDir, key);

  async function openObject(key: string): Promise<number | null> {
    try {
      return await openForReading(pathOf(key));
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return null;
      throw error;
    }
  }

  return {
    name: 'fs',
    capabilities: { presign: false, conditionalWrite: true, minPartSize: 0, maxParts: 10_000 },

    async head(key): Promise<ObjectInfo | null> {
      const fd = await openObject(key);
      if (fd === null) return null;
      try {
        return (await readObject(fd, key, { prefetch: 0, stat: 'always' })).info;
      } finally {
        await closeFd(fd);
      }
    },

    async get(key, range): Promise<StoredObject | null> {
      const fd = await openObject(key);
      if (fd === null) return null;
      let owned = false;
      try {
        const { dataOffset, info, prefetched, whole } = await readObject(fd, key, { prefetch: PREFETCH_BYTES, stat: 'if-larger' });
        // A range past the end is refused by the caller (types.ts); clamp rather than fail.
        const offset = Math.min(range?.offset ?? 0, info.size);
        const length = Math.min(range?.length ?? info.size - offset, info.size - offset);
        // info.size stays the whole object's size, as HEAD would report it.
        if (whole || offset + length <= prefetched.byteLength) {
          // Small objects (manifests, tags, links) arrived with the header: no further reads.
          return inMemoryObject(info, prefetched.subarray(offset, offset + length));
        }
        owned = true;
        return { info, body: streamFile(fd, dataOffset + offset, dataOffset + offset + length) };
      } finally {
        // streamFile owns the descriptor once it is returned; otherwise close it here.
        if (!owned) await closeFd(fd);
      }
    },

    async put(key, body, putOptions = {}) {
      const target = pathOf(key);
      const bytes = typeof body === 'string' ? encoder.encode(body) : body;
      const header = encodeHeader({ contentType: putOptions.contentType, metadata: putOptions.metadata });
      const temp = tempName(tmpDir, 'put');
      let renamed = false;
      try {
        await writeDurably(temp, [header, bytes]);
        if (!putOptions.ifNoneMatch) {
          await publish(temp, target, 'rename');
          renamed = true;
          return true;
        }
        try {
          await publish(temp, target, 'link');
          return true;
        } catch (error) {
          if (errnoCode(error) === 'EEXIST') return false;
          throw error;
        }
      } finally {
        // After a rename the temp name is gone; after a link or a failure it must go.
        if (!renamed) await unlink(temp).catch(() => undefined);
      }
    },

    async delete(key) {
      const target = pathOf(key);
      try {
        await unlink(target);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') return;
        throw error;
      }
      await pruneEmptyDirs(dirname(target), objectsDir);
    },

    async list(listOptions) {
      return listObjects(objectsDir, listOptions);
    },
    async listKeys(listOptions) {
      return listKeys(objectsDir, listOptions);
    },

    async createMultipart(key, partSize) {
      pathOf(key);
      return multipart.create(key, partSize);
    },
    async uploadPart(key, uploadId, partNumber, body) {
      pathOf(key);
      return multipart.uploadPart(key, uploadId, partNumber, body);
    },
    async completeMultipart(key, uploadId, parts) {
      return multipart.complete(key, uploadId, parts, pathOf(key));
    },
    async abortMultipart(key, uploadId) {
      pathOf(key);
      return multipart.abort(key, uploadId);
    },
  };
}
