/** Every object under a prefix, one page at a time, in key order (prefix listing + startAfter). */
import type { ObjectInfo, ObjectStore } from '../storage/types.ts';

export async function* listPages(store: ObjectStore, prefix: string, limit = 1000): AsyncGenerator<ObjectInfo[]> {
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list({ prefix, startAfter, limit });
    if (page.objects.length > 0) yield page.objects;
    const last = page.objects[page.objects.length - 1];
    if (!page.truncated || !last) return;
    startAfter = last.key;
  }
}
