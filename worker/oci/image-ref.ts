/**
 * A repository or an image, as the UI's URLs and the CLI's arguments name them: `team/app`, or
 * an image reference `team/app:1.2` / `team/app@sha256:…` (image-reference.ts reads those).
 */
import { formatImageReference, parseImageReference } from './image-reference.ts';
import { assertName, type Reference } from './reference.ts';

export interface ImageRef {
  name: string;
  /** Absent when only a repository was named. */
  reference?: Reference;
}

/** Parses and validates; throws NAME_INVALID, TAG_INVALID, DIGEST_INVALID or UNSUPPORTED. */
export function parseImageRef(text: string): ImageRef {
  // Repository names contain neither ':' nor '@': without them, this is a repository.
  if (!text.includes(':') && !text.includes('@')) return { name: assertName(text) };
  const { repository, reference } = parseImageReference(text);
  return { name: repository, reference };
}

export function formatImageRef(name: string, reference?: Reference): string {
  return reference ? formatImageReference({ repository: name, reference }) : name;
}

/** The reference as the `/v2/<name>/manifests/<reference>` path segment. */
export function referenceText(reference: Reference): string {
  return reference.kind === 'tag' ? reference.tag : reference.digest;
}
