/**
 * The scheduled job (cron on Workers, EventBridge on Lambda, a timer on Node): upload sessions
 * untouched for longer than `uploadExpirySeconds` are discarded and their multipart uploads
 * aborted, so abandoned pushes stop costing storage.
 */
import type { ObjectStore } from '../storage/types.ts';
import type { RegistryConfig } from '../config.ts';
import { keyOf } from './keys.ts';
import { readJson } from './json-objects.ts';
import { Registry } from './registry.ts';
import type { UploadSession } from './uploads.ts';

export async function expireUploads(store: ObjectStore, config: RegistryConfig, now = new Date()): Promise<{ expired: number }> {
  const uploads = new Registry(store, config).uploads;
  const prefix = keyOf({ kind: 'uploads' });
  const cutoff = now.getTime() - config.uploadExpirySeconds * 1000;
  let expired = 0;
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list({ prefix, startAfter, limit: 1000 });
    for (const object of page.objects) {
      if (!object.key.endsWith('/session')) continue;
      const session = await readJson<UploadSession>(store, object.key);
      if (!session || Date.parse(session.updatedAt) > cutoff) continue;
      await uploads.discard(session);
      expired++;
    }
    const last = page.objects[page.objects.length - 1];
    if (!page.truncated || !last) return { expired };
    startAfter = last.key;
  }
}
