/**
 * Garbage collection: deletes blob records and data objects that no repository links, so that
 * deleting images frees storage. Online mark and sweep over prefix listings only (principle 5);
 * memory holds the sets of linked digests and referenced data keys, nothing proportional to bytes.
 *
 * What is garbage. DELETE of a blob removes a repository's link; DELETE of a manifest removes the
 * manifest and its tags. Users delete images by deleting the manifest (skopeo, crane, regctl), so
 * by default GC first removes, in each repository, the layer links older than the grace period
 * that no stored manifest of that repository references (gc-links.ts; the CNCF Distribution
 * behaviour). With `keepUnreferencedLayers` links are the user's statement of what a repository
 * holds and GC never removes them. Then it sweeps:
 * - blob records `blobs/<algo>/<hex>` whose digest no repository links, then the record's data
 *   object unless some link names that data key;
 * - data objects `data/<id>` no record and no link names (left by publish races and by uploads
 *   that failed after assembling), unless the upload session `<id>` is still live.
 * With `untaggedManifests`, each repository first loses the manifests nothing keeps (gc-manifests.ts).
 *
 * Phases, in this order (the order is part of the safety argument):
 *   1. sessions: ids of live upload sessions (`uploads/<id>/session`);
 *   2a. links: in every repository, untagged manifests (option), then unreferenced old links;
 *   2b. mark: every repository in `catalog/`, every link in it (digest and data key);
 *   2c. verify: links removed in 2a that a manifest stored since then references come back
 *       (gc-links.ts argues the manifest PUT race); runs whenever 2a removed any, budget or not;
 *   3. records: sweep unlinked records older than the grace period, keep the data keys of the rest;
 *   4. data: sweep data objects older than the grace period that phases 1-3 found unreferenced.
 * 2a finishes for every repository before 2b starts: a cross-repository mount reads the source
 * link and then writes the target's, so a mount from a link 2a removed either wrote its target
 * link before 2b listed that repository (marked) or stalled across the rest of 2a and part of 2b.
 *
 * Why a concurrent push cannot lose data. A push writes data, then the record, then the link, and
 * finishes within the grace period (default 1 h, BERTH_GC_GRACE_SECONDS). GC runs while pushes
 * continue, so a link may appear after phase 2 listed its repository. Such a link names either
 * - a blob published by this push: its record is younger than the grace period, so phase 3 keeps
 *   it (and its data key), and phase 4 never sees that data as older than the cutoff unless the
 *   store dates a multipart object by its start (S3 does): then the upload's session was live at
 *   phase 1, or it started after GC did and is younger than the cutoff anyway;
 * - an existing record reused by the push: `Blobs.publish` rewrites the record before linking, so
 *   it is young again; phase 3 heads each record again right before deleting it and spares one
 *   that became young since it was listed;
 * - a blob mounted from another repository: the source link existed before the mount, so phase 2b
 *   marked it, or phase 2a removed it (old and unreferenced; see the ordering note above) or the
 *   user deleted it during this run;
 * - a layer a push links and references: a link younger than the grace period is never removed
 *   in 2a, and a manifest stored during the run brings back the old links it names in 2c.
 * What remains is a window of one store round trip (between the re-head and the delete of a
 * record or a link) against a push of that very digest, and a manifest PUT stalled across phase
 * 2b (gc-links.ts); a later push of the blob then heals the record (`Blobs.publish` replaces a
 * record whose bytes are gone).
 * The mark must be whole: if the time budget (`deadline`) ends during phases 1-2, nothing is
 * swept (links already removed in 2a stay removed, after 2c); during phases 3-4 the sweep stops
 * where it is. Either way the report says complete: false.
 */
import type { ObjectInfo, ObjectStore } from '../storage/types.ts';
import { afterPrefix, keyOf } from './keys.ts';
import { readJson } from './json-objects.ts';
import { mapLimit } from './concurrency.ts';
import type { BlobLocation } from './blobs.ts';
import { pruneUntaggedManifests } from './gc-manifests.ts';
import { listPages } from './list-pages.ts';
import { UnreferencedLinks, type UnparsableManifest } from './gc-links.ts';

