/**
 * The one narrow interface every storage driver implements (filesystem, S3, R2 binding).
 *
 * It is about bytes and keys only: digests, tags, repositories and upload sessions live above
 * it, in `worker/registry/`. Keys are `/`-separated strings made by `registry/keys.ts`; drivers
 * must treat them as opaque (they never start with `/`, never contain `..` or empty segments).
 *
 * Contract (checked by `test/contract/store-contract.ts`, which every driver passes):
 * - A written object is visible whole or not at all: readers never see a partial object. A read
 *   of a large object that an overwrite replaces mid-read may end in an error (the R2 driver
 *   reading in slices does), never in a mix of the two versions or a quietly shorter body.
 * - `list` returns keys in ascending byte order, strictly after `startAfter`, at most `limit`.
 * - `put` with `ifNoneMatch` creates only when absent and reports whether it created; a driver
 *   whose backend cannot guarantee that says so in `capabilities.conditionalWrite`.
 * - Multipart: every part except the last has exactly `partSize` bytes (R2's rule); parts may
 *   be uploaded concurrently and in any order; the object appears only at `completeMultipart`.
 * - Direct uploads (optional, both or neither: `presignUploadPart` and `listParts`): a client PUTs
 *   a part of a multipart upload straight to the store through a presigned URL, and `listParts`
 *   reports what the store holds, so Berth completes the upload from the store's own account of
 *   its parts (registry/direct-uploads.ts). `supportsDirectUpload` tells whether a store has both.
 */

export interface ObjectInfo {
  key: string;
  size: number;
  etag?: string;
  lastModified?: Date;
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface ByteRange {
  /** First byte, inclusive. */
  offset: number;
  /** Number of bytes; omitted means "to the end". */
  length?: number;
}

export interface StoredObject {
  /**
   * Size (of the whole object, also for a range), content type and metadata. `etag` and
   * `lastModified` may be absent here (the filesystem driver skips the stat of small objects):
   * ask `head` for them.
   */
  info: ObjectInfo;
  body: ReadableStream<Uint8Array>;
  /**
   * Optional: the same bytes as `body`, when the driver holds them in memory already (small
   * objects it read whole). Readers of small records use them and skip the stream; a driver
   * that sets `bytes` builds `body` only if it is asked for.
   */
  bytes?: Uint8Array<ArrayBuffer>;
}

export interface PutOptions {
  /** Create only if no object exists under the key (S3 `If-None-Match: *`, R2 `onlyIf`). */
  ifNoneMatch?: boolean;
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface ListOptions {
  prefix: string;
  /** Return only keys strictly greater than this full key. */
  startAfter?: string;
  /** Maximum number of keys; drivers may return fewer with `truncated: true`. */
  limit?: number;
}

export interface ListResult {
  objects: ObjectInfo[];
  /** True when more keys remain after the last one returned. */
  truncated: boolean;
}

export interface KeyListResult {
  keys: string[];
  truncated: boolean;
}

export interface MultipartPart {
  partNumber: number;
  etag: string;
}

/** A part as the store holds it (`listParts`). */
export interface StoredPart extends MultipartPart {
  size: number;
}

export interface PresignOptions {
  expiresInSeconds: number;
  /** Content-Type the store should answer with (response-content-type). */
  contentType?: string;
}

export interface StoreCapabilities {
  /** `presignGet` is available: blob pulls can be redirected. */
  presign: boolean;
  /** `put({ifNoneMatch})` is enforced atomically by the backend. */
  conditionalWrite: boolean;
  /** Smallest allowed size of a non-final multipart part (S3/R2: 5 MiB). */
  minPartSize: number;
  /** Largest number of parts in one multipart upload. */
  maxParts: number;
}

export interface ObjectStore {
  /** Short driver name for logs and error messages ("fs", "s3", "r2"). */
  readonly name: string;
  readonly capabilities: StoreCapabilities;

  head(key: string): Promise<ObjectInfo | null>;
  /** Returns null when absent. A range past the end is the caller's job to refuse first. */
  get(key: string, range?: ByteRange): Promise<StoredObject | null>;
  /**
   * Writes a whole small object (session state, links, manifests, tails of uploads).
   * Returns false only when `ifNoneMatch` was set and the key already existed.
   */
  put(key: string, body: Uint8Array | string, options?: PutOptions): Promise<boolean>;
  /** Deleting an absent key is not an error. */
  delete(key: string): Promise<void>;
  list(options: ListOptions): Promise<ListResult>;
  /**
   * Optional: the same listing as `list`, keys only, for drivers where sizes cost extra I/O
   * (fs stats every file). Call it through `listKeys()` below, which falls back to `list`.
   */
  listKeys?(options: ListOptions): Promise<KeyListResult>;

  /** Starts a multipart upload to `key`; returns an opaque upload id. */
  createMultipart(key: string, partSize: number): Promise<string>;
  /** Uploads part `partNumber` (1-based). `body` is exactly `partSize` bytes unless it is the last. */
  uploadPart(key: string, uploadId: string, partNumber: number, body: Uint8Array): Promise<MultipartPart>;
  /** Publishes the object from its parts (ascending part numbers). */
  completeMultipart(key: string, uploadId: string, parts: MultipartPart[]): Promise<void>;
  /** Discards an unfinished multipart upload; an unknown id is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;

  /** A time-limited URL that GETs the object directly from the store (only if `capabilities.presign`). */
  presignGet?(key: string, options: PresignOptions): Promise<string>;

  /**
   * Optional: a time-limited URL that uploads part `partNumber` of a multipart upload with a
   * plain `PUT` of the part's bytes (S3 `UploadPart`, presigned). Only `expiresInSeconds` is read.
   */
  presignUploadPart?(key: string, uploadId: string, partNumber: number, options: PresignOptions): Promise<string>;
  /**
   * Optional, present with `presignUploadPart`: the parts the store holds for an unfinished
   * multipart upload, ascending by number. An unknown, finished or aborted id is NoSuchUploadError.
   */
  listParts?(key: string, uploadId: string): Promise<StoredPart[]>;
}

/** The optional direct-upload methods, when the store has both. */
export type DirectUploadStore = ObjectStore & Required<Pick<ObjectStore, 'presignUploadPart' | 'listParts'>>;

export function supportsDirectUpload(store: ObjectStore): store is DirectUploadStore {
  return typeof store.presignUploadPart === 'function' && typeof store.listParts === 'function';
}

/** Raised by drivers for backend failures; the HTTP edge turns it into a 5xx. */
export class StoreError extends Error {
  constructor(
    readonly driver: string,
    readonly operation: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(`${driver} store: ${operation} ${key} failed`, options);
    this.name = 'StoreError';
  }
}

/** Keys under a prefix, through the driver's cheaper `listKeys` when it has one. */
export async function listKeys(store: ObjectStore, options: ListOptions): Promise<KeyListResult> {
  if (store.listKeys) return store.listKeys(options);
  const { objects, truncated } = await store.list(options);
  return { keys: objects.map((o) => o.key), truncated };
}
