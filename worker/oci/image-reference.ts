/**
 * `repo:tag` and `repo@digest`, the way people write images without a registry host (docker's
 * reference grammar, distribution `reference/reference.go`: a name, then `:tag` and/or
 * `@digest`). Used by promotion (`berth tag SRC DST`), where the host is the registry itself.
 */
import { parseDigest } from './digest.ts';
import { RegistryError } from './errors.ts';
import { assertName, assertTag, type Reference } from './reference.ts';

export interface ImageReference {
  repository: string;
  reference: Reference;
}

function excerpt(value: string): string {
  return value.length > 150 ? `${value.slice(0, 150)}…` : value;
}

/**
 * Parses `name:tag` or `name@digest`. A tag and a digest together (`name:tag@digest`) are
 * refused, as is a bare name: promotion must say exactly what it copies.
 */
export function parseImageReference(text: string): ImageReference {
  if (typeof text !== 'string' || text.length === 0 || text.length > 1500) {
    throw new RegistryError('NAME_INVALID', 'expected repository:tag or repository@digest');
  }
  const at = text.indexOf('@');
  if (at >= 0) {
    const name = text.slice(0, at);
    if (name.includes(':')) throw new RegistryError('NAME_INVALID', 'give a tag or a digest, not both', { reference: excerpt(text) });
    return { repository: assertName(name), reference: { kind: 'digest', digest: parseDigest(text.slice(at + 1)).digest } };
  }
  // Names never contain ':', so the first one starts the tag.
  const colon = text.indexOf(':');
  if (colon < 0) throw new RegistryError('TAG_INVALID', `"${excerpt(text)}" names no tag: write repository:tag`, { reference: excerpt(text) });
  return { repository: assertName(text.slice(0, colon)), reference: { kind: 'tag', tag: assertTag(text.slice(colon + 1)) } };
}

/** `repo:tag` or `repo@digest`, as parseImageReference reads it. */
export function formatImageReference(ref: ImageReference): string {
  return ref.reference.kind === 'tag' ? `${ref.repository}:${ref.reference.tag}` : `${ref.repository}@${ref.reference.digest}`;
}
