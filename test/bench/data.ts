/**
 * Bench payloads: `size` bytes streamed without holding them in memory.
 *
 * The body is one 64 MiB block of AES-CTR keystream (incompressible, deterministic), repeated,
 * followed by a 32-byte nonce unique to each push. The nonce gives every push a new digest, so
 * no system can skip work because the blob already exists, while the SHA-256 of the long common
 * prefix is computed once per run and reused through `Hash.copy()`. (node:crypto hash state
 * cannot be written to disk, so "cached" means once per run: about 0.6 s per GiB here.)
 */
import { createCipheriv, createHash, randomBytes, type Hash } from 'node:crypto';

const BLOCK_BYTES = 64 * 1024 * 1024;
const NONCE_BYTES = 32;
/** Write size of the client: Go's io.Copy uses 32 KiB, curl 64 KiB; 256 KiB keeps the client cheap. */
export const WRITE_BYTES = 256 * 1024;

let block: Buffer | undefined;
const prefixHashes = new Map<number, Hash>();

/** The repeated block: a fixed-key AES-128-CTR keystream, so every run sends the same bytes. */
function theBlock(): Buffer {
  if (!block) {
    const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
    block = Buffer.concat([cipher.update(Buffer.alloc(BLOCK_BYTES)), cipher.final()]);
  }
  return block;
}

export interface Payload {
  size: number;
  digest: string;
  /** The body in WRITE_BYTES slices (views into the shared block; no copies). */
  chunks(): Generator<Buffer>;
}

function* prefixChunks(length: number): Generator<Buffer> {
  const source = theBlock();
  let sent = 0;
  while (sent < length) {
    const offset = sent % source.length;
    const n = Math.min(WRITE_BYTES, source.length - offset, length - sent);
    yield source.subarray(offset, offset + n);
    sent += n;
  }
}

function prefixHash(length: number): Hash {
  let hash = prefixHashes.get(length);
  if (!hash) {
    hash = createHash('sha256');
    for (const chunk of prefixChunks(length)) hash.update(chunk);
    prefixHashes.set(length, hash);
  }
  return hash;
}

/** A payload of `size` bytes (at least NONCE_BYTES) with a fresh nonce at its end. */
export function payload(size: number): Payload {
  if (size < NONCE_BYTES) throw new Error(`payload size must be at least ${NONCE_BYTES}`);
  const prefixLength = size - NONCE_BYTES;
  const nonce = randomBytes(NONCE_BYTES);
  const digest = `sha256:${prefixHash(prefixLength).copy().update(nonce).digest('hex')}`;
  return {
    size,
    digest,
    *chunks() {
      yield* prefixChunks(prefixLength);
      yield nonce;
    },
  };
}

/** Small random blobs (4 KiB uploads): held in memory, hashed directly. */
export function smallPayload(size: number): Payload {
  return bytesPayload(randomBytes(size));
}

export function bytesPayload(bytes: Buffer): Payload {
  const size = bytes.length;
  return {
    size,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    *chunks() {
      yield bytes;
    },
  };
}
