/**
 * The two store steps of finishing an upload that a retry must be able to repeat: turning the
 * parts and tail into the data object, and reading that object back for a deferred digest.
 *
 * Stores differ on repeats, so the data object itself is the proof of work done: AWS S3 answers
 * a repeated CompleteMultipartUpload with 200, MinIO and the local test server with NoSuchUpload,
 * and UploadPart to a completed upload is NoSuchUpload everywhere. The SDK's own retry of a
 * completion whose answer was lost therefore fails on some stores although the object exists.
 * Whenever the multipart upload is gone or the tail was already removed (tails go only after
 * the blob is published), `data/<id>` with the session's size means an earlier attempt, or this
 * one, assembled the bytes.
 */
import { createHash } from 'node:crypto';
import type { ObjectInfo, ObjectStore } from '../storage/types.ts';
import { StoreError } from '../storage/types.ts';
import { NoSuchUploadError } from '../storage/errors.ts';
import { RegistryError } from '../oci/errors.ts';
import type { DigestAlgorithm } from '../oci/digest.ts';
import type { UploadSession } from './uploads.ts';

/** Reads the session's tail; null when the tail object no longer exists. */
export type TailReader = (session: UploadSession) => Promise<Uint8Array | null>;

/** How many times a cut read of the data object is resumed before the request fails. */
const READ_ATTEMPTS = 3;

/**
 * Makes `dataKey` hold the upload's bytes. `existing` is the object when the caller already
 * looked (an earlier attempt assembled it); a mismatching size is refused, never published.
 */
export async function assembleUpload(
  store: ObjectStore,
  session: UploadSession,
  dataKey: string,
  readTail: TailReader,
  existing?: ObjectInfo,
): Promise<void> {
  if (existing) return expectSize(existing, session);
  const tail = await readTail(session);
  if (tail === null) {
    return alreadyAssembled(store, session, dataKey, new RegistryError('BLOB_UPLOAD_INVALID', 'upload state is incomplete; restart the upload'));
  }
  if (!session.multipartId) {
    // Everything fit in the tail (smaller than one part): one plain write; repeating it writes
    // the same bytes again.
    await store.put(dataKey, tail, { contentType: 'application/octet-stream' });
    return;
  }
  try {
    const parts = [...session.parts];
    if (tail.byteLength > 0) parts.push(await store.uploadPart(dataKey, session.multipartId, parts.length + 1, tail));
    await store.completeMultipart(dataKey, session.multipartId, parts);
  } catch (error) {
    if (error instanceof NoSuchUploadError) return alreadyAssembled(store, session, dataKey, error);
    throw error;
  }
}

async function alreadyAssembled(store: ObjectStore, session: UploadSession, dataKey: string, otherwise: Error): Promise<void> {
  const info = await store.head(dataKey);
  if (!info) throw otherwise;
  expectSize(info, session);
}

function expectSize(info: ObjectInfo, session: UploadSession): void {
  if (info.size !== session.size) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', `stored data has ${info.size} bytes, the upload ${session.size}; restart the upload`);
  }
}

/**
 * Hex digest of a stored object, or null when it does not exist. A response cut mid-body is
 * resumed with a ranged read from the first byte not yet hashed, so a flaky connection costs
 * the bytes it lost, not a failed push. Native hashing (node:crypto, sha256 and sha512 in Node
 * and in workerd): one pass over the object.
 */
export async function hashStoredObject(store: ObjectStore, key: string, algorithm: DigestAlgorithm): Promise<string | null> {
  const hasher = createHash(algorithm);
  let hashed = 0;
  let total: number | undefined;
  for (let attempt = 1; ; attempt++) {
    const object = await store.get(key, hashed > 0 ? { offset: hashed } : undefined);
    if (!object) return null;
    // The first read is the whole object, so its size is the object's.
    total ??= object.info.size;
    try {
      for await (const chunk of object.body) {
        hasher.update(chunk);
        hashed += chunk.byteLength;
      }
      return hasher.digest('hex');
    } catch (error) {
      // Cut after the last byte: nothing is missing.
      if (hashed === total) return hasher.digest('hex');
      if (attempt >= READ_ATTEMPTS) throw new StoreError(store.name, 'read', key, { cause: error });
    }
  }
}
