/**
 * Fills the cache with one upstream blob while a client downloads it (principle 3: bytes flow,
 * never pool). The upstream body is read once; every chunk is hashed, cut into fixed-size parts
 * of a multipart upload to `data/<id>` (the upload engine's part writer, so memory stays at
 * partSize × (concurrency + 1) whatever the layer size) and passed on to the client.
 *
 * Nothing unverified is ever kept or fully handed out:
 * - the blob record is published, and the repository linked, only after the digest of the bytes
 *   received matched (and their count matched the upstream's Content-Length); otherwise the
 *   multipart upload is aborted and nothing exists under any digest;
 * - the client's copy trails the upstream by HOLD_BACK_BYTES, released only after the digest
 *   matched. On a mismatch its download ends that far short of its Content-Length, with an
 *   error, so no client can take corrupted bytes for a complete blob (its own digest check
 *   would then be the only guard). The gap is wider than anything a server adds when a body
 *   fails (@hono/node-server writes `Error: <message>` before dropping the connection). Blobs
 *   too small for such a gap, or of unknown length, are filled first and then served from the
 *   bucket (mirror-blobs.ts).
 * A client that hangs up does not stop the fill: the rest is read into the store (on Workers the
 * caller hands `done` to waitUntil), and the next pull is served from the bucket.
 */
import { createHash } from 'node:crypto';
import type { ObjectStore } from '../../storage/types.ts';
import type { ParsedDigest } from '../../oci/digest.ts';
import type { BlobLocation, Blobs } from '../blobs.ts';
import { keyOf } from '../keys.ts';
import { isBodyOverLimit, writeParts } from '../part-writer.ts';
import { newUploadId } from '../uploads.ts';
import { UpstreamError } from './upstream-error.ts';
import type { UpstreamAnswer } from './upstream.ts';

/** An upstream body that sends nothing for this long is given up (its connection dropped). */
const STALL_TIMEOUT_MS = 60_000;
/** Chunks queued for a client that reads slower than the upstream sends, before the fill waits for it. */
const CLIENT_QUEUE_CHUNKS = 8;
/** The client's copy trails by at least this much until the digest is checked (see above). */
export const HOLD_BACK_BYTES = 64 * 1024;
/** A client that takes nothing for this long is dropped; the fill goes on without it. */
const CLIENT_STALL_MS = 60_000;

export interface FillInput {
  store: ObjectStore;
  blobs: Blobs;
  /** The mirror repository the verified blob is linked into. */
  repo: string;
  digest: ParsedDigest;
  partSize: number;
  concurrency: number;
  upstream: UpstreamAnswer;
  /** Origin of the upstream and what was asked, for errors. */
  upstreamUrl: string;
  what: string;
}

export interface Fill {
  /** The bytes for the client (see the header: the last chunk waits for the digest check). */
  body: ReadableStream<Uint8Array>;
  /** The upstream's Content-Length, when it sent a valid one. */
  size?: number;
  /** The published blob; rejects (with nothing kept) when the bytes did not verify or the transfer broke. */
  done: Promise<BlobLocation>;
}

