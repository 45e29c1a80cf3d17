/**
 * What `berth tags` and `berth show` tell about an image, read over /v2 as any client would:
 * the manifest (digest, media type, layers), the image config (created, platform, entrypoint,
 * env NAMES, labels: oci/image-config.ts, the same summary the web UI shows), an index's
 * platforms, referrers. Sizes come from the manifest (config + layers); layers are never fetched.
 */
import { CliError } from './args.ts';
import { boundedText, MANIFEST_ACCEPT, type RegistryApiClient } from './registry-client.ts';
import { RegistryError } from '../oci/errors.ts';
import { formatPlatform, summarizeConfig, type ConfigSummary } from '../oci/image-config.ts';
import { formatImageRef, referenceText } from '../oci/image-ref.ts';
import { parseManifest, type Descriptor } from '../oci/manifest.ts';
import { DOCKER_CONFIG, OCI_CONFIG } from '../oci/media-types.ts';
import type { Reference } from '../oci/reference.ts';
import { mapLimit } from '../registry/concurrency.ts';

const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_CHILDREN = 64;
const CONCURRENCY = 4;

export interface PlatformFacts {
  platform: string;
  attestation: boolean;
  digest: string;
  image?: ImageFacts;
}

export interface ImageFacts {
  reference: string;
  digest: string;
  mediaType: string;
  kind: 'image' | 'index';
  /** Image: config + layers. Index: the sum over its platforms' images. */
  size: number;
  created?: string;
  platform?: string;
  artifactType?: string;
  config?: ConfigSummary;
  layers: Descriptor[];
  platforms: PlatformFacts[];
  referrers?: Descriptor[];
}

const enc = (name: string): string => name.split('/').map(encodeURIComponent).join('/');

export async function readImage(client: RegistryApiClient, name: string, reference: Reference, withReferrers = false): Promise<ImageFacts> {
  const what = `show ${formatImageRef(name, reference)}`;
  const res = await client.request('GET', `/v2/${enc(name)}/manifests/${encodeURIComponent(referenceText(reference))}`, what, { Accept: MANIFEST_ACCEPT });
  const body = await boundedText(res, what);
  let manifest;
  try {
    manifest = parseManifest(new TextEncoder().encode(body), res.headers.get('content-type') ?? undefined);
  } catch (error) {
    if (error instanceof RegistryError) throw new CliError(`${what}: the registry sent a manifest that does not parse (${error.message})`, 1);
    throw error;
  }
  const digest = res.headers.get('docker-content-digest') ?? (reference.kind === 'digest' ? reference.digest : '');
  const facts: ImageFacts = {
    reference: formatImageRef(name, reference),
    digest,
    mediaType: manifest.mediaType,
    kind: manifest.kind,
    size: 0,
    layers: manifest.layers,
    platforms: [],
  };
  if (manifest.artifactType) facts.artifactType = manifest.artifactType;
  if (manifest.kind === 'image') {
    facts.size = (manifest.config?.size ?? 0) + manifest.layers.reduce((sum, l) => sum + l.size, 0);
    const config = manifest.config ? await readConfig(client, name, manifest.config, what) : undefined;
    if (config) {
      facts.config = config;
      if (config.created) facts.created = config.created;
      if (config.platform) facts.platform = config.platform;
    }
  } else {
    facts.platforms = await mapLimit(manifest.manifests.slice(0, MAX_CHILDREN), CONCURRENCY, async (child): Promise<PlatformFacts> => {
      const entry: PlatformFacts = {
        platform: formatPlatform(child.platform),
        attestation: child.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest',
        digest: child.digest,
      };
      if (child.mediaType.includes('index')) return entry; // one level only
      entry.image = await readImage(client, name, { kind: 'digest', digest: child.digest }, withReferrers);
      return entry;
    });
    facts.size = facts.platforms.reduce((sum, p) => sum + (p.image?.size ?? 0), 0);
    const created = facts.platforms.map((p) => p.image?.created ?? '').sort().at(-1);
    if (created) facts.created = created;
  }
  if (withReferrers && digest) {
    const { value } = await client.json<{ manifests?: Descriptor[] }>(`/v2/${enc(name)}/referrers/${digest}`, `referrers of ${name}@${digest}`);
    facts.referrers = value.manifests ?? [];
  }
  return facts;
}

async function readConfig(client: RegistryApiClient, name: string, descriptor: Descriptor, what: string): Promise<ConfigSummary | undefined> {
  if ((descriptor.mediaType !== OCI_CONFIG && descriptor.mediaType !== DOCKER_CONFIG) || descriptor.size > MAX_CONFIG_BYTES) return undefined;
  const res = await client.request('GET', `/v2/${enc(name)}/blobs/${descriptor.digest}`, `${what} (config)`);
  try {
    return summarizeConfig(JSON.parse(await boundedText(res, what))) ?? undefined;
  } catch (error) {
    if (error instanceof CliError) throw error;
    return undefined; // not JSON: nothing to summarise
  }
}