export interface GcOptions {
  /** Report what would be deleted, delete nothing. */
  dryRun: boolean;
  /** Records and data objects younger than this are never swept. */
  graceSeconds: number;
  /** The clock GC judges ages by (tests move it forward instead of sleeping). */
  now?: Date;
  log?: (line: string) => void;
  /** Also delete manifests no tag, index or kept subject keeps (default false). */
  untaggedManifests?: boolean;
  /** Keep layer links no manifest of their repository references (default false: remove them). */
  keepUnreferencedLayers?: boolean;
  /** Time budget in milliseconds from the start; past it GC stops and reports complete: false. */
  deadline?: number;
}

export interface GcReport {
  dryRun: boolean;
  /** False when the time budget ended the run early (phase says where). */
  complete: boolean;
  stoppedIn?: 'sessions' | 'links' | 'mark' | 'records' | 'data';
  repositories: number;
  manifestsDeleted: number;
  /** Layer links removed because no manifest of their repository references them; bytes are
   *  their blobs' sizes (freed only where no other repository links the blob: see records). */
  links: { unlinked: number; bytes: number };
  /** Manifests that did not parse: their repositories kept every link (at most 50 listed). */
  unparsableManifests: UnparsableManifest[];
  /** Blob records swept; bytes are the records' own sizes. */
  records: { deleted: number; bytes: number; kept: number };
  /** Data objects swept (of swept records and orphans); bytes are the blobs' sizes. */
  dataObjects: { deleted: number; bytes: number };
  /**
   * What this run kept only because it is younger than the grace period: layer links no manifest
   * references, blob records no repository links, data objects nothing names. `count` and
   * `bytes` (the blobs' sizes) sum the three; a later run, once they are older, takes them.
   */
  young: { graceSeconds: number; count: number; bytes: number; links: number; records: number; dataObjects: number };
  durationMs: number;
}

const READ_CONCURRENCY = 16;

class OutOfTime extends Error {}

