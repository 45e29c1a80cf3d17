/**
 * Stored objects whose bytes a driver already holds in memory (small objects it read whole):
 * `bytes` is set, and the `body` stream is built only if someone asks for it (types.ts).
 */
import type { ObjectInfo, StoredObject } from './types.ts';

/** Objects up to this size are read whole by drivers that must choose up front (R2, S3). */
export const SMALL_OBJECT_BYTES = 64 * 1024;

export function inMemoryObject(info: ObjectInfo, bytes: Uint8Array<ArrayBuffer>): StoredObject {
  let body: ReadableStream<Uint8Array> | undefined;
  return {
    info,
    bytes,
    get body() {
      return (body ??= streamBytes(bytes));
    },
  };
}

function streamBytes(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}
