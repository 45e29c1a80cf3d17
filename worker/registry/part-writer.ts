/**
 * Streams a request body into fixed-size multipart parts (principle 3: bytes flow, never pool).
 *
 * Bytes are copied into a part buffer as they arrive; a full part is uploaded while the next one
 * is read, with at most `concurrency` uploads in flight, so memory stays near
 * partSize × (concurrency + 1) whatever the layer size. Whatever does not fill a part comes back
 * as `tail`; the caller keeps it for the next request or the final part.
 */
import type { MultipartPart } from '../storage/types.ts';
import { RegistryError } from '../oci/errors.ts';
import { discardRest } from '../http/capped-body.ts';

export interface PartWriterOptions {
  body: ReadableStream<Uint8Array> | null;
  /** Bytes carried from earlier requests (fewer than partSize). */
  carry: Uint8Array;
  partSize: number;
  concurrency: number;
  /** Part number the next full part gets. */
  firstPartNumber: number;
  /** Most bytes this request may carry; more is refused with 413 before it is kept. */
  maxBytes?: number;
  /** Sees every new byte of the body, in order (the hasher). */
  onBytes(chunk: Uint8Array): void;
  /** Uploads one full part; `ensureUpload` is implied by the caller's closure. */
  uploadPart(partNumber: number, bytes: Uint8Array): Promise<MultipartPart>;
}

export interface PartWriterResult {
  parts: MultipartPart[];
  tail: Uint8Array;
  /** New bytes read from the body (not counting `carry`). */
  received: number;
}

/**
 * An upload body over the deployment's limit: 413 with BLOB_UPLOAD_INVALID, the spec's code for an
 * upload that cannot proceed (clients know the table's codes, not Berth's own). Callers that
 * tell it apart from other refusals look at `isBodyOverLimit`.
 */
export function payloadTooLarge(limit: number): RegistryError {
  const mib = Math.floor(limit / (1024 * 1024));
  return new RegistryError(
    'BLOB_UPLOAD_INVALID',
    `request body exceeds this deployment's limit of ${limit} bytes (${mib} MiB)`,
    {
      limit,
      remedy:
        'push with `berth push` (layer bytes go straight to the bucket), or upload the blob in chunks: ' +
        'PATCH requests with Content-Range, each at most the limit (OCI-Chunk-Max-Length), or raise ' +
        'BERTH_MAX_BODY_MB where the platform allows it',
    },
    { status: 413 },
  );
}

export async function writeParts(options: PartWriterOptions): Promise<PartWriterResult> {
  const { partSize, concurrency } = options;
  const parts: MultipartPart[] = [];
  const inFlight = new Set<Promise<void>>();
  // Part buffers are reused once their upload settles: at most concurrency + 1 ever exist, so a
  // 10 GB push holds as much memory as a 100 MB one, and a 4 KiB body allocates no part at all.
  const spare: Uint8Array[] = [];
  let failure: unknown = null;
  let nextPart = options.firstPartNumber;
  let received = 0;

  // Bytes of the part being gathered, as references to the incoming chunks (copied once, below).
  let gathered: Uint8Array[] = options.carry.byteLength > 0 ? [options.carry] : [];
  let gatheredBytes = options.carry.byteLength;

  const dispatch = async (): Promise<void> => {
    const partNumber = nextPart++;
    const bytes = concat(gathered, gatheredBytes, spare.pop() ?? new Uint8Array(partSize));
    gathered = [];
    gatheredBytes = 0;
    const task = options
      .uploadPart(partNumber, bytes)
      .then((part) => {
        parts.push(part);
        spare.push(bytes);
      })
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
  };

  const reader = options.body?.getReader();
  try {
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      if (failure) throw failure;
      received += value.byteLength;
      if (options.maxBytes !== undefined && received > options.maxBytes) {
        await discardRest(reader, options.maxBytes);
        throw payloadTooLarge(options.maxBytes);
      }
      options.onBytes(value);
      let offset = 0;
      while (offset < value.byteLength) {
        const take = Math.min(partSize - gatheredBytes, value.byteLength - offset);
        gathered.push(value.subarray(offset, offset + take));
        gatheredBytes += take;
        offset += take;
        if (gatheredBytes === partSize) await dispatch();
      }
    }
  } catch (error) {
    await reader?.cancel().catch(() => undefined);
    await Promise.allSettled(inFlight);
    throw error;
  }
  await Promise.allSettled(inFlight);
  if (failure) throw failure;
  parts.sort((a, b) => a.partNumber - b.partNumber);
  return { parts, tail: concat(gathered, gatheredBytes, new Uint8Array(gatheredBytes)), received };
}

/** Copies `chunks` (`total` bytes) into `target`, which is at least that long. */
function concat(chunks: Uint8Array[], total: number, target: Uint8Array): Uint8Array {
  let offset = 0;
  for (const chunk of chunks) {
    target.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return total === target.byteLength ? target : target.subarray(0, total);
}

/** The refusal `payloadTooLarge` builds (413), whatever code it carries. */
export function isBodyOverLimit(error: unknown): error is RegistryError {
  return error instanceof RegistryError && error.status === 413;
}
