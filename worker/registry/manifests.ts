/**
 * Manifests and tags of one repository (distribution-spec "Pushing/Pulling manifests",
 * "Deleting tags/manifests").
 *
 * Manifest bytes are stored per repository by digest with their media type as the object's
 * content type; a tag is a small record naming a digest. A manifest with a `subject` is indexed
 * under the subject's digest for the referrers API, whether or not the subject exists yet.
 */
import type { ObjectStore } from '../storage/types.ts';
import { LARGEST_MANIFEST_BYTES, type RegistryConfig } from '../config.ts';
import { RegistryError } from '../oci/errors.ts';
import { tryParseDigest, type ParsedDigest } from '../oci/digest.ts';
import { blobsToCheck, parseManifest, referrerDescriptor, type Descriptor, type ParsedManifest } from '../oci/manifest.ts';
import type { Reference } from '../oci/reference.ts';
import { parseDigest } from '../oci/digest.ts';
import { afterPrefix, keyOf } from './keys.ts';
import { readBytes, readJson, writeJson } from './json-objects.ts';
import { listPages } from './list-pages.ts';
import { markRepository, repositoryExists } from './catalog-entries.ts';
import { readWholeObject } from '../storage/whole-reads.ts';
import type { Blobs } from './blobs.ts';
import { mapLimit } from './concurrency.ts';
import { digestBytes } from './content-digest.ts';
import type { TagRecord, TagWrites } from './tag-writes.ts';

export interface ManifestRecord {
  digest: ParsedDigest;
  mediaType: string;
  size: number;
}

export interface StoredManifest extends ManifestRecord {
  body: Uint8Array<ArrayBuffer>;
}

export type { TagRecord } from './tag-writes.ts';

export interface PutManifestResult {
  digest: ParsedDigest;
  mediaType: string;
  size: number;
  subject?: Descriptor;
}

/** What a DELETE removed: the manifest's digest (for a tag, the one it named) and the tags. */
export interface DeletedManifest {
  digest: string;
  tags: string[];
}

/** Store reads in flight while checking a manifest's references (a Worker queues beyond 6). */
const CHECK_CONCURRENCY = 32;
/** Unknown references named in the error, and the count after which checking stops. */
const MAX_REPORTED = 20;

export class Manifests {
  constructor(
    private readonly store: ObjectStore,
    private readonly config: RegistryConfig,
    private readonly blobs: Blobs,
    private readonly tagWrites: TagWrites,
  ) {}

