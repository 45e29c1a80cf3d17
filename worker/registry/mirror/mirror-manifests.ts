/**
 * Manifests of mirrored repositories.
 *
 * - By digest: content-addressed, so never stale. Fetched once, verified against the digest,
 *   stored, then always served from the bucket.
 * - By tag: served from the bucket for BERTH_MIRROR_TTL_SECONDS after the upstream last
 *   confirmed it; after that a HEAD asks the upstream for the tag's digest (Docker Hub does not
 *   count HEAD requests against its pull limit): the same digest renews the tag, another one is
 *   fetched and stored. When the upstream cannot answer (unreachable, 429, 5xx), the cached tag
 *   is served anyway and a log line says so; an uncached tag then gets the upstream's error.
 * Concurrent fetches of one manifest share a single upstream request.
 */
import type { ParsedDigest } from '../../oci/digest.ts';
import { parseDigest, tryParseDigest } from '../../oci/digest.ts';
import { RegistryError } from '../../oci/errors.ts';
import { parseManifest, type ParsedManifest } from '../../oci/manifest.ts';
import { normalizeContentType } from '../../oci/media-types.ts';
import type { Reference } from '../../oci/reference.ts';
import { digestBytes } from '../content-digest.ts';
import type { ManifestRecord, Manifests, StoredManifest, TagRecord } from '../manifests.ts';
import { readCappedBytes } from '../../http/capped-body.ts';
import { SingleFlight } from './single-flight.ts';
import type { MirrorLog, MirrorTarget } from './target.ts';
import { UpstreamError } from './upstream-error.ts';
import type { UpstreamAnswer } from './upstream.ts';

/** Longest wait for a manifest's body once its headers came (they have their own limit, upstream.ts). */
const MANIFEST_BODY_TIMEOUT_MS = 30_000;

export interface MirrorManifestOptions {
  maxManifestBytes: number;
  tagTtlSeconds: number;
  now: () => number;
  log: MirrorLog;
}

export class MirrorManifests {
  private readonly flights = new SingleFlight<StoredManifest>();

  constructor(
    private readonly manifests: Manifests,
    private readonly options: MirrorManifestOptions,
  ) {}

  /** The manifest for a pull (GET when `withBody`, else HEAD's record). Throws UpstreamError when the upstream fails. */
  async get(target: MirrorTarget, reference: Reference, withBody: boolean): Promise<StoredManifest | ManifestRecord> {
    if (reference.kind === 'digest') {
      const digest = parseDigest(reference.digest);
      return (await this.cached(target.repo, digest, withBody)) ?? this.fetchDigest(target, digest);
    }
    const record = await this.manifests.tagRecord(target.repo, reference.tag);
    const digest = record ? tryParseDigest(record.digest) : null;
    const cached = record && digest ? await this.cached(target.repo, digest, withBody) : null;
    if (!record || !digest || !cached) return this.fetchTag(target, reference.tag);
    if (this.fresh(record)) return cached;
    return this.revalidate(target, reference.tag, record, digest, cached);
  }

  private fresh(record: TagRecord): boolean {
    const checked = record.checkedAt ? Date.parse(record.checkedAt) : NaN;
    return this.options.now() - checked < this.options.tagTtlSeconds * 1000;
  }

