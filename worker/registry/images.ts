/**
 * Images as people browse them (the web UI and `berth show` read the same facts): a tag's digest
 * and push time, an image's size (its config plus its layers, as the manifest declares them), its
 * creation time and platform from the image config, the platforms of an index, referrers.
 *
 * Only small objects are read: tag records, manifests and image configs. Layers never are (their
 * sizes come from the manifest). Manifests and configs are content-addressed, so what is learnt
 * from them never changes and is kept in bounded caches for the life of the instance; a tag is
 * read afresh each time, since it moves.
 */
import type { ObjectStore } from '../storage/types.ts';
import { RegistryError } from '../oci/errors.ts';
import { tryParseDigest, type Digest } from '../oci/digest.ts';
import { parseManifest, type Descriptor, type ParsedManifest } from '../oci/manifest.ts';
import { DOCKER_CONFIG, OCI_CONFIG } from '../oci/media-types.ts';
import { formatPlatform, summarizeConfig, type ConfigSummary } from '../oci/image-config.ts';
import type { Page } from '../oci/pagination.ts';
import type { Reference } from '../oci/reference.ts';
import type { Blobs } from './blobs.ts';
import type { Listings } from './listings.ts';
import type { Manifests, StoredManifest } from './manifests.ts';
import { keyOf } from './keys.ts';
import type { TagRecord } from './tag-writes.ts';
import { mapLimit } from './concurrency.ts';
import { Lru } from './lru.ts';

/** Image configs are a few KiB; anything this large is not one worth summarising. */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/** Pretty-printed manifests are shown up to this many characters. */
const MAX_MANIFEST_TEXT = 256 * 1024;
/** An index's size and platforms are computed from at most this many children. */
const MAX_CHILDREN = 64;
const CONCURRENCY = 8;

export interface TagEntry {
  tag: string;
  /** null when the tag record is unreadable. */
  digest: Digest | null;
  /** When the tag was last pushed (the tag record's `pushedAt`, else its write time). */
  pushedAt?: string;
}

export interface PlatformEntry {
  descriptor: Descriptor;
  platform: string;
  /** Build attestations (provenance, SBOM) that docker buildx stores as index children. */
  attestation: boolean;
  summary?: ImageSummary;
}

export interface ImageSummary {
  digest: Digest;
  mediaType: string;
  kind: 'image' | 'index';
  manifestSize: number;
  /** Image: config + layers. Index: the sum over its children's images. */
  size: number;
  created?: string;
  platform?: string;
  artifactType?: string;
  /** Index children (empty for an image). */
  platforms: PlatformEntry[];
}

export interface ImageDetails {
  summary: ImageSummary;
  /** The manifest, pretty-printed (cut at MAX_MANIFEST_TEXT characters). */
  manifestText: string;
  manifestTruncated: boolean;
  config?: Descriptor;
  configSummary: ConfigSummary | null;
  /** Why there is no config summary, when there is none. */
  configNote?: string;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations: Record<string, string>;
  referrers: Descriptor[];
}

/** A tag as the repository page lists it. */
export interface TagView {
  entry: TagEntry;
  /** null when the tag's manifest cannot be read (deleted underneath, unreadable record). */
  summary: ImageSummary | null;
  referrers: Descriptor[];
}

interface ConfigFacts {
  summary: ConfigSummary | null;
  note?: string;
}

export class Images {
  private readonly summaries = new Lru<string, ImageSummary>(1000);
  private readonly configs = new Lru<string, ConfigFacts>(1000);

  constructor(
    private readonly store: ObjectStore,
    private readonly manifests: Manifests,
    private readonly blobs: Blobs,
    private readonly listings: Listings,
  ) {}

  /** One page of tags with the digest each points at and when it was pushed. */
  async tags(repo: string, page: Page): Promise<{ entries: TagEntry[]; more: boolean }> {
    if (!(await this.listings.repositoryExists(repo))) throw new RegistryError('NAME_UNKNOWN', undefined, { name: repo });
    const { names, more } = await this.listings.tags(repo, page);
    const entries = await mapLimit(names, CONCURRENCY, (tag) => this.tagEntry(repo, tag));
    return { entries, more };
  }

  /** One page of tags with what each points at: size, created, platforms, referrers. */
  async tagViews(repo: string, page: Page): Promise<{ rows: TagView[]; more: boolean }> {
    const { entries, more } = await this.tags(repo, page);
    const rows = await mapLimit(entries, CONCURRENCY, async (entry): Promise<TagView> => {
      const digest = entry.digest ? tryParseDigest(entry.digest) : null;
      if (!digest) return { entry, summary: null, referrers: [] };
      const [summary, referrers] = await Promise.all([
        this.summary(repo, digest.digest).catch(nullWhenUnknown),
        this.listings.referrers(repo, digest),
      ]);
      return { entry, summary, referrers };
    });
    return { rows, more };
  }

  private async tagEntry(repo: string, tag: string): Promise<TagEntry> {
    const object = await this.store.get(keyOf({ kind: 'tag', repo, tag }));
    if (!object) return { tag, digest: null };
    let digest: Digest | null = null;
    let pushedAt: string | undefined;
    try {
      const record = JSON.parse(await new Response(object.body).text()) as Partial<Record<keyof TagRecord, unknown>>;
      digest = typeof record.digest === 'string' ? (tryParseDigest(record.digest)?.digest ?? null) : null;
      if (typeof record.pushedAt === 'string') pushedAt = record.pushedAt;
    } catch {
      // an unreadable record is shown as such
    }
    const entry: TagEntry = { tag, digest };
    // Tags written before records carried their push time: the record's write time is the same moment.
    pushedAt ??= object.info.lastModified?.toISOString();
    if (pushedAt) entry.pushedAt = pushedAt;
    return entry;
  }

