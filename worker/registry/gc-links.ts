/**
 * Part of garbage collection (gc.ts, on unless `keepUnreferencedLayers`): removes the layer links
 * of one repository that none of its stored manifests references, so that deleting an image's
 * manifest (`skopeo delete`, `crane delete`, `regctl image delete`, DELETE by digest) frees its
 * layers, as CNCF Distribution's mark-through-manifests GC does.
 *
 * Referenced are the config and layers of every image manifest stored in the repository, with or
 * without a `subject` (referrers and artifacts count like images); an index references no blob
 * (its children are manifests, whose own blobs count). Manifests `untaggedManifests` deletes in
 * the same run reference nothing. A manifest that does not parse (parseManifest, with the stored
 * content type) makes the whole repository keep its links: never delete on doubt; it is reported.
 *
 * A link is removed only when it is older than the grace period: a push links its layers before
 * it puts the manifest that references them, and finishes within the grace period.
 *
 * Two steps, with the rest of the mark (gc.ts) between them:
 * - `prune` (phase 2a, per repository): read the manifests, list the links, re-read each
 *   candidate right before deleting it (a push of that blob re-links it, which makes it young:
 *   spared), delete it. Remembers which manifests it read and which links it removed.
 * - `verify` (phase 2c, after every repository was marked, before any sweep): list each affected
 *   repository's manifests again; any manifest not read by `prune` (or rewritten since) is parsed,
 *   and the links it references are written back (create-if-absent), as are all of them if it
 *   does not parse. A manifest PUT checks its links before storing the manifest, so a PUT that
 *   read a link before `prune` deleted it stores its manifest either before `verify` lists the
 *   repository (the link comes back before its record could be swept) or after: that PUT must have
 *   stalled between its check and its write for the rest of phase 2a and all of 2b. That stall is
 *   the remaining window (the image would then name a blob the repository no longer links). A PUT
 *   that checks after the delete fails with MANIFEST_BLOB_UNKNOWN and the client uploads again.
 * The time budget never interrupts `verify`, nor `prune` once it has started deleting.
 */
import type { ObjectInfo, ObjectStore } from '../storage/types.ts';
import { parseManifest } from '../oci/manifest.ts';
import { tryParseDigest } from '../oci/digest.ts';
import { afterPrefix, keyOf } from './keys.ts';
import { mapLimit } from './concurrency.ts';
import { listPages } from './list-pages.ts';
import { readBytes, writeJson } from './json-objects.ts';
import { bodyBytes } from '../storage/whole-reads.ts';
import type { BlobLocation } from './blobs.ts';

/** The largest manifest BERTH_MAX_MANIFEST_MB allows. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
/** A link is a small JSON record ({size, data}). */
const MAX_LINK_BYTES = 64 * 1024;
const decoder = new TextDecoder();
const READ_CONCURRENCY = 8;

export interface UnparsableManifest {
  repository: string;
  digest: string;
  reason: string;
}

export interface LinkPruneOptions {
  /** True when the object is older than the grace period. */
  old: (info: ObjectInfo | null) => boolean;
  dryRun: boolean;
  log: (line: string) => void;
}

interface Pending {
  /** Manifest key → stamp, as `prune` read them. */
  seen: Map<string, string>;
  /** Removed links: `<algo>/<hex>` → what the link held. */
  removed: Map<string, BlobLocation>;
}

type References = { kind: 'ok'; digests: Set<string> } | { kind: 'unparsable'; digest: string; reason: string };

const stamp = (info: ObjectInfo): string => `${info.lastModified?.getTime() ?? ''}/${info.etag ?? ''}/${info.size}`;
const digestOfKey = (key: string, prefix: string): string => afterPrefix(key, prefix).replace('/', ':');

/** The blob digests (`<algo>/<hex>`, as in link keys) one stored manifest references. */
async function readReferences(store: ObjectStore, key: string, prefix: string): Promise<References | null> {
  const object = await store.get(key);
  if (!object) return null; // deleted since listed: references nothing
  const digest = digestOfKey(key, prefix);
  if (object.info.size > MAX_MANIFEST_BYTES) {
    await object.body.cancel();
    return { kind: 'unparsable', digest, reason: `larger than ${MAX_MANIFEST_BYTES} bytes` };
  }
  const bytes = await bodyBytes(object);
  try {
    const manifest = parseManifest(bytes, object.info.contentType);
    const digests = new Set<string>();
    for (const descriptor of manifest.config ? [manifest.config, ...manifest.layers] : manifest.layers) {
      const parsed = tryParseDigest(descriptor.digest);
      if (parsed) digests.add(`${parsed.algorithm}/${parsed.hex}`);
    }
    return { kind: 'ok', digests };
  } catch (error) {
    return { kind: 'unparsable', digest, reason: error instanceof Error ? error.message : String(error) };
  }
}

/** A link's record, or null when it is not one (such a link is left alone). */
function parseLocation(text: string): BlobLocation | null {
  try {
    const value = JSON.parse(text) as Partial<BlobLocation> | null;
    return typeof value?.size === 'number' && typeof value.data === 'string' ? { size: value.size, data: value.data } : null;
  } catch {
    return null;
  }
}

