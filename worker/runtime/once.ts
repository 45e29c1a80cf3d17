/**
 * Memoises a cold-start build step (an isolate's or a Lambda container's registry); a failure is
 * not cached, so the next request tries again instead of failing forever.
 */
export function once<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
