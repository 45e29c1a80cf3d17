/**
 * Promotion: point a tag of one repository at an image another repository (or the same one)
 * already holds, without pulling and pushing it again (`berth tag SRC DST`).
 *
 * The destination gets links to the blobs the source links (a cross-repository mount, so no
 * layer bytes move: blobs are stored once, see blobs.ts) and copies of the manifest bytes, which
 * keep their digest. An index is promoted whole: its child manifests first, by digest, then the
 * index itself. Every manifest goes through `Manifests.put`, so promotion is checked exactly like
 * a push: references must resolve in the destination, and an immutable tag refuses to move.
 */
import { RegistryError } from '../oci/errors.ts';
import { blobsToCheck, parseManifest, type ParsedManifest } from '../oci/manifest.ts';
import { tryParseDigest, type ParsedDigest } from '../oci/digest.ts';
import type { Reference } from '../oci/reference.ts';
import type { Blobs } from './blobs.ts';
import type { Manifests, StoredManifest } from './manifests.ts';
import { mapLimit } from './concurrency.ts';

export interface PromotionTarget {
  repository: string;
  tag: string;
}

export interface PromotionResult {
  repository: string;
  tag: string;
  digest: string;
  mediaType: string;
  size: number;
  /** Manifests written to the destination (the promoted one and, for an index, its children). */
  manifests: number;
  /** Blob links created in the destination (blobs it already linked are not counted). */
  blobsLinked: number;
}

/** Indexes of indexes are legal but rare; this bounds the work one request can ask for. */
const MAX_DEPTH = 4;
const MAX_MANIFESTS = 1000;
const LINK_CONCURRENCY = 8;

interface Tally {
  manifests: number;
  blobsLinked: number;
}

export class Promotion {
  constructor(
    private readonly manifests: Manifests,
    private readonly blobs: Blobs,
  ) {}

  async promote(source: { repository: string; reference: Reference }, target: PromotionTarget): Promise<PromotionResult> {
    const root = await this.manifests.get(source.repository, source.reference);
    // An immutable target tag refuses before any link or child manifest is written.
    await this.manifests.checkTags(target.repository, [target.tag], root.digest);
    const tally: Tally = { manifests: 0, blobsLinked: 0 };
    const parsed = parseManifest(root.body, root.mediaType);
    await this.copyChildren(source.repository, target.repository, parsed, tally, 1);
    await this.linkBlobs(source.repository, target.repository, parsed, tally);
    await this.manifests.put(target.repository, { kind: 'digest', digest: root.digest.digest }, root.body, root.mediaType, [target.tag]);
    tally.manifests++;
    return {
      repository: target.repository,
      tag: target.tag,
      digest: root.digest.digest,
      mediaType: root.mediaType,
      size: root.size,
      ...tally,
    };
  }

  /** Writes every child of an index (recursively) into the destination, by digest. */
  private async copyChildren(from: string, to: string, manifest: ParsedManifest, tally: Tally, depth: number): Promise<void> {
    if (manifest.manifests.length === 0) return;
    if (depth > MAX_DEPTH) throw new RegistryError('MANIFEST_INVALID', `indexes nested deeper than ${MAX_DEPTH} levels cannot be promoted`);
    for (const child of manifest.manifests) {
      if (tally.manifests >= MAX_MANIFESTS) throw new RegistryError('MANIFEST_INVALID', `an index may promote at most ${MAX_MANIFESTS} manifests`);
      const digest = tryParseDigest(child.digest);
      if (!digest) throw new RegistryError('MANIFEST_INVALID', `index names an invalid digest ${child.digest.slice(0, 150)}`);
      const stored: StoredManifest = await this.manifests.get(from, { kind: 'digest', digest: digest.digest });
      const parsed = parseManifest(stored.body, stored.mediaType);
      await this.copyChildren(from, to, parsed, tally, depth + 1);
      await this.linkBlobs(from, to, parsed, tally);
      await this.manifests.put(to, { kind: 'digest', digest: digest.digest }, stored.body, stored.mediaType);
      tally.manifests++;
    }
  }

  /** Links the config and layers of an image manifest into the destination (a mount, no copy). */
  private async linkBlobs(from: string, to: string, manifest: ParsedManifest, tally: Tally): Promise<void> {
    if (from === to) return;
    await mapLimit(blobsToCheck(manifest), LINK_CONCURRENCY, async (descriptor) => {
      const digest = tryParseDigest(descriptor.digest);
      if (!digest) return; // Manifests.put refuses it with the usual error
      await this.mount(from, to, digest, tally);
    });
  }

  private async mount(from: string, to: string, digest: ParsedDigest, tally: Tally): Promise<void> {
    if (await this.blobs.stat(to, digest)) return;
    const location = await this.blobs.stat(from, digest);
    if (!location) return; // Manifests.put answers MANIFEST_BLOB_UNKNOWN naming it
    await this.blobs.link(to, digest, location);
    tally.blobsLinked++;
  }
}