export function fillBlob(input: FillInput): Fill {
  const { store, digest, upstream } = input;
  const size = contentLength(upstream.response);
  const source = upstream.response.body?.getReader();
  const hasher = createHash(digest.algorithm);
  const client = new ClientFeed(CLIENT_QUEUE_CHUNKS);
  const held = new HeldBack(HOLD_BACK_BYTES);
  let received = 0;

  // What the part writer reads: the upstream body, hashed, and passed on to the client
  // HOLD_BACK_BYTES behind.
  const feed = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = source ? await readWithin(source, STALL_TIMEOUT_MS, () => upstream.abort(), input) : { done: true as const };
        if (next.done) {
          controller.close();
          return;
        }
        received += next.value.byteLength;
        hasher.update(next.value);
        for (const chunk of held.push(next.value)) await client.send(chunk);
        controller.enqueue(next.value);
      },
      async cancel(reason) {
        await source?.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );

  const dataKey = keyOf({ kind: 'data', uploadId: newUploadId() });
  let multipartId: string | undefined;
  let starting: Promise<string> | undefined;

  const done = (async (): Promise<BlobLocation> => {
    try {
      const written = await writeParts({
        body: feed,
        carry: new Uint8Array(0),
        partSize: input.partSize,
        concurrency: input.concurrency,
        firstPartNumber: 1,
        // Never more than the upstream announced; without an announcement, the multipart limit.
        maxBytes: size ?? input.partSize * store.capabilities.maxParts,
        onBytes: () => undefined,
        uploadPart: async (partNumber, bytes) => {
          starting ??= store.createMultipart(dataKey, input.partSize).then((id) => (multipartId = id));
          return store.uploadPart(dataKey, await starting, partNumber, bytes);
        },
      });
      const hex = hasher.digest('hex');
      if (hex !== digest.hex || (size !== undefined && received !== size)) {
        throw new UpstreamError(input.upstreamUrl, null, input.what, {
          problem: hex !== digest.hex
            ? `sent bytes whose digest is ${digest.algorithm}:${hex}; nothing was kept`
            : `sent ${received} bytes after announcing ${size}; nothing was kept`,
        });
      }
      // Verified: the client may have the rest while the object is completed.
      for (const chunk of held.release()) await client.send(chunk);
      if (multipartId === undefined) {
        await store.put(dataKey, written.tail, { contentType: 'application/octet-stream' });
      } else {
        const parts = [...written.parts];
        if (written.tail.byteLength > 0) parts.push(await store.uploadPart(dataKey, multipartId, parts.length + 1, written.tail));
        await store.completeMultipart(dataKey, multipartId, parts);
      }
      const location = await input.blobs.publish(digest, { size: received, data: dataKey });
      await input.blobs.link(input.repo, digest, location);
      client.close();
      return location;
    } catch (thrown) {
      if (multipartId !== undefined) await store.abortMultipart(dataKey, multipartId).catch(() => undefined);
      else if (starting) await starting.then((id) => store.abortMultipart(dataKey, id)).catch(() => undefined);
      // More bytes than announced is the upstream's fault, not a client's too-large body.
      const error = isBodyOverLimit(thrown)
        ? new UpstreamError(input.upstreamUrl, null, input.what, { problem: `sent more than the ${size} bytes it announced; nothing was kept` })
        : thrown;
      client.fail(error);
      throw error;
    }
  })();

  return size === undefined ? { body: client.stream, done } : { body: client.stream, size, done };
}

/**
 * The client's side of the fill: a stream fed from outside, which makes the fill wait while
 * `limit` chunks are queued (a slow client) and stops feeding once the client has gone.
 */
class ClientFeed {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private gone = false;
  private wake: (() => void) | null = null;

  constructor(limit: number) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        // Called when the client has taken chunks off the queue, or has gone.
        pull: () => this.resume(),
        cancel: () => {
          this.gone = true;
          this.resume();
        },
      },
      new CountQueuingStrategy({ highWaterMark: limit }),
    );
  }

  async send(chunk: Uint8Array): Promise<void> {
    while (!this.gone && (this.controller.desiredSize ?? 0) <= 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stalled = await new Promise<boolean>((resolve) => {
        this.wake = () => resolve(false);
        timer = setTimeout(() => resolve(true), CLIENT_STALL_MS);
      });
      clearTimeout(timer);
      if (stalled) this.fail(new Error('client stopped reading'));
    }
    if (!this.gone) this.controller.enqueue(chunk);
  }

  close(): void {
    if (!this.gone) this.controller.close();
    this.gone = true;
  }

  fail(error: unknown): void {
    if (!this.gone) this.controller.error(error);
    this.gone = true;
    this.resume();
  }

  private resume(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}

/** The newest `bytes` of a stream, kept back; older chunks come out as newer ones arrive. */
class HeldBack {
  private chunks: Uint8Array[] = [];
  private total = 0;

  constructor(private readonly bytes: number) {}

  /** Adds `chunk`; answers the chunks that may go out, keeping at least `bytes` back. */
  push(chunk: Uint8Array): Uint8Array[] {
    this.chunks.push(chunk);
    this.total += chunk.byteLength;
    const out: Uint8Array[] = [];
    while (this.chunks.length > 1 && this.total - (this.chunks[0]?.byteLength ?? 0) >= this.bytes) {
      const first = this.chunks.shift()!;
      this.total -= first.byteLength;
      out.push(first);
    }
    return out;
  }

  release(): Uint8Array[] {
    const out = this.chunks;
    this.chunks = [];
    this.total = 0;
    return out;
  }
}

/** A read that gives up (and drops the connection) when the upstream sends nothing for `ms`. */
async function readWithin(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  ms: number,
  abort: () => void,
  input: Pick<FillInput, 'upstreamUrl' | 'what'>,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort();
      reject(new UpstreamError(input.upstreamUrl, null, input.what, { problem: `sent nothing for ${ms / 1000} s` }));
    }, ms);
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    clearTimeout(timer);
  }
}

function contentLength(response: Response): number | undefined {
  const raw = response.headers.get('content-length');
  return raw !== null && /^\d{1,16}$/.test(raw) ? Number(raw) : undefined;
}
