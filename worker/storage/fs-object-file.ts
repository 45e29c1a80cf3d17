/**
 * The filesystem driver's object file: a header region of exactly one page, then the bytes.
 *
 *   offset 0     "BRT2" | uint32 BE n | n bytes of JSON {contentType?, metadata?} | zero padding
 *   offset 4096  the object's data
 *
 * Why a fixed-size header: `list` must report every object's size (GC sums it) and
 * lastModified (GC's grace period). With a fixed header, both come from one `stat`
 * (size = st_size - 4096, lastModified = mtime) without opening the file; the variable-length
 * header this replaces ("BRT1") cost open + read + fstat + close per listed key.
 * Metadata stays inside the file (rather than in a sidecar) so that one `rename` or `link`
 * still publishes bytes and metadata together: a reader never pairs new bytes with old
 * metadata, and an `ifNoneMatch` winner is complete the instant it appears.
 *
 * Costs and limits: the header is one page (4 KiB on disk per object; data starts
 * page-aligned, which suits the page cache and multipart offsets). Content type and metadata
 * must fit in 4088 bytes of JSON: more than S3 allows (2 KB of user metadata) plus any media
 * type (at most 255 characters, RFC 6838 §4.2). Files in the older "BRT1" format are refused
 * with a clear error rather than listed with a wrong size.
 */
import type { BigIntStats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { ObjectInfo } from './types.ts';

const MAGIC = 'BRT2';
const LEGACY_MAGIC = 'BRT1';
const FIXED = 8;
/** Bytes before the data in every object file (and in multipart data files). */
export const HEADER_BYTES = 4096;
const MAX_JSON = HEADER_BYTES - FIXED;
/** Data read together with the header by `get`: objects up to this size cost a single read. */
export const PREFETCH_BYTES = 16 * 1024;
/** Read size when streaming a body: large enough for throughput, small enough to bound memory. */
const CHUNK = 128 * 1024;

export interface ObjectHeader {
  contentType?: string;
  metadata?: Record<string, string>;
}

/** The whole header region (HEADER_BYTES bytes) for `header`. */
export function encodeHeader(header: ObjectHeader): Uint8Array {
  const fields: ObjectHeader = {};
  if (header.contentType !== undefined) fields.contentType = header.contentType;
  if (header.metadata && Object.keys(header.metadata).length > 0) fields.metadata = { ...header.metadata };
  const json = Object.keys(fields).length > 0 ? Buffer.from(JSON.stringify(fields), 'utf8') : Buffer.alloc(0);
  if (json.byteLength > MAX_JSON) {
    throw new Error(`fs store: content type and metadata take ${json.byteLength} bytes of JSON; at most ${MAX_JSON} fit in an object header`);
  }
  const out = Buffer.alloc(HEADER_BYTES);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32BE(json.byteLength, 4);
  json.copy(out, FIXED);
  return out;
}

/** Size, lastModified and etag of an object file, from its stat alone (what `list` reports). */
export function infoFromStat(key: string, stat: BigIntStats): ObjectInfo {
  const size = Number(stat.size) - HEADER_BYTES;
  if (size < 0) throw new Error(`fs store: ${key} is not an object file written by this driver (shorter than its header)`);
  return {
    key,
    size,
    // Every write publishes a new inode, so inode + size + mtime changes on each write without
    // reading the content (a content hash would cost a full read).
    etag: `${stat.ino.toString(36)}-${size.toString(36)}-${stat.mtimeNs.toString(36)}`,
    lastModified: new Date(Number(stat.mtimeMs)),
  };
}

export interface OpenedObject {
  /** Byte offset of the object's data inside the file. */
  dataOffset: number;
  info: ObjectInfo;
  /** The first data bytes, read with the header (at most `prefetch` bytes asked of readObject). */
  prefetched: Uint8Array;
}

/**
 * Reads the header (plus up to `prefetch` data bytes, in the same read) and stats the open
 * file: everything `head` answers, and for small objects everything `get` needs.
 */
export async function readObject(file: FileHandle, key: string, prefetch = 0): Promise<OpenedObject> {
  const first = Buffer.allocUnsafe(HEADER_BYTES + prefetch);
  const [stat, { bytesRead }] = await Promise.all([file.stat({ bigint: true }), file.read(first, 0, first.byteLength, 0)]);
  const magic = bytesRead >= FIXED ? first.toString('latin1', 0, 4) : '';
  if (magic !== MAGIC) {
    const why = magic === LEGACY_MAGIC ? 'written in the older BRT1 format, which this version no longer reads' : 'not an object file written by this driver';
    throw new Error(`fs store: ${key} is ${why}`);
  }
  const jsonLength = first.readUInt32BE(4);
  if (jsonLength > MAX_JSON || bytesRead < HEADER_BYTES) throw new Error(`fs store: ${key} has a truncated or corrupt header`);
  const header: ObjectHeader = jsonLength > 0 ? (JSON.parse(first.toString('utf8', FIXED, FIXED + jsonLength)) as ObjectHeader) : {};
  const info = infoFromStat(key, stat);
  if (header.contentType !== undefined) info.contentType = header.contentType;
  if (header.metadata !== undefined) info.metadata = { ...header.metadata };
  return { dataOffset: HEADER_BYTES, info, prefetched: first.subarray(HEADER_BYTES, bytesRead) };
}

/**
 * Streams bytes [start, end) of an open file, reading a chunk only when the consumer pulls
 * (bounded memory whatever the size). Owns `file`: closes it at the end, on error or cancel.
 * Reading from the already-open handle means a concurrent overwrite (a rename onto the key)
 * cannot mix two versions: this stream keeps reading the inode it opened.
 */
export function streamFile(file: FileHandle, start: number, end: number): ReadableStream<Uint8Array> {
  let position = start;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await file.close().catch(() => undefined);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          if (position >= end) {
            await close();
            controller.close();
            return;
          }
          const want = Math.min(CHUNK, end - position);
          const chunk = new Uint8Array(want);
          const { bytesRead } = await file.read(chunk, 0, want, position);
          if (bytesRead === 0) throw new Error('fs store: object file is shorter than its size');
          position += bytesRead;
          controller.enqueue(bytesRead === want ? chunk : chunk.subarray(0, bytesRead));
        } catch (error) {
          await close();
          controller.error(error);
        }
      },
      cancel: close,
    },
    { highWaterMark: 1 },
  );
}

/** A stream of bytes already in memory (a small object read whole with its header). */
export function streamBytes(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}
