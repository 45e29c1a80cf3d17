/**
 * Reading a small object whole (records, sessions, tails, manifests, users), for any driver.
 *
 * A store's SDK retries a request that fails before its answer, but not a body cut off after
 * the answer began (a reset mid-response): without a retry here, one cut read of a tag or an
 * upload session became a 500 while the same read a moment later would have worked. A small
 * object is cheap to read again from the start, so a cut body is re-read (3 reads in all), and
 * the failure that remains names the key. Reading goes through a byte cap: an object larger
 * than the caller expects is refused before its body is read.
 */
import { StoreError, type ObjectInfo, type ObjectStore, type StoredObject } from './types.ts';

const READS = 3;

export interface WholeObject {
  info: ObjectInfo;
  bytes: Uint8Array<ArrayBuffer>;
}

/** The object's bytes, or null when it does not exist. */
export async function readWhole(store: ObjectStore, key: string, maxBytes: number): Promise<Uint8Array<ArrayBuffer> | null> {
  return (await readWholeObject(store, key, maxBytes))?.bytes ?? null;
}

/** The object's bytes and what the store says about it, or null when it does not exist. */
export async function readWholeObject(store: ObjectStore, key: string, maxBytes: number): Promise<WholeObject | null> {
  for (let read = 1; ; read++) {
    const object = await store.get(key);
    if (!object) return null;
    if (object.info.size > maxBytes) {
      if (!object.bytes) await object.body.cancel();
      throw new Error(`object ${key} is larger than expected (${object.info.size} > ${maxBytes})`);
    }
    try {
      return { info: object.info, bytes: await bodyBytes(object) };
    } catch (error) {
      if (read >= READS) throw new StoreError(store.name, 'read', key, { cause: error });
    }
  }
}

/**
 * The whole body of an object: the driver's in-memory bytes when it read them already (small
 * objects: types.ts `StoredObject.bytes`), else the stream read to its end.
 */
export async function bodyBytes(object: StoredObject): Promise<Uint8Array<ArrayBuffer>> {
  if (object.bytes) return object.bytes;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of object.body) {
    chunks.push(chunk);
    total += chunk.byteLength;
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
