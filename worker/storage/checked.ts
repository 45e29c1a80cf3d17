/**
 * The wrapper every driver is used through (after CNCF Distribution's driver `base.go`):
 * checks shared by all drivers live here once instead of in each driver.
 *
 * - Keys are validated before any backend call. Keys are built by `registry/keys.ts`, so a bad
 *   key is a programming error: it throws a plain `Error('invalid store key …')`, never a
 *   StoreError (which would become a retryable-looking 5xx).
 * - Backend failures that are not already a `StoreError` are wrapped in one naming the driver,
 *   operation and key. `NoSuchUploadError` passes through untouched: it is an answer, not a
 *   failure (the registry maps it to BLOB_UPLOAD_UNKNOWN).
 * - `presignGet`, `presignUploadPart` and `listParts` exist on the wrapper only when the inner
 *   store has them.
 * - Every call is timed and reported to `observe` (the metrics seam) with its outcome; a
 *   missing upload is an answer, so it counts as ok.
 */
import { NoSuchUploadError } from './errors.ts';
import { StoreError, type ObjectStore } from './types.ts';

/** S3 and R2 both cap keys at 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

const encoder = new TextEncoder();
// C0 controls, DEL and C1 controls: invisible in logs and rejected or mangled by some backends.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A surrogate half without its partner cannot be encoded as UTF-8.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function charsetProblem(value: string): string | null {
  // A UTF-16 code unit takes at most 3 bytes of UTF-8: short keys need no encoding to be measured.
  if (value.length * 3 > MAX_KEY_BYTES && encoder.encode(value).byteLength > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  if (CONTROL.test(value)) return 'control character';
  if (value.includes('\\')) return 'backslash';
  if (LONE_SURROGATE.test(value)) return 'lone surrogate';
  if (value.startsWith('/')) return 'leading /';
  if (value.includes('//')) return 'empty segment';
  return null;
}

/** Why `key` is not a valid object key, or null when it is. */
export function invalidKeyReason(key: string): string | null {
  if (typeof key !== 'string' || key.length === 0) return 'empty';
  const problem = charsetProblem(key);
  if (problem) return problem;
  if (key.endsWith('/')) return 'empty segment';
  for (const segment of key.split('/')) {
    if (segment === '.' || segment === '..') return 'dot segment';
  }
  return null;
}

/**
 * Why `prefix` is not a valid listing prefix, or null. A prefix may be empty, end with `/`,
 * or end in a partial segment (`a/.` is the prefix of `a/.x`), so only complete segments are
 * held to the key rules.
 */
export function invalidPrefixReason(prefix: string): string | null {
  if (typeof prefix !== 'string') return 'not a string';
  if (prefix === '') return null;
  const problem = charsetProblem(prefix);
  if (problem) return problem;
  const complete = prefix.split('/').slice(0, -1);
  if (complete.some((segment) => segment === '.' || segment === '..')) return 'dot segment';
  return null;
}

export function assertStoreKey(key: string): void {
  const reason = invalidKeyReason(key);
  if (reason) throw new Error(`invalid store key (${reason}): ${JSON.stringify(String(key).slice(0, 200))}`);
}

function assertPrefix(prefix: string): void {
  const reason = invalidPrefixReason(prefix);
  if (reason) throw new Error(`invalid store key prefix (${reason}): ${JSON.stringify(String(prefix).slice(0, 200))}`);
}

function assertInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`invalid store ${name}: ${value} (expected an integer in ${min}..${max})`);
  }
}

/** Told of every store call: its operation, duration and whether the backend failed. */
export type StoreCallObserver = (operation: string, seconds: number, outcome: 'ok' | 'error') => void;

export function checkedStore(inner: ObjectStore, observe: StoreCallObserver = () => {}): ObjectStore {
  const driver = inner.name;
  const { minPartSize, maxParts } = inner.capabilities;

  async function call<T>(operation: string, key: string, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await run();
      observe(operation, (performance.now() - started) / 1000, 'ok');
      return result;
    } catch (error) {
      const answer = error instanceof NoSuchUploadError;
      observe(operation, (performance.now() - started) / 1000, answer ? 'ok' : 'error');
      if (error instanceof StoreError || answer) throw error;
      throw new StoreError(driver, operation, key, { cause: error });
    }
  }

  const store: ObjectStore = {
    name: driver,
    capabilities: inner.capabilities,

    async head(key) {
      assertStoreKey(key);
      return call('head', key, () => inner.head(key));
    },
    async get(key, range) {
      assertStoreKey(key);
      if (range) {
        assertInteger('range offset', range.offset, 0, Number.MAX_SAFE_INTEGER);
        if (range.length !== undefined) assertInteger('range length', range.length, 0, Number.MAX_SAFE_INTEGER);
      }
      return call('get', key, () => inner.get(key, range));
    },
    async put(key, body, options) {
      assertStoreKey(key);
      return call('put', key, () => inner.put(key, body, options));
    },
    async delete(key) {
      assertStoreKey(key);
      return call('delete', key, () => inner.delete(key));
    },
    async list(options) {
      assertPrefix(options.prefix);
      if (options.limit !== undefined) assertInteger('list limit', options.limit, 1, Number.MAX_SAFE_INTEGER);
      return call('list', options.prefix, () => inner.list(options));
    },
    async createMultipart(key, partSize) {
      assertStoreKey(key);
      assertInteger('part size', partSize, Math.max(1, minPartSize), Number.MAX_SAFE_INTEGER);
      return call('createMultipart', key, () => inner.createMultipart(key, partSize));
    },
    async uploadPart(key, uploadId, partNumber, body) {
      assertStoreKey(key);
      assertInteger('part number', partNumber, 1, maxParts);
      return call('uploadPart', key, () => inner.uploadPart(key, uploadId, partNumber, body));
    },
    async completeMultipart(key, uploadId, parts) {
      assertStoreKey(key);
      for (const part of parts) assertInteger('part number', part.partNumber, 1, maxParts);
      return call('completeMultipart', key, () => inner.completeMultipart(key, uploadId, parts));
    },
    async abortMultipart(key, uploadId) {
      assertStoreKey(key);
      return call('abortMultipart', key, () => inner.abortMultipart(key, uploadId));
    },
  };

  const keysOnly = inner.listKeys;
  if (keysOnly) {
    store.listKeys = async (options) => {
      assertPrefix(options.prefix);
      if (options.limit !== undefined) assertInteger('list limit', options.limit, 1, Number.MAX_SAFE_INTEGER);
      return call('listKeys', options.prefix, () => keysOnly.call(inner, options));
    };
  }

  const presign = inner.presignGet;
  if (presign) {
    store.presignGet = async (key, options) => {
      assertStoreKey(key);
      return call('presignGet', key, () => presign.call(inner, key, options));
    };
  }

  const presignPart = inner.presignUploadPart;
  if (presignPart) {
    store.presignUploadPart = async (key, uploadId, partNumber, options) => {
      assertStoreKey(key);
      assertInteger('part number', partNumber, 1, maxParts);
      assertInteger('presign expiry', options.expiresInSeconds, 1, 7 * 24 * 3600);
      return call('presignUploadPart', key, () => presignPart.call(inner, key, uploadId, partNumber, options));
    };
  }
  const listParts = inner.listParts;
  if (listParts) {
    store.listParts = async (key, uploadId) => {
      assertStoreKey(key);
      return call('listParts', key, () => listParts.call(inner, key, uploadId));
    };
  }
  return store;
}
