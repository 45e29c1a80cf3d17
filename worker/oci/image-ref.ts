/**
 * Image references as people write them: `team/app`, `team/app:1.2` or `team/app@sha256:…`
 * (the `<name>` and `<reference>` of distribution-spec "Pulling manifests", joined the way
 * docker prints them). Repository names cannot contain ':' or '@', so the first '@' starts a
 * digest and a ':' after the last '/' starts a tag. Used by the UI's URLs and the CLI.
 */
import { parseDigest } from './digest.ts';
import { assertName, assertTag, type Reference } from './reference.ts';

export interface ImageRef {
  name: string;
  /** Absent when only a repository was named. */
  reference?: Reference;
}

/** Parses and validates; throws NAME_INVALID, TAG_INVALID, DIGEST_INVALID or UNSUPPORTED. */
export function parseImageRef(text: string): ImageRef {
  const at = text.indexOf('@');
  if (at >= 0) {
    return { name: assertName(text.slice(0, at)), reference: { kind: 'digest', digest: parseDigest(text.slice(at + 1)).digest } };
  }
  const colon = text.lastIndexOf(':');
  if (colon > text.lastIndexOf('/')) {
    return { name: assertName(text.slice(0, colon)), reference: { kind: 'tag', tag: assertTag(text.slice(colon + 1)) } };
  }
  return { name: assertName(text) };
}

export function formatImageRef(name: string, reference?: Reference): string {
  if (!reference) return name;
  return reference.kind === 'tag' ? `${name}:${reference.tag}` : `${name}@${reference.digest}`;
}

/** The reference as the `/v2/<name>/manifests/<reference>` path segment. */
export function referenceText(reference: Reference): string {
  return reference.kind === 'tag' ? reference.tag : reference.digest;
}
