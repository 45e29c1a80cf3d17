/** Small JSON records in the store (sessions, links, tags). Bodies are tiny; reading whole is fine. */
import type { ObjectStore, PutOptions } from '../storage/types.ts';

export async function readBytes(store: ObjectStore, key: string, maxBytes: number): Promise<Uint8Array | null> {
  const object = await store.get(key);
  if (!object) return null;
  if (object.info.size > maxBytes) {
    await object.body.cancel();
    throw new Error(`object ${key} is larger than expected (${object.info.size} > ${maxBytes})`);
  }
  return new Uint8Array(await new Response(object.body).arrayBuffer());
}

export async function readJson<T>(store: ObjectStore, key: string): Promise<T | null> {
  const bytes = await readBytes(store, key, 1024 * 1024);
  return bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as T) : null;
}

export function writeJson(store: ObjectStore, key: string, value: unknown, options?: PutOptions): Promise<boolean> {
  return store.put(key, JSON.stringify(value), { contentType: 'application/json', ...options });
}