  /** Resolves a tag or digest to the digest of a manifest this repository holds (and, for a tag, its record). */
  private async resolve(repo: string, reference: Reference): Promise<{ digest: ParsedDigest; tag?: TagRecord }> {
    if (reference.kind === 'digest') return { digest: parseDigest(reference.digest) };
    const tag = await this.tagRecord(repo, reference.tag);
    const digest = tag ? tryParseDigest(tag.digest) : null;
    if (!tag || !digest) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { tag: reference.tag });
    return { digest, tag };
  }

  /** HEAD: by a tag whose record carries type and size (tag-writes.ts), one read; otherwise a head of the manifest. */
  async stat(repo: string, reference: Reference): Promise<ManifestRecord> {
    const { digest, tag } = await this.resolve(repo, reference);
    if (tag?.mediaType !== undefined && tag.size !== undefined && Number.isSafeInteger(tag.size)) {
      return { digest, mediaType: tag.mediaType, size: tag.size };
    }
    const info = await this.store.head(keyOf({ kind: 'manifest', repo, digest }));
    if (!info) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { digest: digest.digest });
    return { digest, mediaType: info.contentType ?? 'application/octet-stream', size: info.size };
  }

  /**
   * GET: the stored object's size is the manifest's. The bytes are the driver's own when it read
   * the object whole (every driver does for small objects: storage/memory-body.ts), so no stream
   * is read or copied for them; larger ones are read whole (a manifest is bounded).
   */
  async get(repo: string, reference: Reference): Promise<StoredManifest> {
    const { digest } = await this.resolve(repo, reference);
    // Read with the largest limit there can be, so lowering BERTH_MAX_MANIFEST_MB never hides a
    // manifest pushed under a higher one.
    const object = await readWholeObject(this.store, keyOf({ kind: 'manifest', repo, digest }), LARGEST_MANIFEST_BYTES);
    if (!object) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { digest: digest.digest });
    return { digest, mediaType: object.info.contentType ?? 'application/octet-stream', size: object.info.size, body: object.bytes };
  }

  /**
   * Stores a manifest under its digest and points `reference` (when a tag) and `extraTags` at it.
   * `extraTags` are the `?tag=` parameters of a push by digest (distribution-spec 1.1+dev); they
   * were validated by the caller and are written only once the manifest is stored.
   */
  async put(
    repo: string,
    reference: Reference,
    body: Uint8Array<ArrayBuffer>,
    contentType: string | undefined,
    extraTags: readonly string[] = [],
  ): Promise<PutManifestResult> {
    const manifest = parseManifest(body, contentType);
    // A push by digest is addressed with that digest's algorithm (sha256 or sha512); a push by
    // tag uses the canonical sha256.
    const expected = reference.kind === 'digest' ? parseDigest(reference.digest) : null;
    const digest = await digestBytes(body, expected?.algorithm ?? 'sha256');
    if (expected && expected.hex !== digest.hex) {
      throw new RegistryError('DIGEST_INVALID', 'manifest digest does not match the reference', {
        expected: expected.digest,
        computed: digest.digest,
      });
    }
    await this.checkReferences(repo, manifest);
    const tags = reference.kind === 'tag' ? [reference.tag, ...extraTags] : [...extraTags];
    // Refused before anything is stored: a push that would move an immutable tag changes nothing.
    const policy = await this.tagWrites.check(repo, tags, digest);

    await this.store.put(keyOf({ kind: 'manifest', repo, digest }), body, { contentType: manifest.mediaType });
    await this.indexSubject(repo, digest, manifest, body.byteLength);
    await this.tagWrites.write(repo, tags, digest, policy, { mediaType: manifest.mediaType, size: body.byteLength });
    await markRepository(this.store, repo);
    const stored = { digest, mediaType: manifest.mediaType, size: body.byteLength };
    return manifest.subject ? { ...stored, subject: manifest.subject } : stored;
  }

  /**
   * Stores a manifest the pull-through mirror fetched (registry/mirror/): the caller verified
   * its digest; its blobs come from the upstream on demand, so they are not checked here.
   */
  async putFetched(repo: string, digest: ParsedDigest, body: Uint8Array<ArrayBuffer>, manifest: ParsedManifest): Promise<StoredManifest> {
    await this.store.put(keyOf({ kind: 'manifest', repo, digest }), body, { contentType: manifest.mediaType });
    await this.indexSubject(repo, digest, manifest, body.byteLength);
    await markRepository(this.store, repo);
    return { digest, mediaType: manifest.mediaType, size: body.byteLength, body };
  }

  /** A tag's record as stored, or null. */
  tagRecord(repo: string, tag: string): Promise<TagRecord | null> {
    return readJson<TagRecord>(this.store, keyOf({ kind: 'tag', repo, tag }));
  }

  /**
   * Writes a mirrored tag as the upstream names it (registry/mirror/): the upstream owns those
   * names, so repository policies, which guard what is pushed here, do not apply.
   */
  async writeMirroredTag(repo: string, tag: string, record: TagRecord): Promise<void> {
    await writeJson(this.store, keyOf({ kind: 'tag', repo, tag }), record);
  }

  /** True when Berth holds a repository of that name (pushed, mounted or mirrored into). */
  async holds(repo: string): Promise<boolean> {
    return repositoryExists(this.store, repo);
  }

  /** A manifest with a `subject` is listed under the subject for the referrers API. */
  private async indexSubject(repo: string, digest: ParsedDigest, manifest: ParsedManifest, size: number): Promise<void> {
    const subject = manifest.subject ? tryParseDigest(manifest.subject.digest) : null;
    if (!subject) return;
    await writeJson(this.store, keyOf({ kind: 'referrer', repo, subject, digest }), referrerDescriptor(manifest, digest.digest, size));
  }

  /** Refuses, as a push would, pointing `tags` at `digest` when one of them is immutable elsewhere. */
  async checkTags(repo: string, tags: readonly string[], digest: ParsedDigest): Promise<void> {
    await this.tagWrites.check(repo, tags, digest);
  }

  /**
   * DELETE by tag removes the tag; by digest removes the manifest, its tags and its referrer
   * entry. Tags an immutable policy covers go only when `isAdmin` says the caller is an admin.
   */
  async delete(repo: string, reference: Reference, isAdmin: () => Promise<boolean> = async () => false): Promise<DeletedManifest> {
    if (reference.kind === 'tag') {
      const key = keyOf({ kind: 'tag', repo, tag: reference.tag });
      const tag = await readJson<TagRecord>(this.store, key);
      if (!tag) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { tag: reference.tag });
      await this.tagWrites.checkDelete(repo, [reference.tag], isAdmin);
      await this.store.delete(key);
      return { digest: tag.digest, tags: [reference.tag] };
    }
    const digest = parseDigest(reference.digest);
    const key = keyOf({ kind: 'manifest', repo, digest });
    const bytes = await readBytes(this.store, key, this.config.maxManifestBytes);
    if (!bytes) throw new RegistryError('MANIFEST_UNKNOWN', undefined, { digest: digest.digest });
    const tags = await this.tagsOf(repo, digest);
    await this.tagWrites.checkDelete(repo, tags, isAdmin);
    const subject = subjectOf(bytes);
    if (subject) await this.store.delete(keyOf({ kind: 'referrer', repo, subject, digest }));
    await mapLimit(tags, CHECK_CONCURRENCY, (tag) => this.store.delete(keyOf({ kind: 'tag', repo, tag })));
    await this.store.delete(key);
    return { digest: digest.digest, tags };
  }

  /** The tags of `repo` that point to `digest` (one listing of the tags, each read). */
  private async tagsOf(repo: string, digest: ParsedDigest): Promise<string[]> {
    const prefix = keyOf({ kind: 'tags', repo });
    const found: string[] = [];
    for await (const page of listPages(this.store, prefix)) {
      await mapLimit(page, CHECK_CONCURRENCY, async (object) => {
        const tag = await readJson<TagRecord>(this.store, object.key);
        if (tag?.digest === digest.digest) found.push(afterPrefix(object.key, prefix));
      });
    }
    return found;
  }

  /**
   * Every config and layer must be linked here; every child of an index must be stored here.
   * Checks run CHECK_CONCURRENCY at a time and stop once MAX_REPORTED are missing: a manifest
   * naming 10,000 unknown layers is refused after a few dozen reads, not 10,000 in a row. A size
   * mismatch is refused at once.
   */
  private async checkReferences(repo: string, manifest: ParsedManifest): Promise<void> {
    const missing: string[] = [];
    const enough = (): boolean => missing.length >= MAX_REPORTED;
    await mapLimit(uniqueByDigest(blobsToCheck(manifest)), CHECK_CONCURRENCY, async (descriptor) => {
      if (enough()) return;
      const digest = tryParseDigest(descriptor.digest);
      const link = digest ? await this.blobs.stat(repo, digest) : null;
      if (!link) missing.push(descriptor.digest);
      else if (link.size !== descriptor.size) {
        throw new RegistryError('MANIFEST_INVALID', `size of ${descriptor.digest} is ${link.size}, manifest says ${descriptor.size}`);
      }
    });
    await mapLimit(uniqueByDigest(manifest.manifests), CHECK_CONCURRENCY, async (descriptor) => {
      if (enough()) return;
      const digest = tryParseDigest(descriptor.digest);
      const found = digest ? await this.store.head(keyOf({ kind: 'manifest', repo, digest })) : null;
      if (!found) missing.push(descriptor.digest);
    });
    if (missing.length > 0) {
      const count = enough() ? `at least ${missing.length}` : String(missing.length);
      throw new RegistryError('MANIFEST_BLOB_UNKNOWN', `manifest references ${count} unknown blob(s) or manifest(s)`, {
        digests: missing.slice(0, MAX_REPORTED),
      });
    }
  }
}

/** One descriptor per digest and size: a layer listed twice is checked once. */
function uniqueByDigest(descriptors: readonly Descriptor[]): Descriptor[] {
  const unique = new Map<string, Descriptor>();
  for (const descriptor of descriptors) unique.set(`${descriptor.digest} ${descriptor.size}`, descriptor);
  return [...unique.values()];
}

function subjectOf(bytes: Uint8Array): ParsedDigest | null {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof value !== 'object' || value === null) return null;
    const subject = (value as { subject?: { digest?: unknown } }).subject;
    return typeof subject?.digest === 'string' ? tryParseDigest(subject.digest) : null;
  } catch {
    return null;
  }
}
