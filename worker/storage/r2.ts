/**
 * ObjectStore on a Workers R2 binding (`env.BUCKET`). Runs only inside workerd.
 *
 * The binding cannot presign URLs: presigned pulls need R2's S3 endpoint and an API token, so the
 * runtime entry may hand in the S3 driver's `presignGet` (pull bytes skip the Worker when the store can presign).
 * R2 enforces what types.ts promises: an object appears whole at `put`/`complete` or not at
 * all, and multipart parts must all be the same size except the last.
 */
import { NoSuchUploadError } from './errors.ts';
import { inMemoryObject, SMALL_OBJECT_BYTES } from './memory-body.ts';
import { slicedRead, type ReadSlice } from './sliced-read.ts';
import type { R2Bucket, R2MultipartUpload, R2Object, R2ObjectBody } from './r2-types.ts';
import {
  StoreError,
  type ByteRange,
  type ListOptions,
  type ListResult,
  type MultipartPart,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
  type StoredObject,
} from './types.ts';

const DRIVER = 'r2';
const MiB = 1024 * 1024;
/** R2 `list` returns at most 1000 keys per call. */
const R2_MAX_LIST = 1000;

export interface R2StoreOptions {
  /** Presigner for R2's S3 endpoint; without it blob pulls stream through the Worker. */
  presign?: ObjectStore['presignGet'];
  /**
   * Direct uploads through R2's S3 endpoint (presigned UploadPart, ListParts): multipart upload
   * ids are R2's own, the same whichever API made them, so the binding creates and completes
   * the upload while clients PUT its parts to the S3 endpoint. Without it, `berth push` falls
   * back to chunked uploads through the Worker.
   */
  direct?: Required<Pick<ObjectStore, 'presignUploadPart' | 'listParts'>>;
  /**
   * Reads objects larger than this as a run of ranged reads of this size (sliced-read.ts says
   * why: the local simulator, not R2). Unset: one read per object.
   */
  readSliceBytes?: number;
}

