/**
 * A minimal in-memory ObjectStore for the auth tests: auth keeps only small JSON objects, so
 * put/get/list/delete with `ifNoneMatch` are all it needs. Multipart is not supported.
 */
import type { ObjectInfo, ObjectStore, StoredObject } from '../../worker/storage/types.ts';

export function memoryStore(): ObjectStore & { data: Map<string, Uint8Array> } {
  const data = new Map<string, Uint8Array>();
  const info = (key: string, bytes: Uint8Array): ObjectInfo => ({ key, size: bytes.byteLength });
  const unsupported = async (): Promise<never> => {
    throw new Error('memory store: multipart unsupported');
  };
  return {
    name: 'memory',
    data,
    capabilities: { presign: false, conditionalWrite: true, minPartSize: 5 * 1024 * 1024, maxParts: 10_000 },
    async head(key) {
      const bytes = data.get(key);
      return bytes ? info(key, bytes) : null;
    },
    async get(key): Promise<StoredObject | null> {
      const bytes = data.get(key);
      if (!bytes) return null;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.slice());
          controller.close();
        },
      });
      return { info: info(key, bytes), body };
    },
    async put(key, body, options) {
      if (options?.ifNoneMatch && data.has(key)) return false;
      data.set(key, typeof body === 'string' ? new TextEncoder().encode(body) : body);
      return true;
    },
    async delete(key) {
      data.delete(key);
    },
    async list({ prefix, startAfter, limit = 1000 }) {
      const keys = [...data.keys()].filter((k) => k.startsWith(prefix) && (!startAfter || k > startAfter)).sort();
      return { objects: keys.slice(0, limit).map((k) => info(k, data.get(k)!)), truncated: keys.length > limit };
    },
    createMultipart: unsupported,
    uploadPart: unsupported,
    completeMultipart: unsupported,
    abortMultipart: unsupported,
  };
}
