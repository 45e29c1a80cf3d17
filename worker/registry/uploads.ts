/**
 * Blob upload sessions (distribution-spec "Pushing blobs"): start, append, status, finish, cancel.
 *
 * Bytes go into a multipart upload at `data/<id>` in parts of one fixed size; what does not fill
 * a part waits in a tail object named by its offset. Finishing uploads the tail as the last part
 * (at most one part of work, whatever the blob's size), verifies the digest, and only then
 * publishes a record pointing at `data/<id>` (principle 6: no copy proportional to size).
 * The session object is written last in every request, so a request that fails half-way leaves
 * the session as it was: parts it wrote are overwritten by the retry, its tail is never named.
 */
import type { MultipartPart, ObjectStore } from '../storage/types.ts';
import type { RegistryConfig } from '../config.ts';
import type { ParsedDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { NoSuchUploadError } from '../storage/errors.ts';
import { keyOf } from './keys.ts';
import { readBytes, readJson, writeJson } from './json-objects.ts';
import { finalHex, hashStream, hasherFor, type UploadHashState } from './upload-hash.ts';
import { payloadTooLarge, writeParts } from './part-writer.ts';
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

  /** PATCH: appends a chunk (or a whole streamed body) and returns the updated session. */
  async append(session: UploadSession, input: AppendInput): Promise<UploadSession> {
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
    const complete = hasBody ? await this.append(session, last) : session;

    // The bytes were hashed with sha256 as they passed; any other algorithm (sha512) is checked
    // once against the assembled object, like a deferred sha256 (upload-hash.ts).
    const knownHex = digest.algorithm === 'sha256' ? finalHex(complete.hash, complete.size) : null;
    if (knownHex !== null && knownHex !== digest.hex) {
      await this.discard(complete);
      throw new RegistryError('DIGEST_INVALID', undefined, { expected: digest.digest, computed: `sha256:${knownHex}` });
    }
    const dataKey = await this.assemble(complete);
    if (knownHex === null) {
      const object = await this.store.get(dataKey);
      const computed = object ? await hashStream(object.body, digest.algorithm) : null;
      if (computed !== digest.hex) {
        await this.store.delete(dataKey);
        await this.discard(complete);
        throw new RegistryError('DIGEST_INVALID', undefined, { expected: digest.digest, computed: `${digest.algorithm}:${computed}` });
      }
    }
    const location = await this.blobs.publish(digest, { size: complete.size, data: dataKey });
    await this.blobs.link(session.repo, digest, location);
    await this.removeSessionObjects(complete);
    return location;
  }

  /** DELETE of an upload, and the cleanup of an expired one. */
  async discard(session: UploadSession): Promise<void> {
    if (session.multipartId) {
      await this.store.abortMultipart(keyOf({ kind: 'data', uploadId: session.id }), session.multipartId);
    }
    await this.removeSessionObjects(session);
  }

  /** Turns the parts and tail into the data object; returns its key. */
  private async assemble(session: UploadSession): Promise<string> {
    const dataKey = keyOf({ kind: 'data', uploadId: session.id });
    const tail = await this.readTail(session);
    if (!session.multipartId) {
      // Everything fit in the tail (smaller than one part): one plain write.
      await this.store.put(dataKey, tail, { contentType: 'application/octet-stream' });
      return dataKey;
    }
    const parts = [...session.parts];
    if (tail.byteLength > 0) {
      parts.push(await this.store.uploadPart(dataKey, session.multipartId, parts.length + 1, tail));
    }
    try {
      await this.store.completeMultipart(dataKey, session.multipartId, parts);
    } catch (error) {
      if (error instanceof NoSuchUploadError) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { upload: session.id });
      throw error;
    }
    return dataKey;
  }

  private async readTail(session: UploadSession): Promise<Uint8Array> {
    const length = session.size - session.tailOffset;
    if (length === 0) return new Uint8Array(0);
    const key = keyOf({ kind: 'uploadTail', uploadId: session.id, end: session.size });
    const bytes = await readBytes(this.store, key, session.partSize);
    if (!bytes || bytes.byteLength !== length) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'upload state is incomplete; restart the upload');
    }
    return bytes;
  }

  private async removeSessionObjects(session: UploadSession): Promise<void> {
    await this.store.delete(keyOf({ kind: 'uploadSession', uploadId: session.id }));
    const prefix = keyOf({ kind: 'uploadFiles', uploadId: session.id });
    const { objects } = await this.store.list({ prefix, limit: 1000 });
    await Promise.all(objects.map((o) => this.store.delete(o.key)));
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

function newUploadId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll('+', '-').replaceAll('/', '_');
}
