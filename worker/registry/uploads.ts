/**
 * Blob upload sessions (distribution-spec "Pushing blobs"): start, append, status, finish, cancel.
 *
 * Bytes go into a multipart upload at `data/<id>` in parts of one fixed size; what does not fill
 * a part waits in a tail object named by its offset. Finishing uploads the tail as the last part
 * (at most one part of work, whatever the blob's size), verifies the digest, and only then
 * publishes a record pointing at `data/<id>` (principle 6: no copy proportional to size).
 * The session object is written last in every request, so a request that fails half-way leaves
 * the session as it was: parts it wrote are overwritten by the retry, its tail is never named.
 *
 * Finishing is idempotent: a `PUT ?digest=` retried after any failure of an earlier attempt
 * (a lost answer to the multipart completion, a failed record write, a cut re-read) finds the
 * work already done and completes it (upload-assembly.ts). A last chunk carried by the PUT is
 * written once: the session is saved `closed`, and a retried PUT finishes with the bytes stored.
 * The session object is removed after its tails, so a failure in between leaves a session the
 * cleanup job finds, never tails nobody names.
 */
import type { MultipartPart, ObjectStore } from '../storage/types.ts';
import type { RegistryConfig } from '../config.ts';
import type { ParsedDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { NoSuchUploadError } from '../storage/errors.ts';
import { keyOf } from './keys.ts';
import { readBytes, readJson, writeJson } from './json-objects.ts';
import { finalHex, hasherFor, type UploadHashState } from './upload-hash.ts';
import { discardRest } from '../http/capped-body.ts';
import { payloadTooLarge, writeParts } from './part-writer.ts';
import { assembleUpload, hashStoredObject, type TailReader } from './upload-assembly.ts';
import type { BlobLocation, Blobs } from './blobs.ts';

export interface UploadSession {
  id: string;
  repo: string;
  createdAt: string;
  updatedAt: string;
  /** Bytes received so far (parts + tail). */
  size: number;
  partSize: number;
  multipartId?: string;
  parts: MultipartPart[];
  /** Offset where the tail starts; the tail holds `size - tailOffset` bytes. */
  tailOffset: number;
  hash?: UploadHashState;
  /**
   * Set when a `PUT ?digest=` has taken its last chunk: the session holds every byte of the
   * blob, no PATCH may add more, and a retried PUT finishes with what is stored.
   */
  closed?: boolean;
}

export interface AppendInput {
  body: ReadableStream<Uint8Array> | null;
  /** From `Content-Range`; a chunk must start where the session ends. */
  range?: { start: number; end: number };
  /** From `Content-Length`, when sent. */
  length?: number;
}

const UPLOAD_ID = /^[A-Za-z0-9_-]{16,64}$/;

export class Uploads {
  constructor(
    private readonly store: ObjectStore,
    private readonly config: RegistryConfig,
    private readonly blobs: Blobs,
  ) {}

  async start(repo: string): Promise<UploadSession> {
    const now = new Date().toISOString();
    const session: UploadSession = {
      id: newUploadId(),
      repo,
      createdAt: now,
      updatedAt: now,
      size: 0,
      partSize: Math.max(this.config.partSize, this.store.capabilities.minPartSize),
      parts: [],
      tailOffset: 0,
    };
    await this.save(session);
    return session;
  }

  async get(repo: string, id: string): Promise<UploadSession> {
    const session = UPLOAD_ID.test(id)
      ? await readJson<UploadSession>(this.store, keyOf({ kind: 'uploadSession', uploadId: id }))
      : null;
    if (!session || session.repo !== repo) {
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { upload: id });
    }
    return session;
  }

  /**
   * PATCH: appends a chunk (or a whole streamed body) and returns the updated session.
   * `close` marks the saved session as holding the whole blob (the PUT's last chunk).
   */
  async append(session: UploadSession, input: AppendInput, close = false): Promise<UploadSession> {
    if (session.closed) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'the upload is being finished: repeat PUT ?digest= to complete it', { upload: session.id });
    }
    const chunked = input.range !== undefined;
    if (input.range) {
      if (input.range.start !== session.size) {
        throw new RegistryError('RANGE_INVALID', `chunk must start at byte ${session.size}`, undefined, {
          status: 416,
          headers: rangeHeaders(session),
        });
      }
      const rangeLength = input.range.end - input.range.start + 1;
      if (input.length !== undefined && input.length !== rangeLength) {
        throw new RegistryError('SIZE_INVALID', 'Content-Length does not match Content-Range');
      }
    }
    const limit = this.config.maxBodyBytes;
    if (limit !== undefined && input.length !== undefined && input.length > limit) {
      throw payloadTooLarge(limit);
    }

    const carry = await this.readTail(session);
    const hasher = hasherFor(session.hash, session.size, chunked);
    let createdMultipart: string | undefined;
    const dataKey = keyOf({ kind: 'data', uploadId: session.id });
    let starting: Promise<string> | undefined;

    let result;
    try {
      result = await writeParts({
        body: input.body,
        carry,
        partSize: session.partSize,
        concurrency: this.config.partConcurrency,
        firstPartNumber: session.parts.length + 1,
        maxBytes: limit,
        onBytes: (chunk) => hasher.update(chunk),
        uploadPart: async (partNumber, bytes) => {
          // Parts run concurrently: the first one starts the multipart upload, the others wait for it.
          starting ??= session.multipartId
            ? Promise.resolve(session.multipartId)
            : this.store.createMultipart(dataKey, session.partSize).then((id) => (createdMultipart = id));
          const id = await starting;
          return this.store.uploadPart(dataKey, id, partNumber, bytes);
        },
      });
      const expected = input.range ? input.range.end - input.range.start + 1 : input.length;
      if (expected !== undefined && result.received !== expected) {
        throw new RegistryError('SIZE_INVALID', `received ${result.received} bytes, expected ${expected}`);
      }
    } catch (error) {
      if (createdMultipart) await this.store.abortMultipart(dataKey, createdMultipart).catch(() => undefined);
      if (error instanceof NoSuchUploadError) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { upload: session.id });
      throw error;
    }

    const size = session.size + result.received;
    const tailOffset = size - result.tail.byteLength;
    if (result.received > 0 && result.tail.byteLength > 0) {
      await this.store.put(keyOf({ kind: 'uploadTail', uploadId: session.id, end: size }), result.tail);
    }
    const updated: UploadSession = {
      ...session,
      size,
      multipartId: createdMultipart ?? session.multipartId,
      parts: [...session.parts, ...result.parts],
      tailOffset,
      // An empty request must not turn a sealed digest into a deferred one.
      hash: result.received > 0 ? hasher.finish() : session.hash,
      updatedAt: new Date().toISOString(),
      ...(close ? { closed: true } : {}),
    };
    await this.save(updated);
    if (result.received > 0 && session.size > session.tailOffset) {
      await this.store.delete(keyOf({ kind: 'uploadTail', uploadId: session.id, end: session.size }));
    }
    return updated;
  }

  /**
   * PUT `?digest=`: takes an optional last chunk, verifies, publishes and links the blob.
   * A mismatch answers DIGEST_INVALID and publishes nothing; the session is discarded.
   */
  async finish(session: UploadSession, digest: ParsedDigest, last: AppendInput): Promise<BlobLocation> {
    const hasBody = last.range !== undefined || (last.length ?? 0) > 0 || (last.length === undefined && last.body !== null);
    let complete = session;
    if (session.closed) {
      // A retry: its last chunk is already stored (the digest check below still applies).
      if (last.body) await discardRest(last.body.getReader(), session.size);
    } else if (hasBody) {
      complete = await this.append(session, last, true);
    }

    // The bytes were hashed with sha256 as they passed; any other algorithm (sha512) is checked
    // once against the assembled object, like a deferred sha256 (upload-hash.ts).
    const knownHex = digest.algorithm === 'sha256' ? finalHex(complete.hash, complete.size) : null;
    if (knownHex !== null && knownHex !== digest.hex) {
      // Never deletes `data/<id>`: an earlier attempt may have published it under its own digest.
      await this.discard(complete);
      throw new RegistryError('DIGEST_INVALID', undefined, { expected: digest.digest, computed: `sha256:${knownHex}` });
    }
    const dataKey = keyOf({ kind: 'data', uploadId: complete.id });
    // Only a deferred check reads the bytes back; knowing whether they were there before this
    // request says whether a mismatch may delete them (an earlier attempt may have published them).
    const before = knownHex === null ? await this.store.head(dataKey) : undefined;
    try {
      await assembleUpload(this.store, complete, dataKey, this.tailOrNull, before ?? undefined);
    } catch (error) {
      if (error instanceof NoSuchUploadError) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { upload: session.id });
      throw error;
    }
    if (knownHex === null) {
      const computed = await hashStoredObject(this.store, dataKey, digest.algorithm);
      if (computed !== digest.hex) {
        if (!before) await this.store.delete(dataKey);
        await this.discard(complete);
        throw new RegistryError('DIGEST_INVALID', undefined, { expected: digest.digest, computed: `${digest.algorithm}:${computed}` });
      }
    }
    const location = await this.blobs.publish(digest, { size: complete.size, data: dataKey });
    await this.blobs.link(session.repo, digest, location);
    await this.removeSessionObjects(complete);
    return location;
  }

  /** DELETE of an upload, and the cleanup of an expired one. Never touches `data/<id>`. */
  async discard(session: UploadSession): Promise<void> {
    if (session.multipartId) {
      await this.store.abortMultipart(keyOf({ kind: 'data', uploadId: session.id }), session.multipartId);
    }
    await this.removeSessionObjects(session);
  }

  private async readTail(session: UploadSession): Promise<Uint8Array> {
    const bytes = await this.tailOrNull(session);
    if (!bytes) throw new RegistryError('BLOB_UPLOAD_INVALID', 'upload state is incomplete; restart the upload');
    return bytes;
  }

  /** The session's tail bytes, or null when its object is gone (or not what the session says). */
  private readonly tailOrNull: TailReader = async (session) => {
    const length = session.size - session.tailOffset;
    if (length === 0) return new Uint8Array(0);
    const key = keyOf({ kind: 'uploadTail', uploadId: session.id, end: session.size });
    const bytes = await readBytes(this.store, key, session.partSize);
    return bytes && bytes.byteLength === length ? bytes : null;
  };

  /**
   * The tail the session names first, the session last. A tail a failed request left behind (it
   * goes before the session it would have been named by) is not looked for here: once the
   * session is gone the cleanup job removes every tail of the upload as an orphan (cleanup.ts).
   * Listing the upload's objects instead cost a LIST per upload, billed as a write on S3 and R2.
   */
  private async removeSessionObjects(session: UploadSession): Promise<void> {
    if (session.size > session.tailOffset) {
      await this.store.delete(keyOf({ kind: 'uploadTail', uploadId: session.id, end: session.size }));
    }
    await this.store.delete(keyOf({ kind: 'uploadSession', uploadId: session.id }));
  }

  private async save(session: UploadSession): Promise<void> {
    await writeJson(this.store, keyOf({ kind: 'uploadSession', uploadId: session.id }), session);
  }
}

/** Headers every upload response carries (spec: Location, Range, Docker-Upload-UUID). */
export function rangeHeaders(session: UploadSession): Record<string, string> {
  return {
    Location: uploadLocation(session),
    Range: `0-${Math.max(session.size - 1, 0)}`,
    'Docker-Upload-UUID': session.id,
  };
}

export function uploadLocation(session: Pick<UploadSession, 'repo' | 'id'>): string {
  return `/v2/${session.repo}/blobs/uploads/${session.id}`;
}

export function newUploadId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_');
}
