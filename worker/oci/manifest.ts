/**
 * Manifest validation for PUT (distribution-spec "Pushing manifests"; image-spec manifest.md,
 * image-index.md, descriptor.md; Docker image manifest v2 schema 2 and manifest list).
 * Parses only what the registry needs: the descriptors it must check or index. The stored bytes
 * are always the client's own; this never re-serialises a manifest.
 */
import { tryParseDigest, type Digest } from './digest.ts';
import { RegistryError } from './errors.ts';
import {
  GENERIC_CONTENT_TYPES,
  MANIFEST_MEDIA_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
  SCHEMA1_MEDIA_TYPES,
  isForeignLayerMediaType,
  isIndexMediaType,
  normalizeContentType,
} from './media-types.ts';

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  urls?: string[];
  platform?: Record<string, unknown>;
}

export interface ParsedManifest {
  mediaType: string;
  kind: 'image' | 'index';
  config?: Descriptor;
  layers: Descriptor[];
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

type JsonObject = Record<string, unknown>;

// RFC 6838 §4.2 restricted names: `type/subtype`, each 1-127 characters.
const MEDIA_TYPE_PATTERN =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

const SCHEMA1_MESSAGE = 'Docker schema 1 manifests are not supported; push with a current client';

function invalid(reason: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', reason, { reason });
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function decodeJson(body: Uint8Array): unknown {
  let text: string;
  try {
    // fatal: reject invalid UTF-8; ignoreBOM: keep a BOM so JSON.parse refuses it, as Go clients do.
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw invalid('manifest is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw invalid('manifest is not valid JSON');
  }
}

function parseStringMap(value: unknown, where: string): Record<string, string> {
  if (!isObject(value)) throw invalid(`${where} must be an object of strings`);
  const entries = Object.entries(value);
  for (const [, entry] of entries) {
    if (typeof entry !== 'string') throw invalid(`${where} must be an object of strings`);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data, never a prototype.
  return Object.fromEntries(entries) as Record<string, string>;
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, artifactType, annotations, urls, platform } = value;
  if (typeof mediaType !== 'string' || !MEDIA_TYPE_PATTERN.test(mediaType)) {
    throw invalid(`${where}.mediaType must be a media type string`);
  }
  const parsed = typeof digest === 'string' ? tryParseDigest(digest) : null;
  if (parsed === null) throw invalid(`${where}.digest is not a valid sha256 or sha512 digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  const descriptor: Descriptor = { mediaType, digest: parsed.digest, size };
  if (artifactType !== undefined) {
    if (typeof artifactType !== 'string' || !MEDIA_TYPE_PATTERN.test(artifactType)) {
      throw invalid(`${where}.artifactType must be a media type string`);
    }
    descriptor.artifactType = artifactType;
  }
  if (annotations !== undefined) descriptor.annotations = parseStringMap(annotations, `${where}.annotations`);
  if (urls !== undefined) {
    if (!Array.isArray(urls) || !urls.every((url) => typeof url === 'string')) {
      throw invalid(`${where}.urls must be an array of strings`);
    }
    descriptor.urls = [...urls];
  }
  if (platform !== undefined) {
    if (!isObject(platform)) throw invalid(`${where}.platform must be an object`);
    descriptor.platform = platform;
  }
  return descriptor;
}

function parseDescriptorList(value: unknown, where: string): Descriptor[] {
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`);
  return value.map((entry, index) => parseDescriptor(entry, `${where}[${index}]`));
}

/**
 * Which manifest type the body is. The body's `mediaType` and the request's Content-Type must
 * agree when both are specific (image-spec: mediaType "MUST" match the Content-Type used);
 * a generic or absent Content-Type defers to the body, and a body without `mediaType` is
 * inferred from its shape, as other registries do for old OCI clients.
 */
function resolveMediaType(manifest: JsonObject, contentType: string | undefined): string {
  const header = normalizeContentType(contentType);
  const specificHeader = header !== undefined && !GENERIC_CONTENT_TYPES.includes(header) ? header : undefined;
  const declared = manifest.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw invalid('mediaType must be a string');

  if (
    (declared !== undefined && SCHEMA1_MEDIA_TYPES.includes(declared)) ||
    (specificHeader !== undefined && SCHEMA1_MEDIA_TYPES.includes(specificHeader)) ||
    manifest.schemaVersion === 1
  ) {
    throw invalid(SCHEMA1_MESSAGE);
  }

  let mediaType: string;
  if (declared !== undefined) {
    if (specificHeader !== undefined && specificHeader !== declared) {
      throw invalid(`manifest mediaType ${declared} does not match Content-Type ${specificHeader}`);
    }
    mediaType = declared;
  } else if (specificHeader !== undefined) {
    mediaType = specificHeader;
  } else if (manifest.manifests !== undefined) {
    mediaType = OCI_INDEX;
  } else if (manifest.config !== undefined) {
    mediaType = OCI_MANIFEST;
  } else {
    throw invalid('manifest has no mediaType and no specific Content-Type');
  }
  if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
    throw invalid(`unsupported manifest media type ${mediaType.slice(0, 150)}`);
  }
  return mediaType;
}

/** Validates a manifest body; throws MANIFEST_INVALID with the reason. */
export function parseManifest(body: Uint8Array, contentType: string | undefined): ParsedManifest {
  const json = decodeJson(body);
  if (!isObject(json)) throw invalid('manifest must be a JSON object');

  const mediaType = resolveMediaType(json, contentType);
  if (json.schemaVersion !== 2) throw invalid('schemaVersion must be 2');

  const kind = isIndexMediaType(mediaType) ? 'index' : 'image';
  const manifest: ParsedManifest = { mediaType, kind, layers: [], manifests: [] };

  if (kind === 'image') {
    if (json.config === undefined) throw invalid('image manifest has no config');
    manifest.config = parseDescriptor(json.config, 'config');
    // An artifact may have no layers (image-spec 1.1), but the array must be there.
    if (json.layers === undefined) throw invalid('image manifest has no layers array');
    manifest.layers = parseDescriptorList(json.layers, 'layers');
  } else {
    if (json.manifests === undefined) throw invalid('index has no manifests array');
    manifest.manifests = parseDescriptorList(json.manifests, 'manifests');
  }

  if (json.subject !== undefined) manifest.subject = parseDescriptor(json.subject, 'subject');
  if (json.artifactType !== undefined) {
    if (typeof json.artifactType !== 'string' || !MEDIA_TYPE_PATTERN.test(json.artifactType)) {
      throw invalid('artifactType must be a media type string');
    }
    manifest.artifactType = json.artifactType;
  }
  if (json.annotations !== undefined) manifest.annotations = parseStringMap(json.annotations, 'annotations');
  return manifest;
}

/**
 * Blobs that must already be in the repository before the manifest is accepted: the config and
 * every layer, except foreign / non-distributable layers that name `urls` to fetch them from
 * (image-spec layer.md "Non-distributable layers"; Docker "foreign layers").
 * A foreign layer without urls has no other source, so it is checked like any layer.
 */
export function blobsToCheck(m: ParsedManifest): Descriptor[] {
  const blobs: Descriptor[] = m.config ? [m.config] : [];
  for (const layer of m.layers) {
    const external = isForeignLayerMediaType(layer.mediaType) && (layer.urls?.length ?? 0) > 0;
    if (!external) blobs.push(layer);
  }
  return blobs;
}

/**
 * The descriptor listed for this manifest by the referrers API (distribution-spec "Listing
 * Referrers"): artifactType is the manifest's own, else the config's mediaType for images.
 */
export function referrerDescriptor(m: ParsedManifest, digest: Digest, size: number): Descriptor {
  const descriptor: Descriptor = { mediaType: m.mediaType, digest, size };
  const artifactType = m.artifactType ?? (m.kind === 'image' ? m.config?.mediaType : undefined);
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  if (m.annotations !== undefined) descriptor.annotations = m.annotations;
  return descriptor;
}
