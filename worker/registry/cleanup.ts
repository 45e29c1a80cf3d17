/**
 * The scheduled job (cron on Workers, EventBridge on Lambda, a timer on Node): upload sessions
 * untouched for longer than `uploadExpirySeconds` are discarded and their multipart uploads
 * aborted, so abandoned pushes stop costing storage. Tail objects whose session is gone
 * (left by a finish or discard that failed between its deletes, or by older versions, which
 * deleted the session first) are removed once they are as old as an expired session. Direct uploads
 * (registry/direct-uploads.ts) expire the same way: their multipart upload holds parts the client
 * sent straight to the bucket, which S3 bills until the upload is aborted.
 */
import type { ObjectStore } from '../storage/types.ts';
import type { RegistryConfig } from '../config.ts';
import { afterPrefix, keyOf } from './keys.ts';
import { readJson } from './json-objects.ts';
import { listPages } from './list-pages.ts';
import { Registry } from './registry.ts';
import type { UploadSession } from './uploads.ts';

export interface CleanupResult {
  expired: number;
  /** Tail objects found without their session and deleted. */
  orphanedTails: number;
}

export async function expireUploads(store: ObjectStore, config: RegistryConfig, now = new Date()): Promise<CleanupResult> {
  const registry = new Registry(store, config);
  const uploads = registry.uploads;
  const prefix = keyOf({ kind: 'uploads' });
  const cutoff = now.getTime() - config.uploadExpirySeconds * 1000;
  const result: CleanupResult = { expired: await registry.directUploads.expire(cutoff), orphanedTails: 0 };
  // Keys sort `uploads/<id>/session` before `uploads/<id>/tail.<end>` ('s' < 't'), so when a
  // tail is listed, its session (if any) was the last session seen.
  let lastSession: string | undefined;
  for await (const page of listPages(store, prefix)) {
    for (const object of page) {
      const [uploadId, file] = afterPrefix(object.key, prefix).split('/');
      if (file === 'session') {
        lastSession = uploadId;
        const session = await readJson<UploadSession>(store, object.key);
        if (!session || Date.parse(session.updatedAt) > cutoff) continue;
        await uploads.discard(session);
        result.expired++;
      } else if (uploadId !== lastSession && (object.lastModified?.getTime() ?? now.getTime()) <= cutoff) {
        await store.delete(object.key);
        result.orphanedTails++;
      }
    }
  }
  return result;
}
