/**
 * Optional part of garbage collection (gc.ts, `untaggedManifests: true`): deletes the manifests of
 * one repository that nothing keeps. Kept are manifests a tag points to, manifests younger than
 * the grace period (a multi-platform push uploads the children before the index that names
 * them, and `push --digest` workflows tag later), every child of a kept index, and every
 * referrer (OCI image-spec `subject`) of a kept manifest, to a fixed point. Never the default:
 * pulling by digest is legitimate, and only the operator can decide those digests are unwanted.
 *
 * Deleting a manifest removes its object and its referrer entry, as DELETE by digest does. Its
 * layer links go later in the same run when no other manifest references them (gc-links.ts,
 * unless `keepUnreferencedLayers`), which is why the deleted keys are returned.
 */
import type { ObjectInfo, ObjectStore } from '../storage/types.ts';
import { tryParseDigest } from '../oci/digest.ts';
import { afterPrefix, keyOf } from './keys.ts';
import { readBytes, readJson } from './json-objects.ts';
import { mapLimit } from './concurrency.ts';
import { listPages } from './list-pages.ts';
import type { TagRecord } from './manifests.ts';

/** The largest manifest BERTH_MAX_MANIFEST_MB allows. */
const MAX_MANIFEST_BYTES = 64 * 1024 * 1024;
const READ_CONCURRENCY = 8;

interface Node {
  key: string;
  children: string[];
  subject?: string;
  young: boolean;
}

export interface PruneOptions {
  /** True when the object is older than the grace period. */
  old: (info: ObjectInfo | null) => boolean;
  dryRun: boolean;
  log: (line: string) => void;
  /** Tags to treat as deleted: a retention dry run reports what its tag deletions would untag. */
  absentTags?: ReadonlySet<string>;
}

/** The digests a manifest points to, read leniently (any stored manifest was valid when pushed). */
function edgesOf(bytes: Uint8Array | null): { children: string[]; subject?: string } {
  if (!bytes) return { children: [] };
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as { manifests?: { digest?: unknown }[]; subject?: { digest?: unknown } };
    const children = Array.isArray(value.manifests)
      ? value.manifests.map((m) => m?.digest).filter((d): d is string => typeof d === 'string')
      : [];
    const subject = typeof value.subject?.digest === 'string' ? value.subject.digest : undefined;
    return subject ? { children, subject } : { children };
  } catch {
    return { children: [] };
  }
}

/** Returns the keys of the manifests deleted (or that would be, in a dry run). */
export async function pruneUntaggedManifests(store: ObjectStore, repo: string, options: PruneOptions): Promise<Set<string>> {
  const keep = new Set<string>();
  const tagsPrefix = keyOf({ kind: 'tags', repo });
  for await (const listed of listPages(store, tagsPrefix)) {
    const page = options.absentTags ? listed.filter((o) => !options.absentTags?.has(afterPrefix(o.key, tagsPrefix))) : listed;
    const tags = await mapLimit(page, READ_CONCURRENCY, (o) => readJson<TagRecord>(store, o.key));
    for (const tag of tags) if (tag) keep.add(tag.digest);
  }

  const prefix = keyOf({ kind: 'manifests', repo });
  const nodes = new Map<string, Node>();
  for await (const page of listPages(store, prefix)) {
    const bodies = await mapLimit(page, READ_CONCURRENCY, (o) => readBytes(store, o.key, MAX_MANIFEST_BYTES));
    page.forEach((o, i) => {
      const digest = afterPrefix(o.key, prefix).replace('/', ':');
      nodes.set(digest, { key: o.key, ...edgesOf(bodies[i] ?? null), young: !options.old(o) });
    });
  }

  for (const [digest, node] of nodes) if (node.young) keep.add(digest);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [digest, node] of nodes) {
      if (keep.has(digest)) {
        for (const child of node.children) {
          if (keep.has(child)) continue;
          keep.add(child);
          changed = true;
        }
      } else if (node.subject && keep.has(node.subject)) {
        keep.add(digest);
        changed = true;
      }
    }
  }

  const deleted = new Set<string>();
  for (const [digest, node] of nodes) {
    if (keep.has(digest)) continue;
    // A PUT since the listing rewrote it (and may be about to tag it): spare it.
    if (!options.old(await store.head(node.key))) continue;
    const parsed = tryParseDigest(digest);
    const subject = node.subject ? tryParseDigest(node.subject) : null;
    if (!options.dryRun) {
      if (subject && parsed) await store.delete(keyOf({ kind: 'referrer', repo, subject, digest: parsed }));
      await store.delete(node.key);
    }
    deleted.add(node.key);
    options.log(JSON.stringify({ t: 'gc', sweep: 'manifest', repo, digest, dryRun: options.dryRun }));
  }
  return deleted;
}
