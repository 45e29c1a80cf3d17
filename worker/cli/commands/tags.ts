/** `berth tags REPO`: a repository's tags with digest, size, created and platforms (over /v2). */
import { imageCommandArgs, parseImageArg } from '../image-args.ts';
import { readImage, type ImageFacts } from '../image-facts.ts';
import { mapLimit } from '../../registry/concurrency.ts';
import { formatBytes, formatTime, shortDigest } from '../../ui/format.ts';
import type { Command } from './command.ts';
import { CliError } from '../args.ts';

const PAGE = 1000;

function platformsOf(image: ImageFacts): string {
  if (image.kind === 'image') return image.platform ?? '';
  return image.platforms.filter((p) => !p.attestation).map((p) => p.platform || 'unknown').join(',');
}

export const tagsCommand: Command = {
  name: 'tags',
  usage: 'tags REPO [--json]                         (tags with digest, size, created, platforms)',
  async run(ctx, argv) {
    const { text, json } = imageCommandArgs('tags', argv, 'REPO');
    const url = ctx.url();
    const { name, reference } = parseImageArg(text, 'tags', url);
    if (reference) throw new CliError(`tags: "${text}" names an image; write the repository alone (berth show ${text})`);
    const client = await ctx.registry();
    const tags: string[] = [];
    for await (const page of client.pages<{ tags?: string[] | null }>(`/v2/${name}/tags/list?n=${PAGE}`, `tags ${name}`)) {
      tags.push(...(page.tags ?? []));
    }
    const images = await mapLimit(tags, 4, (tag) => readImage(client, name, { kind: 'tag', tag }));
    const rows = tags.map((tag, i) => ({ tag, image: images[i]! }));
    if (json) {
      ctx.printJson(rows.map(({ tag, image }) => ({
        tag, digest: image.digest, mediaType: image.mediaType, size: image.size, created: image.created ?? null, platforms: platformsOf(image).split(',').filter(Boolean),
      })));
      return;
    }
    if (rows.length === 0) {
      console.error(`${name} has no tags`);
      return;
    }
    const table = [['TAG', 'DIGEST', 'SIZE', 'CREATED', 'PLATFORMS'], ...rows.map(({ tag, image }) => [tag, shortDigest(image.digest), formatBytes(image.size), formatTime(image.created), platformsOf(image)])];
    const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
    for (const row of table) console.log(row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  '));
  },
};
