/**
 * Media types from the OCI image-spec (media-types.md) and Docker's image manifest v2 schema 2.
 * Only the four manifest types below are accepted on PUT; schema 1 is named so it can be refused
 * with a helpful message.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';

// Layers whose bytes may live outside the registry (fetched from the descriptor's `urls`).
export const DOCKER_FOREIGN_LAYER = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
export const OCI_NONDISTRIBUTABLE_LAYER = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
export const OCI_NONDISTRIBUTABLE_LAYER_GZIP =
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
export const OCI_NONDISTRIBUTABLE_LAYER_ZSTD =
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd';

export const FOREIGN_LAYER_MEDIA_TYPES: readonly string[] = [
  DOCKER_FOREIGN_LAYER,
  OCI_NONDISTRIBUTABLE_LAYER,
  OCI_NONDISTRIBUTABLE_LAYER_GZIP,
  OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
];

export const MANIFEST_MEDIA_TYPES: readonly string[] = [
  OCI_MANIFEST,
  OCI_INDEX,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
];

export const SCHEMA1_MEDIA_TYPES: readonly string[] = [DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED];

/** Content types that say nothing about which manifest kind a body is. */
export const GENERIC_CONTENT_TYPES: readonly string[] = ['application/json', 'application/octet-stream'];

export function isIndexMediaType(type: string | undefined): boolean {
  return type === OCI_INDEX || type === DOCKER_MANIFEST_LIST;
}

export function isManifestMediaType(type: string | undefined): boolean {
  return type === OCI_MANIFEST || type === DOCKER_MANIFEST;
}

export function isForeignLayerMediaType(type: string | undefined): boolean {
  return type !== undefined && FOREIGN_LAYER_MEDIA_TYPES.includes(type);
}

/**
 * The bare media type of a Content-Type header: lowercased, parameters (`; charset=utf-8`)
 * dropped, whitespace trimmed (RFC 9110 §8.3.1: type and subtype are case-insensitive).
 * Answers undefined for an absent or empty header.
 */
export function normalizeContentType(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const semicolon = header.indexOf(';');
  const bare = (semicolon === -1 ? header : header.slice(0, semicolon)).trim().toLowerCase();
  return bare === '' ? undefined : bare;
}
