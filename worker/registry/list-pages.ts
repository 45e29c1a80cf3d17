/**
 * The one paging loop over a prefix listing, for every listing in the registry: a page at a time
 * in key order, each page starting after the last key of the one before (S3's StartAfter, the
 * spec's `last`). `listPages` yields objects (size, lastModified), `listKeyPages` keys only, which
 * costs less where listing sizes costs extra I/O (the fs driver stats every file for them).
 */
import { listKeys, type ObjectInfo, type ObjectStore } from '../storage/types.ts';

export interface PageOptions {
  /** Start strictly after this full key. */
  startAfter?: string;
  /**
   * Keys wanted from the next call (1000 by default), or a function of how many were listed so
   * far. Drivers answer at most what they can at once (S3 and R2: 1000, saying `truncated`), so
   * a larger limit costs them nothing, while the fs driver, which reads a whole directory for
   * every call, answers a 10,000-tag list in one pass instead of ten.
   */
  limit?: number | ((listed: number) => number);
}

const STORE_PAGE = 1000;

async function* pages<T>(list: (startAfter: string | undefined, limit: number) => Promise<{ items: T[]; truncated: boolean }>, keyOf: (item: T) => string, options: PageOptions): AsyncGenerator<T[]> {
  let startAfter = options.startAfter;
  let listed = 0;
  for (;;) {
    const limit = typeof options.limit === 'function' ? options.limit(listed) : (options.limit ?? STORE_PAGE);
    const page = await list(startAfter, Math.max(1, limit));
    listed += page.items.length;
    if (page.items.length > 0) yield page.items;
    const last = page.items[page.items.length - 1];
    if (!page.truncated || last === undefined) return;
    startAfter = keyOf(last);
  }
}

export function listPages(store: ObjectStore, prefix: string, options: PageOptions = {}): AsyncGenerator<ObjectInfo[]> {
  return pages(
    async (startAfter, limit) => {
      const page = await store.list({ prefix, startAfter, limit });
      return { items: page.objects, truncated: page.truncated };
    },
    (object) => object.key,
    options,
  );
}

export function listKeyPages(store: ObjectStore, prefix: string, options: PageOptions = {}): AsyncGenerator<string[]> {
  return pages(
    async (startAfter, limit) => {
      const page = await listKeys(store, { prefix, startAfter, limit });
      return { items: page.keys, truncated: page.truncated };
    },
    (key) => key,
    options,
  );
}
