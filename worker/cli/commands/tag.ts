/** `berth tag SRC DST`: promotion without a re-push (admin API POST /admin/tags, registry/promotion.ts). */
import { CliError, parseCommandArgs } from '../args.ts';
import { RegistryError } from '../../oci/errors.ts';
import { parseImageReference } from '../../oci/image-reference.ts';
import { noMore, required, type Command } from './command.ts';

interface PromotionView {
  source: string;
  repository: string;
  tag: string;
  digest: string;
  manifests: number;
  blobsLinked: number;
}

export const tagCommand: Command = {
  name: 'tag',
  usage: `tag SRC DST                                 (SRC repo:tag or repo@digest, DST repo:tag: promote without
                                             a re-push; layers are mounted, indexes go whole)`,
  async run(ctx, argv) {
    const { positionals } = parseCommandArgs('tag', argv, {});
    const source = required(positionals, 0, 'tag', 'SRC (repo:tag or repo@digest)');
    const target = required(positionals, 1, 'tag', 'DST (repo:tag)');
    noMore(positionals, 2, 'tag');
    checkReference(source, 'SRC');
    if (checkReference(target, 'DST').reference.kind !== 'tag') throw new CliError(`tag: DST must be repo:tag, got "${target}"`);
    const result = await (await ctx.admin()).call<PromotionView>('POST', '/admin/tags', { source, target });
    console.log(
      `${result.repository}:${result.tag} -> ${result.digest} (from ${result.source}; ` +
        `${result.manifests} manifest(s) written, ${result.blobsLinked} blob(s) mounted, no layer copied)`,
    );
  },
};

/** The same grammar the registry applies, checked here so a typo costs no request. */
function checkReference(text: string, what: string): ReturnType<typeof parseImageReference> {
  try {
    return parseImageReference(text);
  } catch (error) {
    if (error instanceof RegistryError) throw new CliError(`tag: ${what} "${text}": ${error.message}`);
    throw error;
  }
}
