/** Small JSON records in the store (sessions, links, tags). Bodies are tiny; reading whole is fine. */
import type { ObjectStore, PutOptions } from '../storage/types.ts';
import { readWhole } from '../storage/whole-reads.ts';

/** The object's bytes (a cut body is read again), or null when absent; refuses more than `maxBytes`. */
export const readBytes = readWhole;

export async function readJson<T>(store: ObjectStore, key: string): Promise<T | null> {
  const bytes = await readBytes(store, key, 1024 * 1024);
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as T) : null;
}

export function writeJson(store: ObjectStore, key: string, value: unknown, options?: PutOptions): Promise<boolean> {
  return store.put(key, JSON.stringify(value), { contentType: 'application/json', ...options });
}
