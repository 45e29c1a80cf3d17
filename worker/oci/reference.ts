/**
 * Repository names and manifest references, per OCI distribution-spec v1.1 "Pulling manifests":
 * `<name>` must match NAME_PATTERN, `<reference>` is a tag (TAG_PATTERN) or a digest.
 */
import { parseDigestToRead, type Digest } from './digest.ts';
import { RegistryError, type ErrorCode } from './errors.ts';

export const NAME_PATTERN =
  /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;

export const TAG_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** The spec lets registries limit names; 255 keeps `<host>/<name>:<tag>` usable by clients. */
export const MAX_NAME_LENGTH = 255;
/**
 * A path component becomes one file name in the filesystem store (`catalog/<name>` ends in
 * `<component>%`, storage/fs-keys.ts) and file names have at most 255 bytes on common
 * filesystems: a 255-character component would fail there with a 500 instead of NAME_INVALID.
 */
export const MAX_NAME_COMPONENT_LENGTH = 254;

export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

function excerpt(value: string): string {
  return value.length > 150 ? `${value.slice(0, 150)}…` : value;
}

export function isValidName(name: string): boolean {
  // Length first: the pattern is never run on unbounded input.
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    name.length <= MAX_NAME_LENGTH &&
    NAME_PATTERN.test(name) &&
    name.split('/').every((component) => component.length <= MAX_NAME_COMPONENT_LENGTH)
  );
}

export function assertName(name: string): string {
  if (!isValidName(name)) {
    throw new RegistryError('NAME_INVALID', 'invalid repository name', { name: excerpt(String(name)) });
  }
  return name;
}

export function isValidTag(tag: string): boolean {
  return typeof tag === 'string' && TAG_PATTERN.test(tag);
}

export function assertTag(tag: string): string {
  if (!isValidTag(tag)) {
    throw new RegistryError('TAG_INVALID', 'invalid tag', { tag: excerpt(String(tag)) });
  }
  return tag;
}

/**
 * A reference containing ':' is a digest (tags cannot contain ':'); anything else must be a tag.
 * Throws TAG_INVALID for a bad tag and DIGEST_INVALID for a malformed digest; a well-formed
 * digest of an algorithm Berth does not store is DIGEST_INVALID too, or `unknownAlgorithm` where
 * the caller only looks something up (MANIFEST_UNKNOWN for a pull or delete).
 */
export function parseReference(ref: string, unknownAlgorithm: ErrorCode = 'DIGEST_INVALID'): Reference {
  if (typeof ref === 'string' && ref.includes(':')) {
    return { kind: 'digest', digest: parseDigestToRead(ref, unknownAlgorithm).digest };
  }
  return { kind: 'tag', tag: assertTag(ref) };
}
