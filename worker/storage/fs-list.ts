/**
 * `list` for the filesystem driver: a depth-first walk of only the prefix's directory, in key
 * order, stopping as soon as `limit + 1` keys are found, then one `stat` per returned key.
 *
 * Why the walk is in key order: within one directory, entry `s` stands for the key `dir/s` when
 * it is a file and for keys `dir/s/…` when it is a directory. Sorting entries by `s` (files) and
 * `s/` (directories) orders whole groups correctly, e.g. `a-b` < `a.b` < `a/…` < `a0`
 * (`-` 0x2D, `.` 0x2E, `/` 0x2F, `0` 0x30), so visiting them in that order yields sorted keys.
 */
import { stat, type BigIntStats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from './fs-io.ts';
import { compareKeys, decodeName, directoryPath } from './fs-keys.ts';
import { infoFromStat } from './fs-object-file.ts';
import type { KeyListResult, ListOptions, ListResult, ObjectInfo } from './types.ts';

const DEFAULT_LIMIT = 1000;
/** `stat` calls in flight at once (libuv runs them on its small thread pool anyway). */
const STAT_CONCURRENCY = 32;

interface Entry {
  /** The key for a file, the key prefix (ending in `/`) for a directory. */
  sortKey: string;
  /** The directory holding it and its name there: the path is joined only when it is needed. */
  dir: string;
  name: string;
  isFile: boolean;
}

const pathOf = (entry: Entry): string => join(entry.dir, entry.name);

export async function listObjects(objectsDir: string, options: ListOptions): Promise<ListResult> {
  const { page, truncated } = await walkKeys(objectsDir, options);
  const infos = await mapBounded(page, STAT_CONCURRENCY, (entry) => describe(entry));
  // A key deleted between the walk and its stat is simply left out.
  return { objects: infos.filter((info): info is ObjectInfo => info !== null), truncated };
}

/** Keys only: the walk without the per-key stat (tag and catalog listings need nothing more). */
export async function listKeys(objectsDir: string, options: ListOptions): Promise<KeyListResult> {
  const { page, truncated } = await walkKeys(objectsDir, options);
  return { keys: page.map((entry) => entry.sortKey), truncated };
}

async function walkKeys(objectsDir: string, options: ListOptions): Promise<{ page: Entry[]; truncated: boolean }> {
  const limit = options.limit ?? DEFAULT_LIMIT;
  const { prefix, startAfter } = options;
  const cut = prefix.lastIndexOf('/') + 1;
  const dirKey = prefix.slice(0, cut);
  const namePrefix = prefix.slice(cut);
  const found: Entry[] = [];

  // Returns true once enough keys are found.
  async function walk(dir: string, keyPrefix: string, nameFilter: string): Promise<boolean> {
    let names;
    try {
      names = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      // Absent prefix, or a directory pruned by a concurrent delete: no keys there.
      if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return false;
      throw error;
    }
    const entries: Entry[] = [];
    for (const dirent of names) {
      const decoded = decodeName(dirent.name);
      if (!decoded || !decoded.segment.startsWith(nameFilter)) continue;
      if (decoded.isFile && dirent.isFile()) {
        const sortKey = keyPrefix + decoded.segment;
        // Files at or before startAfter are never listed: drop them before the sort (a late page).
        if (startAfter !== undefined && compareKeys(sortKey, startAfter) <= 0) continue;
        entries.push({ sortKey, dir, name: dirent.name, isFile: true });
      } else if (!decoded.isFile && dirent.isDirectory()) {
        entries.push({ sortKey: `${keyPrefix}${decoded.segment}/`, dir, name: dirent.name, isFile: false });
      }
    }
    entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
    for (const entry of entries) {
      if (entry.isFile) {
        found.push(entry);
        if (found.length > limit) return true;
      } else {
        // Every key below starts with sortKey: all are <= startAfter unless startAfter sorts
        // before sortKey or lies inside this directory.
        if (
          startAfter !== undefined &&
          compareKeys(entry.sortKey, startAfter) <= 0 &&
          !startAfter.startsWith(entry.sortKey)
        ) {
          continue;
        }
        if (await walk(pathOf(entry), entry.sortKey, '')) return true;
      }
    }
    return false;
  }

  await walk(directoryPath(objectsDir, dirKey), dirKey, namePrefix);
  return { page: found.slice(0, limit), truncated: found.length > limit };
}

// One stat per listed key, never an open or a read: the object file's fixed-size header
// (fs-object-file.ts) makes size and lastModified derivable from the stat alone.
async function describe(entry: Entry): Promise<ObjectInfo | null> {
  try {
    // Listings carry what S3's ListObjectsV2 does: no content type or user metadata.
    return infoFromStat(entry.sortKey, await statOf(pathOf(entry)));
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return null;
    throw error;
  }
}

// The callback form: measured cheaper than `fs/promises` stat on Node 20 (1.3 against 2.1-3.7 ms
// per 500 calls here), and these calls are what a listing of small objects costs.
function statOf(path: string): Promise<BigIntStats> {
  return new Promise((resolve, reject) => stat(path, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
}

async function mapBounded<T, R>(items: T[], concurrency: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