export function createR2Store(bucket: R2Bucket, options: R2StoreOptions = {}): ObjectStore {
  if (!bucket || typeof bucket.put !== 'function' || typeof bucket.createMultipartUpload !== 'function') {
    throw new Error('r2 store: the R2 binding is missing (check [[r2_buckets]] binding = "BUCKET" in wrangler.toml)');
  }
  const presign = options.presign;

  // Every binding call goes through here so failures name the driver, operation and key.
  async function attempt<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof NoSuchUploadError || error instanceof StoreError) throw error;
      if (isNoSuchUpload(error)) throw new NoSuchUploadError(`${DRIVER} store: no multipart upload for ${key}`);
      throw new StoreError(DRIVER, operation, key, { cause: error });
    }
  }

  function upload(key: string, uploadId: string): R2MultipartUpload {
    return bucket.resumeMultipartUpload(key, uploadId);
  }

  /**
   * R2 answers `complete` and `abort` of an upload id it never issued with a generic internal
   * error (10001), not NoSuchUpload (10024) as it does for finished ids; `uploadPart` does say
   * 10024. So, only after such a failure, ask `uploadPart` with an empty part whose number the
   * caller does not use: 10024 means the id is unknown. If the upload does exist the stray part
   * is harmless (R2 drops parts a completion does not list) and the original error stands.
   */
  async function neverExisted(key: string, uploadId: string, error: unknown, parts: MultipartPart[]): Promise<boolean> {
    if (isNoSuchUpload(error)) return true;
    const used = new Set(parts.map((p) => p.partNumber));
    let probe = 10_000;
    while (used.has(probe) && probe > 1) probe--;
    try {
      await upload(key, uploadId).uploadPart(probe, new Uint8Array(0));
      return false;
    } catch (probeError) {
      return isNoSuchUpload(probeError);
    }
  }

  async function getSliced(key: string, range: ByteRange | undefined, sliceBytes: number): Promise<StoredObject | null> {
    // An R2 object body is a slice as it stands: its size is the whole object's.
    const read: ReadSlice<R2ObjectBody> = async (offset, length, etag) => {
      try {
        return withBody(await bucket.get(key, { range: { offset, length }, ...(etag ? { onlyIf: { etagMatches: etag } } : {}) }));
      } catch (error) {
        // An empty object has no byte range to read: R2 refuses the range, so read it plainly.
        if (etag !== undefined || offset !== 0 || (await bucket.head(key))?.size !== 0) throw error;
        return withBody(await bucket.get(key));
      }
    };
    const sliced = await slicedRead(read, range ?? { offset: 0 }, sliceBytes);
    if (!sliced) return null;
    const info = toInfo(sliced.first);
    if (!range && info.size <= SMALL_OBJECT_BYTES) return inMemoryObject(info, new Uint8Array(await new Response(sliced.body).arrayBuffer()));
    return { info, body: sliced.body };
  }

  const store: ObjectStore = {
    name: DRIVER,
    capabilities: {
      presign: presign !== undefined,
      conditionalWrite: true,
      minPartSize: 5 * MiB,
      maxParts: 10_000,
    },

    head: (key) => attempt('head', key, async () => {
      const object = await bucket.head(key);
      return object ? toInfo(object) : null;
    }),

    get: (key, range?: ByteRange) => attempt('get', key, async (): Promise<StoredObject | null> => {
      if (options.readSliceBytes) return getSliced(key, range, options.readSliceBytes);
      const object = withBody(await bucket.get(key, range ? { range: toR2Range(range) } : undefined));
      if (!object) return null;
      // Small records (links, tags, sessions, manifests) in one native read, no stream to iterate.
      if (!range && object.size <= SMALL_OBJECT_BYTES) return inMemoryObject(toInfo(object), new Uint8Array(await object.arrayBuffer()));
      return { info: toInfo(object), body: object.body };
    }),

    put: (key, body, putOptions: PutOptions = {}) => attempt('put', key, async () => {
      const written = await bucket.put(key, body, {
        // `etagDoesNotMatch: '*'` is R2's `If-None-Match: *`: the binding resolves to null,
        // without throwing, when an object already exists under the key.
        onlyIf: putOptions.ifNoneMatch ? { etagDoesNotMatch: '*' } : undefined,
        httpMetadata: putOptions.contentType ? { contentType: putOptions.contentType } : undefined,
        customMetadata: putOptions.metadata,
      });
      return written !== null;
    }),

    delete: (key) => attempt('delete', key, () => bucket.delete(key)),

    list: (listOptions: ListOptions) => attempt('list', listOptions.prefix, async (): Promise<ListResult> => {
      const wanted = listOptions.limit ?? R2_MAX_LIST;
      if (wanted <= 0) return { objects: [], truncated: false };
      const page = await bucket.list({
        prefix: listOptions.prefix,
        startAfter: listOptions.startAfter,
        limit: Math.min(wanted, R2_MAX_LIST),
        include: ['httpMetadata', 'customMetadata'],
      });
      return { objects: page.objects.map(toInfo), truncated: page.truncated };
    }),

    createMultipart: (key) => attempt('createMultipart', key, async () => {
      const created = await bucket.createMultipartUpload(key);
      return created.uploadId;
    }),

    uploadPart: (key, uploadId, partNumber, body) => attempt('uploadPart', key, async (): Promise<MultipartPart> => {
      const part = await upload(key, uploadId).uploadPart(partNumber, body);
      return { partNumber: part.partNumber, etag: part.etag };
    }),

    completeMultipart: (key, uploadId, parts) => attempt('completeMultipart', key, async () => {
      try {
        await upload(key, uploadId).complete(parts.map((p) => ({ partNumber: p.partNumber, etag: p.etag })));
      } catch (error) {
        if (await neverExisted(key, uploadId, error, parts)) throw new NoSuchUploadError(`${DRIVER} store: no multipart upload for ${key}`);
        throw error;
      }
    }),

    abortMultipart: (key, uploadId) => attempt('abortMultipart', key, async () => {
      try {
        await upload(key, uploadId).abort();
      } catch (error) {
        // types.ts: aborting an unknown (or already finished) upload is not an error.
        if (!isNoSuchUpload(error) && !(await neverExisted(key, uploadId, error, []))) throw error;
      }
    }),
  };

  if (presign) store.presignGet = presign;
  if (options.direct) {
    store.presignUploadPart = options.direct.presignUploadPart;
    store.listParts = options.direct.listParts;
  }
  return store;
}

/** The binding answers a get whose `onlyIf` failed with the object's metadata and no body. */
function withBody(object: R2ObjectBody | R2Object | null): R2ObjectBody | null {
  return object && 'body' in object ? object : null;
}

function toR2Range(range: ByteRange): { offset: number; length?: number } {
  return range.length === undefined ? { offset: range.offset } : { offset: range.offset, length: range.length };
}

function toInfo(object: R2Object): ObjectInfo {
  const info: ObjectInfo = {
    key: object.key,
    size: object.size,
    etag: object.etag,
    lastModified: object.uploaded,
  };
  if (object.httpMetadata?.contentType) info.contentType = object.httpMetadata.contentType;
  if (object.customMetadata && Object.keys(object.customMetadata).length > 0) {
    info.metadata = { ...object.customMetadata };
  }
  return info;
}

/**
 * R2 reports a finished, aborted or unknown upload id as error 10024 ("The specified multipart
 * upload does not exist. (10024)"); workerd puts the code only in the message, so match that.
 */
function isNoSuchUpload(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as Error & { code?: unknown }).code;
  return code === 10024 || /\(10024\)|NoSuchUpload|multipart upload does not exist/i.test(error.message);
}
