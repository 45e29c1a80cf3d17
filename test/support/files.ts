/** Counting what a store left on disk (filesystem store under a target's data directory). */
import { readdir } from 'node:fs/promises';

/** Files below `dir`, recursively; 0 when it does not exist. */
export async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).length;
}
