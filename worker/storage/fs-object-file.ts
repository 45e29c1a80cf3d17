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
import { fstatOf, readAt } from './fs-io.ts';
import type { ObjectInfo } from './types.ts';

const MAGIC = 'BRT2';
const LEGACY_MAGIC = 'BRT1';
const FIXED = 8;
/** Bytes before the data in every object file (and in multipart data files). */
export const HEADER_BYTES = 4096;
const MAX_JSON = HEADER_BYTES - FIXED;
/** Data read together with the header by `get`: objects up to this size cost a single read. */
export const PREFETCH_BYTES = 16 * 1024;

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
  prefetched: Uint8Array<ArrayBuffer>;
  /** True when `prefetched` holds every data byte of the object. */
  whole: boolean;
}

export interface ReadObjectOptions {
  /** Data bytes to read together with the header. */
  prefetch: number;
  /**
   * `always`: stat the file (size, lastModified, etag), in parallel with the read: what `head`
   * answers. `if-larger`: stat only when the object did not fit in the read; a small object's size
   * is the read's length, so it costs open + read + close (no etag or lastModified then, which the
   * interface leaves optional and no reader of `get` needs).
   */
  stat: 'always' | 'if-larger';
}

/** Reads the header (plus up to `prefetch` data bytes, in the same read) of an open object file. */
export async function readObject(fd: number, key: string, options: ReadObjectOptions): Promise<OpenedObject> {
  const first = Buffer.allocUnsafe(HEADER_BYTES + options.prefetch);
  let stat: BigIntStats | undefined;
  let bytesRead: number;
  if (options.stat === 'always') [stat, bytesRead] = await Promise.all([fstatOf(fd), readAt(fd, first, 0)]);
  else bytesRead = await readAt(fd, first, 0);
  const magic = bytesRead >= FIXED ? first.toString('latin1', 0, 4) : '';
  if (magic !== MAGIC) {
    const why = magic === LEGACY_MAGIC ? 'written in the older BRT1 format, which this version no longer reads' : 'not an object file written by this driver';
    throw new Error(`fs store: ${key} is ${why}`);
  }
  const jsonLength = first.readUInt32BE(4);
  if (jsonLength > MAX_JSON || bytesRead < HEADER_BYTES) throw new Error(`fs store: ${key} has a truncated or corrupt header`);
  // A full buffer may mean more bytes follow: only the stat can tell the size then.
  if (!stat && bytesRead === first.byteLength) stat = await fstatOf(fd);
  const header: ObjectHeader = jsonLength > 0 ? (JSON.parse(first.toString('utf8', FIXED, FIXED + jsonLength)) as ObjectHeader) : {};
  const info: ObjectInfo = stat ? infoFromStat(key, stat) : { key, size: bytesRead - HEADER_BYTES };
  if (header.contentType !== undefined) info.contentType = header.contentType;
  if (header.metadata !== undefined) info.metadata = { ...header.metadata };
  const prefetched = first.subarray(HEADER_BYTES, bytesRead);
  return { dataOffset: HEADER_BYTES, info, prefetched, whole: info.size <= prefetched.byteLength };
}
