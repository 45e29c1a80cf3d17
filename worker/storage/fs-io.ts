/**
 * Filesystem primitives the fs driver builds its atomicity on: durable temp files, publishing
 * by `rename`/`link`, and pruning of emptied directories.
 */
import { randomBytes } from 'node:crypto';
import { close, fstat, open as openCallback, read, type BigIntStats } from 'node:fs';
import { link, mkdir, open, rename, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Owner-only: the store holds the signing key and password hashes (fs-modes.ts). */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

// Reads use plain descriptors and the callback API: a FileHandle costs a transferable object, a
// close through its own machinery and extra promises per call, which measured as a good part of a
// small read (a HEAD blob or manifest reads one small file per request).

/** Opens `path` for reading; the descriptor must be closed with `closeFd`. */
export function openForReading(path: string): Promise<number> {
  return new Promise((resolve, reject) => openCallback(path, 'r', (error, fd) => (error ? reject(error) : resolve(fd))));
}

/**
 * One read into `buffer` from `position`; resolves with the bytes read. On a regular file a read
 * returns fewer bytes than asked only at the end of the file, which is how a small object's size
 * is learnt from the read alone (fs-object-file.ts).
 */
export function readAt(fd: number, buffer: Uint8Array, position: number, length = buffer.byteLength): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
}

export function fstatOf(fd: number): Promise<BigIntStats> {
  return new Promise((resolve, reject) => fstat(fd, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve) => close(fd, () => resolve()));
}

/** A fresh name inside `dir` that no other writer will pick. */
export function tempName(dir: string, label: string): string {
  return join(dir, `${label}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
}

/**
 * Writes `chunks` to a new file and fsyncs it, so a later rename publishes complete bytes.
 * Every put goes through here, whatever the key: the driver treats keys as opaque
 * (types.ts), so it cannot tell transient upload state from published objects, and skipping
 * the fsync for the former is not safe either (a session surviving a crash beside a tail that
 * lost its bytes could publish data that does not match its digest). What is kept cheap
 * instead: one `writev` for header and body, `fdatasync` (no timestamp-only flushes), no
 * directory fsync (see `publish`).
 */
export async function writeDurably(path: string, chunks: Uint8Array[]): Promise<void> {
  let file;
  try {
    file = await open(path, 'wx', FILE_MODE);
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    // The temp directory went missing (first use, or removed by an operator): recreate it.
    await mkdir(dirname(path), { recursive: true, mode: DIR_MODE });
    file = await open(path, 'wx', FILE_MODE);
  }
  try {
    await writeAllv(file, chunks);
    // A new file's size and blocks are data-integrity metadata, which fdatasync flushes too.
    await file.datasync();
  } finally {
    await file.close();
  }
}

/** Writes `chunks` at the start of an empty file: one `writev` call when it writes everything. */
async function writeAllv(file: Awaited<ReturnType<typeof open>>, chunks: Uint8Array[]): Promise<void> {
  const total = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const { bytesWritten } = await file.writev(chunks, 0);
  if (bytesWritten === total) return;
  // A short write: finish chunk by chunk from where it stopped.
  let skip = bytesWritten;
  let position = bytesWritten;
  for (const chunk of chunks) {
    if (skip >= chunk.byteLength) {
      skip -= chunk.byteLength;
      continue;
    }
    const rest = chunk.subarray(skip);
    skip = 0;
    await writeAll(file, rest, position);
    position += rest.byteLength;
  }
}

/** `FileHandle.write` may write less than asked; loop until all of `data` is written. */
export async function writeAll(
  file: Awaited<ReturnType<typeof open>>,
  data: Uint8Array,
  position: number | null,
): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const { bytesWritten } = await file.write(data, done, data.byteLength - done, position === null ? null : position + done);
    done += bytesWritten;
  }
}

const PUBLISH_ATTEMPTS = 8;

/**
 * Moves (`rename`: replaces any existing file) or links (`link`: fails with EEXIST when the
 * target exists, which makes create-if-absent atomic) `source` to `target`, creating parent
 * directories. Retries ENOENT because a concurrent delete may prune a parent we just created.
 */
export async function publish(source: string, target: string, mode: 'rename' | 'link'): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await (mode === 'rename' ? rename(source, target) : link(source, target));
      return;
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT' || attempt >= PUBLISH_ATTEMPTS) throw error;
    }
    // mkdir recursive tolerates a concurrent creator of the same directory, but not a concurrent
    // prune: when a delete removes a parent it has just created, it fails with ENOENT or ENOTDIR
    // (seen: 8 in 48,000 puts and deletes under one directory, 16 at a time). The next attempt
    // creates it again. Names cannot collide with files (fs-keys.ts), so neither is permanent.
    try {
      await mkdir(dirname(target), { recursive: true, mode: DIR_MODE });
    } catch (error) {
      const code = errnoCode(error);
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || attempt >= PUBLISH_ATTEMPTS) throw error;
    }
  }
}

/** Removes now-empty directories from `dir` up to (not including) `stop`. */
export async function pruneEmptyDirs(dir: string, stop: string): Promise<void> {
  let current = dir;
  while (current.startsWith(stop) && current.length > stop.length) {
    try {
      await rmdir(current);
    } catch {
      // ENOTEMPTY/EEXIST: a sibling exists or a writer just added one; ENOENT: pruned already.
      return;
    }
    current = dirname(current);
  }
}
