/**
 * What a source turns into before anything is sent: manifests in push order (an index's children
 * before the index, so every manifest a registry receives only names what it already holds),
 * each with the blobs it needs, every blob a local file with its digest and size.
 */
export interface LocalBlob {
  digest: string;
  size: number;
  /** File holding exactly the blob's bytes, from `offset` (a `docker save` archive member). */
  file: string;
  offset: number;
  mediaType?: string;
}

export interface LocalManifest {
  digest: string;
  mediaType: string;
  bytes: Uint8Array;
  /** Config and layers (none for an index). */
  blobs: LocalBlob[];
}

export interface LocalImage {
  /** Children first; the last one is what the tag points at. */
  manifests: LocalManifest[];
  /** Removes temporary files the source made (a docker-daemon export). */
  cleanup(): Promise<void>;
}

/** Every distinct blob of the image, in first-needed order. */
export function distinctBlobs(image: LocalImage): LocalBlob[] {
  const seen = new Map<string, LocalBlob>();
  for (const manifest of image.manifests) for (const blob of manifest.blobs) if (!seen.has(blob.digest)) seen.set(blob.digest, blob);
  return [...seen.values()];
}