export class UnreferencedLinks {
  private readonly pending = new Map<string, Pending>();
  readonly unparsable: UnparsableManifest[] = [];
  /** Links removed (or that would be, in a dry run) and the sizes of their blobs; final after `verify`. */
  unlinked = 0;
  bytes = 0;
  /** Unreferenced links kept only because they are younger than the grace period, and their blobs' sizes. */
  young = 0;
  youngBytes = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: LinkPruneOptions,
  ) {}

  /** Phase 2a for one repository. `skip`: manifest keys deleted by this run; `checkTime` may throw. */
  async prune(repo: string, skip: ReadonlySet<string>, checkTime: () => void): Promise<void> {
    const manifestsPrefix = keyOf({ kind: 'manifests', repo });
    const seen = new Map<string, string>();
    const referenced = new Set<string>();
    for await (const page of listPages(this.store, manifestsPrefix)) {
      checkTime();
      for (const o of page) seen.set(o.key, stamp(o));
      const live = page.filter((o) => !skip.has(o.key));
      const refs = await mapLimit(live, READ_CONCURRENCY, (o) => readReferences(this.store, o.key, manifestsPrefix));
      for (const ref of refs) {
        if (ref?.kind === 'unparsable') return this.report(repo, ref);
        if (ref) for (const d of ref.digests) referenced.add(d);
      }
    }

    const linksPrefix = keyOf({ kind: 'layerLinks', repo });
    const candidates: ObjectInfo[] = [];
    const spared: ObjectInfo[] = [];
    for await (const page of listPages(this.store, linksPrefix)) {
      checkTime();
      for (const l of page) if (!referenced.has(afterPrefix(l.key, linksPrefix))) (this.options.old(l) ? candidates : spared).push(l);
    }
    await this.countYoung(spared);
    if (candidates.length === 0) return;
    checkTime(); // the last point where the budget may stop this repository

    // Registered before the first delete, so that `verify` covers it even if a later one fails.
    const removed = new Map<string, BlobLocation>();
    this.pending.set(repo, { seen, removed });
    await mapLimit(candidates, READ_CONCURRENCY, async (l) => {
      // Re-read right before deleting: a push of this blob since the listing re-linked it (young).
      // The age comes from `head`: `get` need not report lastModified (storage/types.ts).
      const bytes = await readBytes(this.store, l.key, MAX_LINK_BYTES);
      const location = bytes ? parseLocation(decoder.decode(bytes)) : null;
      if (!location || !this.options.old(await this.store.head(l.key))) return;
      removed.set(afterPrefix(l.key, linksPrefix), location);
      if (!this.options.dryRun) await this.store.delete(l.key);
    });
  }

  /** The report's `young`: what the grace period alone keeps (a push between its layers and its manifest, mostly). */
  private async countYoung(links: readonly ObjectInfo[]): Promise<void> {
    const sizes = await mapLimit(links, READ_CONCURRENCY, async (l) => {
      const bytes = await readBytes(this.store, l.key, MAX_LINK_BYTES);
      return (bytes ? parseLocation(decoder.decode(bytes)) : null)?.size ?? 0;
    });
    this.young += links.length;
    this.youngBytes += sizes.reduce((sum, size) => sum + size, 0);
  }

  /** In a dry run the links are still there: the mark must skip them as if they were gone. */
  removedFrom(repo: string, digest: string): boolean {
    return this.pending.get(repo)?.removed.has(digest) ?? false;
  }

  /**
   * Phase 2c: brings back links that a manifest stored since `prune` references, calling `keep`
   * for each (the caller marks them), then settles the counts.
   */
  async verify(keep: (digest: string, location: BlobLocation) => void): Promise<void> {
    for (const [repo, { seen, removed }] of this.pending) {
      const manifestsPrefix = keyOf({ kind: 'manifests', repo });
      const needed = new Set<string>();
      let doubt = false;
      for await (const page of listPages(this.store, manifestsPrefix)) {
        const fresh = page.filter((o) => seen.get(o.key) !== stamp(o));
        const refs = await mapLimit(fresh, READ_CONCURRENCY, (o) => readReferences(this.store, o.key, manifestsPrefix));
        for (const ref of refs) {
          if (ref?.kind === 'unparsable') {
            this.report(repo, ref);
            doubt = true;
          } else if (ref) for (const d of ref.digests) needed.add(d);
        }
      }
      for (const [digest, location] of removed) {
        if (doubt || needed.has(digest)) {
          const parsed = tryParseDigest(digest.replace('/', ':'));
          if (!this.options.dryRun && parsed) {
            await writeJson(this.store, keyOf({ kind: 'layerLink', repo, digest: parsed }), location, { ifNoneMatch: true });
          }
          keep(digest, location);
          this.options.log(JSON.stringify({ t: 'gc', restore: 'link', repo, digest: digest.replace('/', ':'), dryRun: this.options.dryRun }));
          continue;
        }
        this.unlinked++;
        this.bytes += location.size;
        this.options.log(JSON.stringify({ t: 'gc', sweep: 'link', repo, digest: digest.replace('/', ':'), bytes: location.size, dryRun: this.options.dryRun }));
      }
    }
  }

  private report(repo: string, ref: Extract<References, { kind: 'unparsable' }>): void {
    if (this.unparsable.length < 50) this.unparsable.push({ repository: repo, digest: ref.digest, reason: ref.reason });
    this.options.log(JSON.stringify({ t: 'gc', unparsable: ref.digest, repo, reason: ref.reason, keptLinks: true }));
  }
}
