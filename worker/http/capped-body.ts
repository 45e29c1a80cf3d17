/**
 * The one reader for every request body Berth parses whole: token forms, admin JSON, manifests.
 * Layers never come through here; they stream into the store (registry/part-writer.ts).
 *
 * It never holds more than `limit` bytes, whatever the client sends:
 * - a `Content-Length` over the limit is refused before a byte is read;
 * - a body without one (chunked) is read until the limit and refused at the first byte past it.
 * Web-standard streams only, so Node, workerd and Lambda read bodies the same way.
 *
 * After a refusal the rest of a chunked body is read and dropped up to DRAIN_BYTES (or one more
 * `limit`, when larger) and then cancelled (`discardRest`, which the layer writer uses too).
 * A client that declared a huge length gets its answer at once; the Node server drops what it
 * sent after the answer (bounded in bytes and time by @hono/node-server) or closes the socket.
 */
import { RegistryError } from '../oci/errors.ts';

/** Bytes of a refused chunked body read and dropped before the rest is cancelled. */
const DRAIN_BYTES = 1024 * 1024;

export interface BodyLimit {
  /** Most bytes accepted. */
  limit: number;
  /**
   * The refusal for a body over the limit. By default 413 PAYLOAD_TOO_LARGE, Berth's own code
   * (token and admin endpoints); `/v2` routes pass the spec's code for what they read.
   */
  tooLarge?(limit: number): RegistryError;
  /** The refusal for a body that broke off (client gone, socket timed out). */
  broken?(): RegistryError;
}

/** Content-Length as a number, or undefined when absent (chunked) or malformed. */
export function declaredLength(headers: Headers): number | undefined {
  const raw = headers.get('content-length');
  if (raw === null || !/^\d{1,16}$/.test(raw.trim())) return undefined;
  return Number(raw);
}

/** A request's body (or an upstream's answer, for the pull-through mirror), read whole under `cap`. */
export async function readCappedBytes(req: Pick<Request, 'headers' | 'body'>, cap: BodyLimit): Promise<Uint8Array<ArrayBuffer>> {
  const declared = declaredLength(req.headers);
  const tooLarge = (): RegistryError =>
    cap.tooLarge?.(cap.limit) ?? new RegistryError('PAYLOAD_TOO_LARGE', `the request body exceeds ${cap.limit} bytes`, { limit: cap.limit });
  if (declared !== undefined && declared > cap.limit) throw tooLarge();
  if (!req.body || declared === 0) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > cap.limit) {
        await discardRest(reader, Math.max(cap.limit, DRAIN_BYTES));
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    throw cap.broken?.() ?? new RegistryError('INVALID_REQUEST', 'the request body ended before its end');
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** The body as UTF-8 text (invalid sequences become U+FFFD, which no parser here accepts silently). */
export async function readCappedText(req: Pick<Request, 'headers' | 'body'>, cap: BodyLimit): Promise<string> {
  return new TextDecoder().decode(await readCappedBytes(req, cap));
}

/**
 * Reads and drops what is left of a refused body, up to `budget` more bytes, before the 4xx goes
 * out. A streamed (chunked) body abandoned mid-way leaves the connection unusable, and in
 * workerd under `wrangler dev` it stalled the next request until that one was aborted
 * (measured); past the budget the body is cancelled instead, so an endless stream cannot hold
 * a Worker.
 */
export async function discardRest(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number): Promise<void> {
  let dropped = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      dropped += value.byteLength;
      if (dropped > budget) {
        await reader.cancel().catch(() => undefined);
        return;
      }
    }
  } catch {
    // The client went away while we dropped its bytes: nothing left to answer.
  }
}
