/**
 * Blobs: content-addressed records shared by all repositories, and per-repository links.
 *
 * A repository may read, mount from or reference only blobs linked into it (pushed or mounted
 * there). The link carries the size and the data key, so a pull needs one small read before it
 * redirects or streams.
 */
import type { ObjectStore, PresignOptions, StoredObject } from '../storage/types.ts';
import type { ParsedDigest } from '../oci/digest.ts';
import { keyOf } from './keys.ts';
import { markRepository } from './catalog-entries.ts';
import { readJson, writeJson } from './json-objects.ts';

/** What both a blob record and a repository link hold. */
export interface BlobLocation {
  size: number;
  /** Key of the object holding the bytes (`data/<uploadId>`). */
  data: string;
}

export class Blobs {
  constructor(private readonly store: ObjectStore) {}

  /** The blob as this repository sees it, or null when it is not linked there. */
  stat(repo: string, digest: ParsedDigest): Promise<BlobLocation | null> {
    return readJson<BlobLocation>(this.store, keyOf({ kind: 'layerLink', repo, digest }));
  }

  /** The blob's record, whichever repositories link it, or null when Berth holds no such blob. */
  find(digest: ParsedDigest): Promise<BlobLocation | null> {
    return readJson<BlobLocation>(this.store, keyOf({ kind: 'blob', digest }));
  }

  async link(repo: string, digest: ParsedDigest, location: BlobLocation): Promise<void> {
    await writeJson(this.store, keyOf({ kind: 'layerLink', repo, digest }), location);
    await markRepository(this.store, repo);
  }

  /** Removes the repository's link; the bytes stay for other repositories (and for GC). */
  async unlink(repo: string, digest: ParsedDigest): Promise<boolean> {
    const key = keyOf({ kind: 'layerLink', repo, digest });
    if (!(await this.store.head(key))) return false;
    await this.store.delete(key);
    return true;
  }

  /**
   * Publishes verified bytes under their digest. The first publisher wins (create-if-absent);
   * a later one learns the existing location and drops its own copy. Where the store cannot
   * enforce the condition, two racing publishers each keep their own identical copy: the record
   * names one of them and nothing is lost.
   */
  async publish(digest: ParsedDigest, candidate: BlobLocation): Promise<BlobLocation> {
    const key = keyOf({ kind: 'blob', digest });
    const created = await writeJson(this.store, key, candidate, { ifNoneMatch: true });
    if (created) return candidate;
    const existing = await readJson<BlobLocation>(this.store, key);
    if (!existing || existing.data === candidate.data) return candidate;
    if (await this.store.head(existing.data)) {
      // Rewriting the record makes it young again: garbage collection (gc.ts) spares records
      // younger than its grace period, so a record that no repository links cannot be swept
      // while this push is about to link it.
      await writeJson(this.store, key, existing);
      await this.store.delete(candidate.data);
      return existing;
    }
    // The record points at bytes that are gone: ours replace them.
    await writeJson(this.store, key, candidate);
    return candidate;
  }

  open(location: BlobLocation, range?: { offset: number; length: number }): Promise<StoredObject | null> {
    return this.store.get(location.data, range);
  }

  /** A URL that reads the bytes straight from the store, or null when the store cannot presign. */
  async presignedUrl(location: BlobLocation, options: PresignOptions): Promise<string | null> {
    if (!this.store.capabilities.presign || !this.store.presignGet) return null;
    return this.store.presignGet(location.data, options);
  }
}
