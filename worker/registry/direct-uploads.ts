/**
 * Direct uploads: a Berth extension of blob pushing in which the layer bytes go from the client
 * to the bucket and never through Berth (README "Pushing large layers: berth push").
 *
 *   start   → a multipart upload at `data/<id>`, a session at `direct-uploads/<id>`, the part plan
 *   parts   → presigned `UploadPart` URLs; the client PUTs the parts itself, in parallel
 *   status  → the parts the store holds (`listParts`), so an interrupted client resumes
 *   finish  → assemble from the store's own list of parts, read the object back, hash it here,
 *             and publish under the digest only when it matches (never the client's claim)
 *
 * Verification reads the assembled object once. Up to `verifyStepBytes` (all of it when unset)
 * is hashed natively in one request; a larger blob is hashed in steps of that many bytes, one
 * per request, with the resumable hasher's state kept in the session (upload-hash.ts), and each
 * step but the last answers "still verifying". A wrong digest deletes the object and the session
 * and publishes nothing; an abandoned upload is aborted by the cleanup job (`expire`).
 */
import type { RegistryConfig } from '../config.ts';
import type { ParsedDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { NoSuchUploadError } from '../storage/errors.ts';
import { supportsDirectUpload, type DirectUploadStore, type ObjectStore } from '../storage/types.ts';
import type { BlobLocation, Blobs } from './blobs.ts';
import { checkParts, isComplete, planParts, type PartCheck } from './direct-plan.ts';
import { readJson, writeJson } from './json-objects.ts';
import { keyOf } from './keys.ts';
import { listKeyPages } from './list-pages.ts';
import { hashStoredObject } from './upload-assembly.ts';
import { finalHex, hasherFor, type UploadHashState } from './upload-hash.ts';
import { newUploadId } from './uploads.ts';

export interface DirectUploadSession {
  id: string;
  repo: string;
  /** What the client says it will upload; checked against the bytes before anything is published. */
  digest: string;
  size: number;
  partSize: number;
  partCount: number;
  multipartId: string;
  createdAt: string;
  updatedAt: string;
  /** The parts were assembled into `data/<id>` (the multipart upload no longer exists). */
  assembled?: boolean;
  /** How far a verification spread over several requests has read, and its hasher's state. */
  verify?: { offset: number; hash: UploadHashState };
}

export type FinishResult =
  | { state: 'published'; location: BlobLocation }
  | { state: 'verifying'; verified: number; size: number };

/** Most part URLs one request may ask for: keeps answers small (Lambda's 6 MB, a Worker's CPU). */
export const MAX_PART_URLS = 100;

const UPLOAD_ID = /^[A-Za-z0-9_-]{16,64}$/;

export class DirectUploads {
  constructor(
    private readonly store: ObjectStore,
    private readonly config: RegistryConfig,
    private readonly blobs: Blobs,
  ) {}

  /** True when the store can presign part uploads (S3, R2 with its S3 keys). */
  get available(): boolean {
    return supportsDirectUpload(this.store);
  }

  async start(repo: string, digest: ParsedDigest, size: number): Promise<DirectUploadSession> {
    const store = this.directStore();
    const { minPartSize, maxParts } = store.capabilities;
    const plan = planParts(size, this.config.partSize, minPartSize, maxParts);
    if (!plan) {
      throw new RegistryError('SIZE_INVALID', `a direct upload takes 1 byte to ${maxParts} parts of 5 GiB, got ${size} bytes`, { size });
    }
    const id = newUploadId();
    const multipartId = await store.createMultipart(keyOf({ kind: 'data', uploadId: id }), plan.partSize);
    const now = new Date().toISOString();
    const session: DirectUploadSession = {
      id, repo, digest: digest.digest, size, ...plan, multipartId, createdAt: now, updatedAt: now,
    };
    await this.save(session);
    return session;
  }

  async get(repo: string, id: string): Promise<DirectUploadSession> {
    const session = UPLOAD_ID.test(id) ? await readJson<DirectUploadSession>(this.store, keyOf({ kind: 'directUpload', uploadId: id })) : null;
    if (!session || session.repo !== repo) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { upload: id });
    return session;
  }

  /** Presigned PUT URLs for the given part numbers (1…partCount). */
  async partUrls(session: DirectUploadSession, numbers: readonly number[]): Promise<{ partNumber: number; url: string }[]> {
    const store = this.directStore();
    if (numbers.length > MAX_PART_URLS) throw new RegistryError('BLOB_UPLOAD_INVALID', `ask for at most ${MAX_PART_URLS} parts at once`);
    for (const n of numbers) {
      if (!Number.isSafeInteger(n) || n < 1 || n > session.partCount) {
        throw new RegistryError('BLOB_UPLOAD_INVALID', `part numbers run from 1 to ${session.partCount}`, { partNumber: n });
      }
    }
    if (session.assembled) throw new RegistryError('BLOB_UPLOAD_INVALID', 'the upload is already being verified');
    const key = keyOf({ kind: 'data', uploadId: session.id });
    const expiresInSeconds = this.config.presignExpirySeconds;
    return Promise.all(numbers.map(async (partNumber) => ({
      partNumber,
      url: await store.presignUploadPart(key, session.multipartId, partNumber, { expiresInSeconds }),
    })));
  }

  /** The parts the store holds (empty once assembled), with what is still missing. */
  async status(session: DirectUploadSession): Promise<{ parts: { partNumber: number; size: number }[]; check: PartCheck | null }> {
    if (session.assembled) return { parts: [], check: null };
    const stored = await this.listParts(session);
    return { parts: stored.map(({ partNumber, size }) => ({ partNumber, size })), check: checkParts(session, session.size, stored) };
  }

  /**
   * One finishing step: assemble (first call), then read back and hash. Answers `verifying`
   * while a large blob is checked step by step; call again with the same digest to go on.
   */
  async finish(session: DirectUploadSession, digest: ParsedDigest): Promise<FinishResult> {
    if (digest.digest !== session.digest) {
      throw new RegistryError('DIGEST_INVALID', 'the digest differs from the one this upload was started with', {
        expected: session.digest,
        given: digest.digest,
      });
    }
    const dataKey = keyOf({ kind: 'data', uploadId: session.id });
    let current = session;
    if (!current.assembled) current = await this.assemble(current, dataKey);

    const step = this.config.verifyStepBytes;
    let computed: string | null;
    if (step === undefined || (current.verify === undefined && current.size <= step)) {
      // The whole object in this request: native hashing (about 9× faster than the resumable one).
      computed = await hashStoredObject(this.store, dataKey, 'sha256');
    } else {
      const offset = current.verify?.offset ?? 0;
      const length = Math.min(step, current.size - offset);
      const object = await this.store.get(dataKey, { offset, length });
      if (!object) {
        computed = null;
      } else {
        const hasher = hasherFor(current.verify?.hash, offset, true);
        let read = 0;
        for await (const chunk of object.body) {
          hasher.update(chunk);
          read += chunk.byteLength;
        }
        if (read !== length) throw new Error(`read ${read} bytes of ${dataKey} at ${offset}, expected ${length}`);
        const hash = hasher.finish();
        const verified = offset + length;
        if (verified < current.size) {
          await this.save({ ...current, verify: { offset: verified, hash }, updatedAt: new Date().toISOString() });
          return { state: 'verifying', verified, size: current.size };
        }
        computed = finalHex(hash, verified);
      }
    }

    if (computed !== digest.hex) {
      await this.store.delete(dataKey);
      await this.deleteSession(current);
      throw new RegistryError('DIGEST_INVALID', 'the bytes in the store do not match the digest; nothing was published', {
        expected: digest.digest,
        computed: computed === null ? null : `sha256:${computed}`,
      });
    }
    const location = await this.blobs.publish(digest, { size: current.size, data: dataKey });
    await this.blobs.link(current.repo, digest, location);
    await this.deleteSession(current);
    return { state: 'published', location };
  }

  /** DELETE of the upload and the cleanup of an abandoned one: nothing of it stays billed. */
  async discard(session: DirectUploadSession): Promise<void> {
    const dataKey = keyOf({ kind: 'data', uploadId: session.id });
    if (session.assembled) await this.store.delete(dataKey);
    else await this.store.abortMultipart(dataKey, session.multipartId);
    await this.deleteSession(session);
  }

  /** The cleanup job: discards sessions untouched since `cutoff`. */
  async expire(cutoff: number): Promise<number> {
    const prefix = keyOf({ kind: 'directUploads' });
    let expired = 0;
    for await (const keys of listKeyPages(this.store, prefix)) {
      for (const key of keys) {
        const session = await readJson<DirectUploadSession>(this.store, key);
        if (!session || Date.parse(session.updatedAt) > cutoff) continue;
        await this.discard(session);
        expired++;
      }
    }
    return expired;
  }

  /** Completes the multipart upload from the store's own list of parts, after checking it. */
  private async assemble(session: DirectUploadSession, dataKey: string): Promise<DirectUploadSession> {
    let stored;
    try {
      stored = await this.listParts(session);
    } catch (error) {
      // A request that completed the upload but failed before saving the session: the object is there.
      if (error instanceof RegistryError && error.code === 'BLOB_UPLOAD_UNKNOWN' && (await this.store.head(dataKey))?.size === session.size) {
        return this.markAssembled(session);
      }
      throw error;
    }
    const check = checkParts(session, session.size, stored);
    if (!isComplete(check)) {
      throw new RegistryError('BLOB_UPLOAD_INVALID', 'the store does not hold every part of the blob yet', {
        missing: check.missing.slice(0, 20),
        missingCount: check.missing.length,
        wrongSize: check.wrongSize.slice(0, 20),
      });
    }
    const parts = stored.filter((part) => part.partNumber <= session.partCount).map(({ partNumber, etag }) => ({ partNumber, etag }));
    try {
      await this.store.completeMultipart(dataKey, session.multipartId, parts);
    } catch (error) {
      if (!(error instanceof NoSuchUploadError)) throw error;
      // A retried finish racing the completion an earlier (timed-out) request started: the
      // upload is gone because the object now exists.
      if ((await this.store.head(dataKey))?.size === session.size) return this.markAssembled(session);
      throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { upload: session.id });
    }
    return this.markAssembled(session);
  }

  private async markAssembled(session: DirectUploadSession): Promise<DirectUploadSession> {
    const updated = { ...session, assembled: true, updatedAt: new Date().toISOString() };
    await this.save(updated);
    return updated;
  }

  private async listParts(session: DirectUploadSession) {
    try {
      return await this.directStore().listParts(keyOf({ kind: 'data', uploadId: session.id }), session.multipartId);
    } catch (error) {
      if (error instanceof NoSuchUploadError) throw new RegistryError('BLOB_UPLOAD_UNKNOWN', undefined, { upload: session.id });
      throw error;
    }
  }

  private directStore(): DirectUploadStore {
    if (!supportsDirectUpload(this.store)) {
      throw new RegistryError('UNSUPPORTED', `the ${this.store.name} store cannot presign uploads; upload in chunks (PATCH with Content-Range)`);
    }
    return this.store;
  }

  private save(session: DirectUploadSession): Promise<boolean> {
    return writeJson(this.store, keyOf({ kind: 'directUpload', uploadId: session.id }), session);
  }

  private deleteSession(session: DirectUploadSession): Promise<void> {
    return this.store.delete(keyOf({ kind: 'directUpload', uploadId: session.id }));
  }
}