export async function collectGarbage(store: ObjectStore, options: GcOptions): Promise<GcReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const cutoff = (options.now ?? new Date()).getTime() - options.graceSeconds * 1000;
  // Objects whose store reports no date are treated as young: never swept.
  const old = (info: ObjectInfo | null): boolean => info?.lastModified !== undefined && info.lastModified.getTime() <= cutoff;
  const report: GcReport = {
    dryRun: options.dryRun,
    complete: true,
    repositories: 0,
    manifestsDeleted: 0,
    links: { unlinked: 0, bytes: 0 },
    unparsableManifests: [],
    records: { deleted: 0, bytes: 0, kept: 0 },
    dataObjects: { deleted: 0, bytes: 0 },
    young: { graceSeconds: options.graceSeconds, count: 0, bytes: 0, links: 0, records: 0, dataObjects: 0 },
    durationMs: 0,
  };
  const spare = (kind: 'records' | 'dataObjects', bytes: number): void => {
    report.young[kind]++;
    report.young.count++;
    report.young.bytes += bytes;
  };
  let phase: NonNullable<GcReport['stoppedIn']> = 'sessions';
  const checkTime = (): void => {
    if (options.deadline !== undefined && Date.now() - started > options.deadline) throw new OutOfTime();
  };
  const remove = async (key: string): Promise<void> => {
    if (!options.dryRun) await store.delete(key);
  };

  const liveUploads = new Set<string>();
  const linkedDigests = new Set<string>(); // `<algo>/<hex>`, as in record keys
  const referencedData = new Set<string>(); // data keys named by links and by kept records
  const swept = new Set<string>(); // data keys already deleted (or counted, in a dry run)
  const links = new UnreferencedLinks(store, { old, dryRun: options.dryRun, log });
  const mark = (digest: string, location: BlobLocation | null): void => {
    linkedDigests.add(digest);
    if (location?.data) referencedData.add(location.data);
  };

  try {
    // 1. Live upload sessions: their data may exist before its record does.
    checkTime();
    const uploadsPrefix = keyOf({ kind: 'uploads' });
    for await (const page of listPages(store, uploadsPrefix)) {
      checkTime();
      for (const o of page) {
        if (o.key.endsWith('/session')) liveUploads.add(afterPrefix(o.key, uploadsPrefix).split('/')[0] ?? '');
      }
    }

    const catalogPrefix = keyOf({ kind: 'catalog' });
    try {
      // 2a. Manifests nothing keeps (option), then links no manifest references.
      phase = 'links';
      if (options.untaggedManifests || !options.keepUnreferencedLayers) {
        for await (const page of listPages(store, catalogPrefix)) {
          for (const entry of page) {
            checkTime();
            const repo = afterPrefix(entry.key, catalogPrefix);
            let pruned = new Set<string>();
            if (options.untaggedManifests) {
              pruned = await pruneUntaggedManifests(store, repo, { old, dryRun: options.dryRun, log });
              report.manifestsDeleted += pruned.size;
            }
            if (!options.keepUnreferencedLayers) await links.prune(repo, pruned, checkTime);
          }
        }
      }

      // 2b. Mark: every link of every repository.
      phase = 'mark';
      for await (const page of listPages(store, catalogPrefix)) {
        for (const entry of page) {
          checkTime();
          const repo = afterPrefix(entry.key, catalogPrefix);
          report.repositories++;
          const linksPrefix = keyOf({ kind: 'layerLinks', repo });
          for await (const listed of listPages(store, linksPrefix)) {
            checkTime();
            // A dry run removed nothing: skip what the real run would have removed.
            const kept = options.dryRun ? listed.filter((l) => !links.removedFrom(repo, afterPrefix(l.key, linksPrefix))) : listed;
            const locations = await mapLimit(kept, READ_CONCURRENCY, (l) => readJson<BlobLocation>(store, l.key));
            kept.forEach((l, i) => mark(afterPrefix(l.key, linksPrefix), locations[i] ?? null));
          }
        }
      }
    } finally {
      // 2c. Whatever stopped the mark, links removed in 2a are checked against new manifests.
      await links.verify(mark);
      report.links = { unlinked: links.unlinked, bytes: links.bytes };
      report.unparsableManifests = links.unparsable;
      report.young.links = links.young;
      report.young.count += links.young;
      report.young.bytes += links.youngBytes;
    }

    // 3. Records no repository links, older than the grace period.
    phase = 'records';
    const recordsPrefix = keyOf({ kind: 'blobRecords' });
    for await (const page of listPages(store, recordsPrefix)) {
      checkTime();
      const records = await mapLimit(page, READ_CONCURRENCY, (o) => readJson<BlobLocation>(store, o.key));
      for (const [i, info] of page.entries()) {
        const record = records[i];
        if (!record) continue; // deleted since listed
        const digest = afterPrefix(info.key, recordsPrefix);
        const linked = linkedDigests.has(digest);
        if (linked || !old(info)) {
          referencedData.add(record.data);
          report.records.kept++;
          if (!linked) spare('records', record.size);
          continue;
        }
        checkTime();
        // Listed old, but a push may have reused (and so rewritten) it since: look again.
        const now = await store.head(info.key);
        if (!now) continue;
        if (!old(now)) {
          referencedData.add(record.data);
          report.records.kept++;
          spare('records', record.size);
          continue;
        }
        await remove(info.key);
        report.records.deleted++;
        report.records.bytes += now.size;
        log(JSON.stringify({ t: 'gc', sweep: 'record', digest: digest.replace('/', ':'), dryRun: options.dryRun }));
        if (referencedData.has(record.data) || swept.has(record.data)) continue;
        const data = await store.head(record.data);
        if (!data) continue;
        await remove(record.data);
        swept.add(record.data);
        report.dataObjects.deleted++;
        report.dataObjects.bytes += data.size;
      }
    }

    // 4. Data objects nothing names and no live upload is writing.
    phase = 'data';
    const dataPrefix = keyOf({ kind: 'dataObjects' });
    for await (const page of listPages(store, dataPrefix)) {
      checkTime();
      for (const o of page) {
        if (referencedData.has(o.key) || swept.has(o.key)) continue;
        if (liveUploads.has(afterPrefix(o.key, dataPrefix))) continue;
        if (!old(o)) {
          spare('dataObjects', o.size);
          continue;
        }
        await remove(o.key);
        report.dataObjects.deleted++;
        report.dataObjects.bytes += o.size;
        log(JSON.stringify({ t: 'gc', sweep: 'data', key: o.key, bytes: o.size, dryRun: options.dryRun }));
      }
    }
  } catch (error) {
    if (!(error instanceof OutOfTime)) throw error;
    report.complete = false;
    report.stoppedIn = phase;
  }
  report.durationMs = Date.now() - started;
  log(JSON.stringify({ t: 'gc', ...report }));
  return report;
}
