/**
 * `berth show REPO:TAG|REPO@DIGEST`: what the web UI's image page shows, as text (or `--json`):
 * digest, size, created, platform, the config summary (entrypoint, env NAMES, labels…), layers,
 * referrers; for an index, each platform in turn.
 */
import { imageCommandArgs, parseImageReferenceArg } from '../image-args.ts';
import { readImage, type ImageFacts } from '../image-facts.ts';
import { artifactLabel, formatBytes, formatTime } from '../../ui/format.ts';
import type { Command } from './command.ts';

function line(label: string, value: string | undefined, indent: string): void {
  if (value !== undefined && value !== '') console.log(`${indent}${label.padEnd(11)}${value}`);
}

function print(image: ImageFacts, indent = ''): void {
  line('digest', image.digest, indent);
  line('media type', image.mediaType, indent);
  if (image.artifactType) line('artifact', artifactLabel(image.artifactType), indent);
  line('size', `${formatBytes(image.size)} (${image.size} bytes, ${image.kind === 'index' ? 'all platforms' : 'config and layers'})`, indent);
  line('created', formatTime(image.created) || 'unknown', indent);
  line('platform', image.platform, indent);
  const config = image.config;
  if (config) {
    line('entrypoint', config.entrypoint && JSON.stringify(config.entrypoint), indent);
    line('command', config.cmd && JSON.stringify(config.cmd), indent);
    line('workdir', config.workingDir, indent);
    line('user', config.user, indent);
    line('env', config.envNames.length > 0 ? `${config.envNames.join(' ')} (names only)` : undefined, indent);
    line('ports', config.exposedPorts.join(' '), indent);
    const labels = Object.entries(config.labels);
    if (labels.length > 0) {
      console.log(`${indent}labels`);
      for (const [key, value] of labels) console.log(`${indent}  ${key}=${value}`);
    }
  }
  if (image.layers.length > 0) {
    console.log(`${indent}layers`);
    image.layers.forEach((layer, i) => console.log(`${indent}  ${String(i + 1).padStart(2)}  ${layer.digest}  ${formatBytes(layer.size).padStart(9)}  ${layer.mediaType}`));
  }
  if (image.referrers && image.referrers.length > 0) {
    console.log(`${indent}referrers`);
    for (const r of image.referrers) console.log(`${indent}  ${artifactLabel(r.artifactType)}  ${r.digest}`);
  }
  for (const p of image.platforms) {
    console.log(`${indent}platform ${p.attestation ? `attestation (${p.platform || 'unknown'})` : p.platform || 'unknown'}`);
    if (p.image) print(p.image, `${indent}  `);
    else line('digest', p.digest, `${indent}  `);
  }
}

export const showCommand: Command = {
  name: 'show',
  usage: 'show REPO:TAG|REPO@DIGEST [--json]         (an image: config summary, layers, referrers, platforms)',
  async run(ctx, argv) {
    const { text, json } = imageCommandArgs('show', argv, 'REPO:TAG or REPO@DIGEST');
    const { name, reference } = parseImageReferenceArg(text, 'show', ctx.url());
    const image = await readImage(await ctx.registry(), name, reference, true);
    if (json) {
      ctx.printJson(image);
      return;
    }
    console.log(image.reference);
    print(image);
  },
};
