/**
 * Catalog, tag and referrer listings: each is one prefix listing of the store, paged with
 * startAfter = the spec's `last` (principle 5), never a scan of the whole store.
 */
import type { ObjectStore } from '../storage/types.ts';
import type { ParsedDigest } from '../oci/digest.ts';
import type { Descriptor } from '../oci/manifest.ts';
import type { Page } from '../oci/pagination.ts';
import { MAX_PAGE } from '../oci/pagination.ts';
import { afterPrefix, keyOf } from './keys.ts';
import { readJson } from './json-objects.ts';
import { listKeyPages } from './list-pages.ts';
import { repositoryExists } from './catalog-entries.ts';
import { mapLimit } from './concurrency.ts';

export interface NamePage {
  names: string[];
  /** True when more names follow the last one returned. */
  more: boolean;
}

/** Lists names under `prefix` in byte order, after `page.last`, at most `page.n` (all when absent). */
export async function listNames(store: ObjectStore, prefix: string, page: Page): Promise<NamePage> {
  const wanted = page.n ?? Number.POSITIVE_INFINITY;
  const names: string[] = [];
  if (wanted === 0) return { names, more: false };
  // One key past the page tells whether another page follows: n+1 keys are asked for in all.
  const limit = (listed: number): number => (Number.isFinite(wanted) ? wanted + 1 - listed : MAX_PAGE);
  for await (const keys of listKeyPages(store, prefix, { startAfter: page.last ? prefix + page.last : undefined, limit })) {
    for (const key of keys) {
      if (names.length === wanted) return { names, more: true };
      names.push(afterPrefix(key, prefix));
    }
  }
  return { names, more: false };
}

export function listTags(store: ObjectStore, repo: string, page: Page): Promise<NamePage> {
  return listNames(store, keyOf({ kind: 'tags', repo }), page);
}

export function listRepositories(store: ObjectStore, page: Page): Promise<NamePage> {
  return listNames(store, keyOf({ kind: 'catalog' }), page);
}

export interface FilteredNamePage extends NamePage {
  /** Where the next page starts (its `last`) when `more`: the last name examined, kept or not. */
  next?: string;
}

/** Names examined per call at most, so a caller who sees few of many repositories never scans them all at once. */
export const FILTER_BUDGET = 10_000;

/**
 * The repositories `include` accepts, in order, after `page.last`, at most `page.n` (50 when
 * absent). The catalog is read in pages and filtered here; after FILTER_BUDGET names the page
 * ends early, with `next` saying where to go on.
 */
export async function listRepositoriesWhere(
  store: ObjectStore,
  page: Page,
  include: (name: string) => boolean,
  budget = FILTER_BUDGET,
): Promise<FilteredNamePage> {
  const wanted = page.n ?? 50;
  const names: string[] = [];
  let last = page.last;
  let examined = 0;
  for (;;) {
    const batch = await listRepositories(store, { last, n: Math.min(1000, budget - examined) });
    for (const name of batch.names) {
      examined++;
      if (!include(name)) {
        last = name;
        continue;
      }
      if (names.length === wanted) return { names, more: true, next: last };
      names.push(name);
      last = name;
    }
    if (!batch.more) return { names, more: false };
    if (examined >= budget) return { names, more: true, next: last };
  }
}

/** Every referrer descriptor of `subject` in `repo`, optionally only those of one artifactType. */
export async function listReferrers(
  store: ObjectStore,
  repo: string,
  subject: ParsedDigest,
  artifactType?: string,
): Promise<Descriptor[]> {
  const prefix = keyOf({ kind: 'referrers', repo, subject });
  const keys: string[] = [];
  for await (const page of listKeyPages(store, prefix)) keys.push(...page);
  const descriptors = await mapLimit(keys, 16, (key) => readJson<Descriptor>(store, key));
  return descriptors.filter(
    (d): d is Descriptor => d !== null && (artifactType === undefined || d.artifactType === artifactType),
  );
}

/** The listings as the routes see them: one store, bound once. */
export class Listings {
  constructor(private readonly store: ObjectStore) {}

  tags(repo: string, page: Page): Promise<NamePage> {
    return listTags(this.store, repo, page);
  }

  repositories(page: Page): Promise<NamePage> {
    return listRepositories(this.store, page);
  }

  /** Repositories `include` accepts (the web UI and the catalog for non-admins: only what one may pull). */
  repositoriesWhere(page: Page, include: (name: string) => boolean): Promise<FilteredNamePage> {
    return listRepositoriesWhere(this.store, page, include);
  }

  repositoryExists(repo: string): Promise<boolean> {
    return repositoryExists(this.store, repo);
  }

  referrers(repo: string, subject: ParsedDigest, artifactType?: string): Promise<Descriptor[]> {
    return listReferrers(this.store, repo, subject, artifactType);
  }
}
