/**
 * Retention: applies each repository's policy (policy-rules.ts) to what it holds. `berth
 * retention [--dry-run]` and the scheduled job (scheduled.ts, before garbage collection) run it.
 *
 * Per repository of the catalog (mirrored ones included: retention knows only the catalog), under
 * the policy that governs it, if that policy asks for retention:
 *   1. tags: retention-plan.ts picks the tags to delete (keep-last / keep-days, never protected
 *      or immutable ones); each is read again right before it is deleted and spared if a push
 *      moved or refreshed it since the listing;
 *   2. untagged manifests (`deleteUntaggedAfterSeconds`): manifests that no tag, no kept index
 *      and no kept subject keeps and that were pushed longer ago than the window, with their
 *      referrer entries (gc-manifests.ts, the same walk as `gc --untagged-manifests`).
 * Retention frees no bytes itself: the layers of deleted manifests lose their links, and their
 * blobs go, at the next garbage collection (which the scheduled job runs right after).
 *
 * The report lists every tag and manifest deleted (or that would be, in a dry run). A time budget
 * (`deadlineMs`) stops between repositories with `complete: false`; the next run goes on.
 */
import type { ObjectStore } from '../storage/types.ts';
import { afterPrefix, keyOf } from './keys.ts';
import { readJson } from './json-objects.ts';
import { mapLimit } from './concurrency.ts';
import { listPages } from './list-pages.ts';
import { pruneUntaggedManifests } from './gc-manifests.ts';
import type { Policies } from './policies.ts';
import { governingPattern, hasRetention, type RepositoryPolicy } from './policy-rules.ts';
import { tagsToExpire, type TagState } from './retention-plan.ts';
import type { TagRecord } from './tag-writes.ts';

export interface RetentionOptions {
  dryRun: boolean;
  /** The time ages are judged by (the registry's clock; tests move it). */
  now: Date;
  /** Wall-clock budget in ms from the start; past it the run stops between repositories. */
  deadlineMs?: number;
  log?: (line: string) => void;
}

export interface RetainedTag {
  repository: string;
  tag: string;
  digest: string;
  pushedAt: string;
  policy: string;
}

export interface RetainedManifest {
  repository: string;
  digest: string;
  policy: string;
}

export interface RetentionReport {
  dryRun: boolean;
  complete: boolean;
  /** Repositories a retention policy governs (and that were looked at). */
  repositories: number;
  tags: RetainedTag[];
  manifests: RetainedManifest[];
  durationMs: number;
}

const READ_CONCURRENCY = 16;

export async function applyRetention(store: ObjectStore, policies: Policies, options: RetentionOptions): Promise<RetentionReport> {
  const started = Date.now();
  const report: RetentionReport = { dryRun: options.dryRun, complete: true, repositories: 0, tags: [], manifests: [], durationMs: 0 };
  const log = options.log ?? (() => undefined);
  const all = await policies.list();
  const patterns = all.map((p) => p.pattern);
  const byPattern = new Map(all.map((p) => [p.pattern, p]));
  if (!all.some(hasRetention)) return finish(report, started);

  const catalogPrefix = keyOf({ kind: 'catalog' });
  for await (const page of listPages(store, catalogPrefix)) {
    for (const entry of page) {
      if (options.deadlineMs !== undefined && Date.now() - started > options.deadlineMs) {
        report.complete = false;
        return finish(report, started);
      }
      const repository = afterPrefix(entry.key, catalogPrefix);
      const pattern = governingPattern(patterns, repository);
      const policy = pattern === undefined ? undefined : byPattern.get(pattern);
      if (!policy || !hasRetention(policy)) continue;
      report.repositories++;
      await retainRepository(store, repository, policy, options, report, log);
    }
  }
  return finish(report, started);
}

function finish(report: RetentionReport, started: number): RetentionReport {
  report.durationMs = Date.now() - started;
  return report;
}

async function retainRepository(
  store: ObjectStore,
  repository: string,
  policy: RepositoryPolicy,
  options: RetentionOptions,
  report: RetentionReport,
  log: (line: string) => void,
): Promise<void> {
  const expired = tagsToExpire(await tagStates(store, repository, options.now), policy, options.now);
  const removed = new Set<string>();
  for (const state of expired) {
    if (!(await deleteTagIfUnchanged(store, repository, state, options.dryRun))) continue;
    removed.add(state.tag);
    report.tags.push({ repository, tag: state.tag, digest: state.digest, pushedAt: state.pushedAt.toISOString(), policy: policy.pattern });
    log(JSON.stringify({ t: 'retention', repository, tag: state.tag, digest: state.digest, policy: policy.pattern, dryRun: options.dryRun }));
  }

  const window = policy.deleteUntaggedAfterSeconds;
  if (window === undefined) return;
  const cutoff = options.now.getTime() - window * 1000;
  const manifestsPrefix = keyOf({ kind: 'manifests', repo: repository });
  const deleted = await pruneUntaggedManifests(store, repository, {
    // Stores that report no date make a manifest young: never deleted.
    old: (info) => info?.lastModified !== undefined && info.lastModified.getTime() <= cutoff,
    dryRun: options.dryRun,
    log,
    absentTags: options.dryRun ? removed : undefined,
  });
  for (const key of deleted) {
    report.manifests.push({ repository, digest: afterPrefix(key, manifestsPrefix).replace('/', ':'), policy: policy.pattern });
  }
}

/** Every tag of the repository with the time it was last pushed. */
async function tagStates(store: ObjectStore, repository: string, now: Date): Promise<TagState[]> {
  const prefix = keyOf({ kind: 'tags', repo: repository });
  const states: TagState[] = [];
  for await (const page of listPages(store, prefix)) {
    const records = await mapLimit(page, READ_CONCURRENCY, (o) => readJson<TagRecord>(store, o.key));
    page.forEach((info, i) => {
      const record = records[i];
      if (!record) return; // deleted since listed
      // Tags written before push times were recorded: the object's date is the push time.
      const pushedAt = record.pushedAt ? new Date(record.pushedAt) : (info.lastModified ?? now);
      states.push({ tag: afterPrefix(info.key, prefix), digest: record.digest, pushedAt: Number.isNaN(pushedAt.getTime()) ? now : pushedAt });
    });
  }
  return states;
}

/**
 * Deletes the tag unless a push changed it since it was listed (another digest or a newer push
 * time). What remains is one store round trip between this read and the delete.
 */
async function deleteTagIfUnchanged(store: ObjectStore, repository: string, state: TagState, dryRun: boolean): Promise<boolean> {
  const key = keyOf({ kind: 'tag', repo: repository, tag: state.tag });
  const current = await readJson<TagRecord>(store, key);
  if (!current || current.digest !== state.digest) return false;
  if (current.pushedAt && new Date(current.pushedAt).getTime() > state.pushedAt.getTime()) return false;
  if (!dryRun) await store.delete(key);
  return true;
}