  private async cached(repo: string, digest: ParsedDigest, withBody: boolean): Promise<StoredManifest | ManifestRecord | null> {
    const reference: Reference = { kind: 'digest', digest: digest.digest };
    try {
      return withBody ? await this.manifests.get(repo, reference) : await this.manifests.stat(repo, reference);
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'MANIFEST_UNKNOWN') return null;
      throw error;
    }
  }

  /** A cached tag past its TTL: a HEAD tells whether it still names the same manifest. */
  private async revalidate(
    target: MirrorTarget,
    tag: string,
    record: TagRecord,
    digest: ParsedDigest,
    cached: StoredManifest | ManifestRecord,
  ): Promise<StoredManifest | ManifestRecord> {
    try {
      const answer = await target.upstream.manifest(target.remote, tag, 'HEAD');
      await answer.response.body?.cancel().catch(() => undefined);
      if (answer.response.headers.get('docker-content-digest') === digest.digest) {
        await this.manifests.writeMirroredTag(target.repo, tag, { ...record, checkedAt: this.checkedAt() });
        return cached;
      }
      // Moved upstream (or the answer named no digest): fetch what the tag names now.
      return await this.fetchTag(target, tag);
    } catch (error) {
      if (!(error instanceof UpstreamError && error.unavailable)) throw error;
      this.options.log('stale-tag', { repository: target.repo, tag, digest: digest.digest, upstream: error.upstream, reason: error.message });
      return cached;
    }
  }

  private fetchTag(target: MirrorTarget, tag: string): Promise<StoredManifest> {
    return this.flights.join(`${target.repo}:${tag}`, async () => {
      const answer = await target.upstream.manifest(target.remote, tag, 'GET');
      const what = `manifest ${target.remote}:${tag}`;
      const { body, manifest } = await this.read(answer, target, what);
      const digest = await digestBytes(body);
      // The upstream's own digest of the bytes must agree with ours (distribution-spec
      // "Pulling manifests": clients verify it, so a disagreement is the upstream's fault).
      const claimed = tryParseDigest(answer.response.headers.get('docker-content-digest') ?? '');
      if (claimed && (await digestBytes(body, claimed.algorithm)).hex !== claimed.hex) {
        throw new UpstreamError(target.upstream.url, null, what, { problem: `sent a manifest that does not match its Docker-Content-Digest ${claimed.digest}` });
      }
      const stored = await this.manifests.putFetched(target.repo, digest, body, manifest);
      // pushedAt: when this digest came in under the tag (retention orders tags by it).
      const now = this.checkedAt();
      await this.manifests.writeMirroredTag(target.repo, tag, {
        digest: digest.digest,
        mediaType: stored.mediaType,
        size: stored.size,
        pushedAt: now,
        checkedAt: now,
      });
      return stored;
    }).result;
  }

  private fetchDigest(target: MirrorTarget, digest: ParsedDigest): Promise<StoredManifest> {
    return this.flights.join(`${target.repo}@${digest.digest}`, async () => {
      const answer = await target.upstream.manifest(target.remote, digest.digest, 'GET');
      const what = `manifest ${target.remote}@${digest.digest}`;
      const { body, manifest } = await this.read(answer, target, what);
      const computed = await digestBytes(body, digest.algorithm);
      if (computed.hex !== digest.hex) {
        throw new UpstreamError(target.upstream.url, null, what, { problem: `sent a manifest whose digest is ${computed.digest}` });
      }
      return this.manifests.putFetched(target.repo, digest, body, manifest);
    }).result;
  }

  /**
   * The body, capped and parsed; an upstream's oversized or invalid manifest is its failure. A
   * body that does not arrive within MANIFEST_BODY_TIMEOUT_MS is dropped (never a hang).
   */
  private async read(answer: UpstreamAnswer, target: MirrorTarget, what: string): Promise<{ body: Uint8Array<ArrayBuffer>; manifest: ParsedManifest }> {
    const limit = this.options.maxManifestBytes;
    const timer = setTimeout(() => answer.abort(), MANIFEST_BODY_TIMEOUT_MS);
    try {
      const body = await readCappedBytes(answer.response, {
        limit,
        tooLarge: () => new RegistryError('MANIFEST_INVALID', `it is larger than ${limit} bytes`),
        broken: () => new RegistryError('MANIFEST_INVALID', 'the answer broke off'),
      });
      return { body, manifest: parseManifest(body, normalizeContentType(answer.response.headers.get('content-type') ?? undefined)) };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UpstreamError(target.upstream.url, null, what, { problem: `sent a manifest Berth cannot use: ${reason}` });
    } finally {
      clearTimeout(timer);
    }
  }

  private checkedAt(): string {
    return new Date(this.options.now()).toISOString();
  }
}
