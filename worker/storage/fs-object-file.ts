/**
 * The filesystem driver's object file: a small header, then the object's bytes.
 *
 *   "BRT1" | uint32 BE n | n bytes of JSON {contentType?, metadata?} | data
 *
 * Keeping metadata inside the file (rather than in a sidecar) means one `rename` or `link`
 * publishes bytes and metadata together, so a reader never pairs new bytes with old metadata,
 * and an `ifNoneMatch` winner is complete the instant it appears. A multipart upload's data
 * file starts with the empty header (n = 0), so completing it is a plain rename.
 */
import type { FileHandle } from 'node:fs/promises';
import type { ObjectInfo } from './types.ts';

const MAGIC = 'BRT1';
const FIXED = 8;
/** Enough for any ordinary header in one read. */
const FIRST_READ = 4096;
/** Read size when streaming a body: large enough for throughput, small enough to bound memory. */
const CHUNK = 128 * 1024;

export interface ObjectHeader {
  contentType?: string;
  metadata?: Record<string, string>;
}

/** Header of an object without metadata (multipart uploads start with it). */
export const EMPTY_HEADER_BYTES = FIXED;

export function encodeHeader(header: ObjectHeader): Uint8Array {
  const fields: ObjectHeader = {};
  if (header.contentType !== undefined) fields.contentType = header.contentType;
  if (header.metadata && Object.keys(header.metadata).length > 0) fields.metadata = { ...header.metadata };
  const json = Object.keys(fields).length > 0 ? Buffer.from(JSON.stringify(fields), 'utf8') : Buffer.alloc(0);
  const out = Buffer.alloc(FIXED + json.byteLength);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32BE(json.byteLength, 4);
  json.copy(out, FIXED);
  return out;
}

export interface OpenedObject {
  /** Byte offset of the object's data inside the file. */
  dataOffset: number;
  info: ObjectInfo;
}

/** Reads the header and stats the open file: everything `head` answers. */
export async function readObject(file: FileHandle, key: string): Promise<OpenedObject> {
  const first = Buffer.alloc(FIRST_READ);
  const { bytesRead } = await file.read(first, 0, FIRST_READ, 0);
  if (bytesRead < FIXED || first.toString('latin1', 0, 4) !== MAGIC) {
    throw new Error(`fs store: ${key} is not an object file written by this driver`);
  }
  const jsonLength = first.readUInt32BE(4);
  let json = first.subarray(FIXED, Math.min(bytesRead, FIXED + jsonLength));
  if (json.byteLength < jsonLength) {
    json = Buffer.alloc(jsonLength);
    const rest = await file.read(json, 0, jsonLength, FIXED);
    if (rest.bytesRead < jsonLength) throw new Error(`fs store: ${key} has a truncated header`);
  }
  const header: ObjectHeader = jsonLength > 0 ? (JSON.parse(json.toString('utf8')) as ObjectHeader) : {};
  const stat = await file.stat({ bigint: true });
  const dataOffset = FIXED + jsonLength;
  const size = Number(stat.size) - dataOffset;
  const info: ObjectInfo = {
    key,
    size,
    // Every write publishes a new inode, so inode + size + mtime changes on each write without
    // reading the content (a content hash would cost a full read).
    etag: `${stat.ino.toString(36)}-${size.toString(36)}-${stat.mtimeNs.toString(36)}`,
    lastModified: new Date(Number(stat.mtimeMs)),
  };
  if (header.contentType !== undefined) info.contentType = header.contentType;
  if (header.metadata !== undefined) info.metadata = { ...header.metadata };
  return { dataOffset, info };
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