  /** Size, creation time and platforms of a manifest this repository holds. */
  async summary(repo: string, digest: Digest): Promise<ImageSummary> {
    const key = `${repo}@${digest}`;
    const cached = this.summaries.get(key);
    if (cached) return cached;
    const stored = await this.manifests.get(repo, { kind: 'digest', digest });
    const summary = await this.summarize(repo, stored, parseStored(stored));
    this.summaries.set(key, summary);
    return summary;
  }

  /** Everything the image page shows about `reference` in `repo`. */
  async details(repo: string, reference: Reference): Promise<ImageDetails> {
    const stored = await this.manifests.get(repo, reference);
    const manifest = parseStored(stored);
    const digest = stored.digest.digest;
    const summary = this.summaries.get(`${repo}@${digest}`) ?? (await this.summarize(repo, stored, manifest));
    this.summaries.set(`${repo}@${digest}`, summary);
    const config = manifest.config ? await this.configFacts(repo, manifest.config) : { summary: null };
    const { text, truncated } = prettyJson(stored.body);
    const details: ImageDetails = {
      summary,
      manifestText: text,
      manifestTruncated: truncated,
      configSummary: config.summary,
      layers: manifest.layers,
      annotations: manifest.annotations ?? {},
      referrers: await this.listings.referrers(repo, stored.digest),
    };
    if (manifest.config) details.config = manifest.config;
    if (config.note) details.configNote = config.note;
    if (manifest.subject) details.subject = manifest.subject;
    return details;
  }

  private async summarize(repo: string, stored: StoredManifest, manifest: ParsedManifest): Promise<ImageSummary> {
    const base = { digest: stored.digest.digest, mediaType: stored.mediaType, manifestSize: stored.size };
    const artifactType = manifest.artifactType === undefined ? {} : { artifactType: manifest.artifactType };
    if (manifest.kind === 'image') {
      const config = manifest.config ? await this.configFacts(repo, manifest.config) : { summary: null };
      const size = (manifest.config?.size ?? 0) + manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
      const summary: ImageSummary = { ...base, ...artifactType, kind: 'image', size, platforms: [] };
      if (config.summary?.created) summary.created = config.summary.created;
      if (config.summary?.platform) summary.platform = config.summary.platform;
      return summary;
    }
    const platforms = await mapLimit(manifest.manifests.slice(0, MAX_CHILDREN), CONCURRENCY, (child) => this.platformEntry(repo, child));
    const images = platforms.filter((p) => p.summary);
    const created = images.map((p) => p.summary?.created ?? '').sort().at(-1);
    const summary: ImageSummary = {
      ...base,
      ...artifactType,
      kind: 'index',
      size: images.reduce((sum, p) => sum + (p.summary?.size ?? 0), 0),
      platforms,
    };
    if (created) summary.created = created;
    return summary;
  }

  private async platformEntry(repo: string, child: Descriptor): Promise<PlatformEntry> {
    const attestation = child.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';
    const entry: PlatformEntry = { descriptor: child, platform: formatPlatform(child.platform), attestation };
    try {
      const stored = await this.manifests.get(repo, { kind: 'digest', digest: child.digest });
      const manifest = parseStored(stored);
      // One level only: an index inside an index is listed, not descended into.
      if (manifest.kind === 'image') entry.summary = await this.summarize(repo, stored, manifest);
    } catch (error) {
      nullWhenUnknown(error);
    }
    return entry;
  }

  /** The config's summary, read once per digest; never for blobs that are not image configs. */
  private async configFacts(repo: string, descriptor: Descriptor): Promise<ConfigFacts> {
    const cached = this.configs.get(descriptor.digest);
    if (cached) return cached;
    const facts = await this.readConfig(repo, descriptor);
    this.configs.set(descriptor.digest, facts);
    return facts;
  }

  private async readConfig(repo: string, descriptor: Descriptor): Promise<ConfigFacts> {
    if (descriptor.mediaType !== OCI_CONFIG && descriptor.mediaType !== DOCKER_CONFIG) {
      return { summary: null, note: `the config is ${descriptor.mediaType}, not an image config` };
    }
    if (descriptor.size > MAX_CONFIG_BYTES) return { summary: null, note: `the config is larger than ${MAX_CONFIG_BYTES} bytes` };
    const digest = tryParseDigest(descriptor.digest);
    const location = digest ? await this.blobs.stat(repo, digest) : null;
    const object = location && location.size <= MAX_CONFIG_BYTES ? await this.blobs.open(location) : null;
    if (!object) return { summary: null, note: 'the config blob is not stored in this repository' };
    try {
      const summary = summarizeConfig(JSON.parse(await new Response(object.body).text()));
      return summary ? { summary } : { summary: null, note: 'the config is not a JSON object' };
    } catch {
      return { summary: null, note: 'the config is not valid JSON' };
    }
  }
}

function nullWhenUnknown(error: unknown): null {
  if (error instanceof RegistryError) return null;
  throw error;
}

/** Stored manifests passed validation when pushed; parse again for their descriptors. */
function parseStored(stored: StoredManifest): ParsedManifest {
  return parseManifest(stored.body, stored.mediaType);
}

function prettyJson(body: Uint8Array): { text: string; truncated: boolean } {
  const raw = new TextDecoder().decode(body);
  let text = raw;
  try {
    text = JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    // shown as stored
  }
  return text.length > MAX_MANIFEST_TEXT ? { text: text.slice(0, MAX_MANIFEST_TEXT), truncated: true } : { text, truncated: false };
}
