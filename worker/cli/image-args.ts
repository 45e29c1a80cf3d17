/**
 * Image arguments of the browsing commands: `team/app`, `team/app:1.0`, `team/app@sha256:…`,
 * optionally written with the registry's host in front as `docker pull` has it
 * (`127.0.0.1:5000/team/app:1.0`), which is dropped when it is the host of --url.
 */
import { CliError, flag, parseCommandArgs } from './args.ts';
import { noMore, required } from './commands/command.ts';
import { RegistryError } from '../oci/errors.ts';
import { parseImageRef, type ImageRef } from '../oci/image-ref.ts';
import type { Reference } from '../oci/reference.ts';

export function parseImageArg(text: string, command: string, url: string): ImageRef {
  const host = new URL(url).host;
  const bare = text.startsWith(`${host}/`) ? text.slice(host.length + 1) : text;
  try {
    return parseImageRef(bare);
  } catch (error) {
    if (error instanceof RegistryError) throw new CliError(`${command}: "${text}" is not a repository or image reference: ${error.message}`);
    throw error;
  }
}

/** An image argument that must name a tag or a digest (`show`, `delete`). */
export function parseImageReferenceArg(text: string, command: string, url: string): { name: string; reference: Reference } {
  const { name, reference } = parseImageArg(text, command, url);
  if (!reference) throw new CliError(`${command}: "${text}" names a repository; write REPO:TAG or REPO@DIGEST`);
  return { name, reference };
}

/** The browsing commands' shape: one image or repository argument, and `--json`. */
export function imageCommandArgs(command: string, argv: string[], what: string): { text: string; json: boolean } {
  const args = parseCommandArgs(command, argv, { json: { type: 'boolean' } });
  const text = required(args.positionals, 0, command, what);
  noMore(args.positionals, 1, command);
  return { text, json: flag(args, 'json') };
}
