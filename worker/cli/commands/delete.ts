/**
 * `berth delete REPO:TAG|REPO@DIGEST`: DELETE /v2/<name>/manifests/<reference> (end-9). A tag
 * goes alone; a digest takes the manifest and every tag pointing at it. `berth gc` frees space.
 */
import { imageCommandArgs, parseImageReferenceArg } from '../image-args.ts';
import { formatImageRef, referenceText } from '../../oci/image-ref.ts';
import type { Command } from './command.ts';

export const deleteCommand: Command = {
  name: 'delete',
  usage: `delete REPO:TAG|REPO@DIGEST [--json]       (a tag, or a manifest with its tags; needs delete;
                                             berth gc then frees the storage)`,
  async run(ctx, argv) {
    const { text, json } = imageCommandArgs('delete', argv, 'REPO:TAG or REPO@DIGEST');
    const { name, reference } = parseImageReferenceArg(text, 'delete', ctx.url());
    const ref = formatImageRef(name, reference);
    const client = await ctx.registry();
    const res = await client.request('DELETE', `/v2/${name}/manifests/${encodeURIComponent(referenceText(reference))}`, `delete ${ref}`);
    await res.body?.cancel();
    const kind = reference.kind === 'tag' ? 'tag' : 'manifest';
    if (json) ctx.printJson({ deleted: ref, kind });
    else console.log(kind === 'tag' ? `deleted tag ${ref}` : `deleted manifest ${ref} and the tags pointing at it`);
  },
};
