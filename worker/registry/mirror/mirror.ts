/**
 * The pull-through mirror (README "Mirroring other registries"): repositories under a prefix of
 * BERTH_MIRRORS are copies of an upstream registry's, filled on demand as they are pulled and
 * kept in the bucket like any other repository (so retention, GC and access rules apply).
 *
 * This is what the routes call; `mirror-manifests.ts` and `mirror-blobs.ts` hold the caching
 * rules, `upstream.ts` and `upstream-auth.ts` speak to the upstream.
 */
import type { MirrorConfig, RegistryConfig } from '../../config.ts';
import type { ParsedDigest } from '../../oci/digest.ts';
import { RegistryError } from '../../oci/errors.ts';
import { defaultMirrorName, splitMirrored, upstreamName } from '../../oci/mirror-names.ts';
import type { Reference } from '../../oci/reference.ts';
import type { ObjectStore } from '../../storage/types.ts';
import type { Blobs } from '../blobs.ts';
import type { ManifestRecord, Manifests, StoredManifest } from '../manifests.ts';
import { MirrorBlobs, type MirroredBlob, type PullContext } from './mirror-blobs.ts';
import { MirrorManifests } from './mirror-manifests.ts';
import type { MirrorLog, MirrorTarget } from './target.ts';
import { createLogger, type Logger } from '../../observe/logger.ts';
import type { Fetch } from './upstream-auth.ts';
import { UpstreamError, upstreamFailure } from './upstream-error.ts';
import { UpstreamTokens } from './upstream-tokens.ts';
import { Upstream } from './upstream.ts';

export type { MirroredBlob, PullContext } from './mirror-blobs.ts';

export interface MirrorOptions {
  /** The clock for tag lifetimes and token expiry (tests move it instead of sleeping). */
  now?: () => number;
  fetch?: Fetch;
  logger?: Logger;
}

interface Configured {
  url: string;
  dockerHub: boolean;
  upstream: Upstream;
}

export class Mirror {
  private readonly upstreams = new Map<string, Configured>();
  private readonly settings: MirrorConfig;
  private readonly manifestCache: MirrorManifests;
  private readonly blobCache: MirrorBlobs;

  constructor(
    store: ObjectStore,
    config: RegistryConfig,
    blobs: Blobs,
    private readonly manifests: Manifests,
    options: MirrorOptions = {},
  ) {
    this.settings = config.mirrors;
    const now = options.now ?? Date.now;
    for (const mirror of config.mirrors.upstreams) {
      // Tokens per mirror: two prefixes may name one upstream with different credentials.
      const upstream = new Upstream(mirror, new UpstreamTokens(now), options.fetch);
      this.upstreams.set(mirror.prefix, { url: mirror.url, dockerHub: mirror.dockerHub, upstream });
    }
    const logger = options.logger ?? createLogger({ level: 'info' });
    const log: MirrorLog = (event, fields) => logger.warn(`mirror: ${event}`, { event, ...fields });
    this.manifestCache = new MirrorManifests(manifests, {
      maxManifestBytes: config.maxManifestBytes,
      tagTtlSeconds: config.mirrors.tagTtlSeconds,
      now,
      log,
    });
    this.blobCache = new MirrorBlobs(store, blobs, {
      partSize: Math.max(config.partSize, store.capabilities.minPartSize),
      concurrency: config.partConcurrency,
      log,
    });
  }

  /** The mirror a name is under, with what the upstream calls it; null for Berth's own names. */
  target(name: string): MirrorTarget | null {
    const split = splitMirrored(name, [...this.upstreams.keys()]);
    const mirror = split ? this.upstreams.get(split.prefix) : undefined;
    if (!split || !mirror) return null;
    return { repo: name, remote: upstreamName(split.rest, mirror.dockerHub), upstream: mirror.upstream };
  }

  /**
   * With BERTH_MIRROR_DEFAULT, the mirror repository an unprefixed name stands for (dockerd's
   * `registry-mirrors` asks for `library/alpine`). Only for a name Berth holds no repository
   * of: Berth's own repositories always win. Null when the name is Berth's.
   */
  async defaultAlias(name: string): Promise<string | null> {
    const prefix = this.settings.defaultPrefix;
    if (!prefix || this.target(name)) return null;
    const alias = defaultMirrorName(name, prefix);
    if (!alias || (await this.manifests.holds(name))) return null;
    return alias;
  }

  /**
   * The scopes a token asked for `scope`'s unprefixed names also stand for under the default
   * mirror: pull on `library/alpine` is asked as such by dockerd, and answered from
   * `hub/library/alpine`, so the token carries both and the access rules of `hub/**` decide.
   */
  defaultAliasName(name: string): string | null {
    const prefix = this.settings.defaultPrefix;
    return prefix && !this.target(name) ? defaultMirrorName(name, prefix) : null;
  }

  /** Pushes under a mirror prefix are refused: the upstream owns those names. */
  refusePush(name: string): void {
    const split = splitMirrored(name, [...this.upstreams.keys()]);
    if (!split) return;
    const url = this.upstreams.get(split.prefix)?.url;
    throw new RegistryError('DENIED', `${split.prefix}/ is a read-only mirror of ${url}: pushes there are refused`, {
      name,
      mirror: split.prefix,
      upstream: url,
    });
  }

  /** GET/HEAD of a manifest under a mirror prefix; null for names that are not mirrored. */
  async manifest(name: string, reference: Reference, withBody: boolean): Promise<StoredManifest | ManifestRecord | null> {
    const target = this.target(name);
    if (!target) return null;
    try {
      return await this.manifestCache.get(target, reference, withBody);
    } catch (error) {
      if (error instanceof UpstreamError) throw upstreamFailure(error, 'MANIFEST_UNKNOWN');
      throw error;
    }
  }

  /** GET/HEAD of a blob under a mirror prefix; null for names that are not mirrored. */
  async blob(name: string, digest: ParsedDigest, method: 'GET' | 'HEAD', context: PullContext): Promise<MirroredBlob | null> {
    const target = this.target(name);
    if (!target) return null;
    try {
      return await this.blobCache.get(target, digest, method, context);
    } catch (error) {
      if (error instanceof UpstreamError) throw upstreamFailure(error, 'BLOB_UNKNOWN');
      throw error;
    }
  }
}
