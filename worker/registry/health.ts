/**
 * Is the store there? One listing of at most one key under the catalog prefix: a real round
 * trip that reads nothing large, works on an empty bucket and writes nothing (probes come
 * every few seconds, and writes cost money on S3).
 */
import { keyOf } from './keys.ts';
import type { ObjectStore } from '../storage/types.ts';

/** Null when the store answered within `timeoutMs`, else why not. */
export async function storeProblem(store: ObjectStore, timeoutMs: number): Promise<string | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`${store.name} store did not answer within ${timeoutMs} ms`), timeoutMs);
  });
  const probe = store.list({ prefix: keyOf({ kind: 'catalog' }), limit: 1 }).then(
    () => null,
    (error: unknown) => `${store.name} store: ${describeCause(error)}`,
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The innermost message of an error chain (StoreError wraps the backend's own error). */
function describeCause(error: unknown): string {
  let current = error;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  if (current instanceof Error) return `${current.name}: ${current.message}`.slice(0, 300);
  return String(current).slice(0, 300);
}
