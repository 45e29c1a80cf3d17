/**
 * Blobs of mirrored repositories. A blob linked into the mirror repository is served like any
 * other (presigned redirect or stream); one that is not is fetched from the upstream while it
 * streams to the client (blob-fill.ts), once per instance however many pulls ask at once: the
 * first pull leads, the others wait for the blob to be published and are then served from the
 * bucket.
 *
 * Bytes Berth already holds for another repository are linked only after the upstream confirms
 * (HEAD) that this repository has them: a digest is no key to somebody else's layers.
 */
import type { ObjectStore } from '../../storage/types.ts';
import type { ParsedDigest } from '../../oci/digest.ts';
import type { BlobLocation, Blobs } from '../blobs.ts';
import { fillBlob, HOLD_BACK_BYTES, type Fill } from './blob-fill.ts';
import { SingleFlight } from './single-flight.ts';
import type { MirrorLog, MirrorTarget } from './target.ts';

export type MirroredBlob =
  | { kind: 'stored'; location: BlobLocation }
  /** Straight from the upstream: the body of a fill (GET) or nothing (HEAD); size when known. */
  | { kind: 'upstream'; size?: number; body: ReadableStream<Uint8Array> | null };

export interface PullContext {
  /**
   * Keeps work running after the response is complete or its client gone (Workers' waitUntil,
   * handed in by the runtime entry). Node and Lambda keep running it anyway.
   */
  background(work: Promise<unknown>): void;
}

export interface MirrorBlobOptions {
  partSize: number;
  concurrency: number;
  log: MirrorLog;
}

export class MirrorBlobs {
  private readonly flights = new SingleFlight<BlobLocation>();

  constructor(
    private readonly store: ObjectStore,
    private readonly blobs: Blobs,
    private readonly options: MirrorBlobOptions,
  ) {}

  /** Throws UpstreamError when the upstream fails and the blob is not cached. */
  async get(target: MirrorTarget, digest: ParsedDigest, method: 'GET' | 'HEAD', context: PullContext): Promise<MirroredBlob> {
    const linked = await this.blobs.stat(target.repo, digest);
    if (linked) return { kind: 'stored', location: linked };
    if (method === 'HEAD') {
      // A HEAD is a question, not a pull: answered by the upstream without fetching anything.
      const answer = await target.upstream.blob(target.remote, digest.digest, 'HEAD');
      await answer.response.body?.cancel().catch(() => undefined);
      const size = Number(answer.response.headers.get('content-length') ?? NaN);
      return Number.isSafeInteger(size) && size >= 0 ? { kind: 'upstream', size, body: null } : { kind: 'upstream', body: null };
    }

    let leading: Promise<Fill | BlobLocation> | undefined;
    const flight = this.flights.join(digest.digest, () => {
      leading = this.start(target, digest);
      return leading.then((started) => ('done' in started ? started.done : started));
    });
    if (!flight.leader || !leading) {
      await flight.result;
      // The leader linked the blob into its own repository, which may not be this one.
      return this.get(target, digest, method, context);
    }
    const started = await leading;
    if (!('done' in started)) return { kind: 'stored', location: started };
    if (started.size === undefined || started.size <= HOLD_BACK_BYTES) {
      // Too small to trail by HOLD_BACK_BYTES, or of unknown length: served once verified.
      await started.body.cancel();
      return { kind: 'stored', location: await started.done };
    }
    context.background(
      started.done.catch((error: unknown) =>
        this.options.log('fill-failed', { repository: target.repo, digest: digest.digest, reason: error instanceof Error ? error.message : String(error) }),
      ),
    );
    return { kind: 'upstream', size: started.size, body: started.body };
  }

  /** Links bytes Berth already has (after the upstream's HEAD), or starts a fill. */
  private async start(target: MirrorTarget, digest: ParsedDigest): Promise<Fill | BlobLocation> {
    const known = await this.blobs.find(digest);
    if (known && (await this.store.head(known.data))) {
      const answer = await target.upstream.blob(target.remote, digest.digest, 'HEAD');
      await answer.response.body?.cancel().catch(() => undefined);
      await this.blobs.link(target.repo, digest, known);
      return known;
    }
    const upstream = await target.upstream.blob(target.remote, digest.digest, 'GET');
    return fillBlob({
      store: this.store,
      blobs: this.blobs,
      repo: target.repo,
      digest,
      partSize: this.options.partSize,
      concurrency: this.options.concurrency,
      upstream,
      upstreamUrl: target.upstream.url,
      what: `blob ${target.remote}@${digest.digest}`,
    });
  }
}
