/**
 * Digest grammar (OCI image-spec "Digests"):
 *   digest    ::= algorithm ":" encoded
 *   algorithm ::= component (separator component)*   component ::= [a-z0-9]+   separator ::= [+._-]
 *   encoded   ::= [a-zA-Z0-9=_-]+
 * Registered algorithms fix the encoding further: sha256 is 64 and sha512 is 128 lowercase hex
 * characters. A well-formed digest of any other algorithm names nothing Berth can store: a write
 * that names one is DIGEST_INVALID (400), a read or delete finds nothing (404, the caller's
 * `*_UNKNOWN` code), both codes of the spec's table.
 */
import { RegistryError, type ErrorCode } from './errors.ts';

export type Digest = `${string}:${string}`;

export type DigestAlgorithm = 'sha256' | 'sha512';

export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  digest: Digest;
}

const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };

/** Long enough for any real digest; keeps hostile input out of regexes and error bodies. */
export const MAX_DIGEST_LENGTH = 1024;

type DigestCheck =
  | { ok: true; parsed: ParsedDigest }
  | { ok: false; unsupportedAlgorithm: boolean; reason: string };

function checkDigest(value: unknown): DigestCheck {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_DIGEST_LENGTH) {
    return { ok: false, unsupportedAlgorithm: false, reason: 'invalid digest' };
  }
  if (!DIGEST_GRAMMAR.test(value)) {
    return { ok: false, unsupportedAlgorithm: false, reason: 'digest does not match algorithm:encoded' };
  }
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    return { ok: false, unsupportedAlgorithm: true, reason: `digest algorithm ${algorithm} is not supported (sha256 and sha512 are)` };
  }
  const length = HEX_LENGTH[algorithm];
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    return {
      ok: false,
      unsupportedAlgorithm: false,
      reason: `${algorithm} digest must be ${length} lowercase hex characters`,
    };
  }
  return { ok: true, parsed: { algorithm, hex, digest: `${algorithm}:${hex}` } };
}

/** Error details echo at most this much of the client's input. */
function excerpt(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return text.length > 150 ? `${text.slice(0, 150)}…` : text;
}

/** Parses a digest or throws DIGEST_INVALID (malformed, or of an algorithm Berth does not store). */
export function parseDigest(value: string): ParsedDigest {
  return parseDigestToRead(value, 'DIGEST_INVALID');
}

/**
 * For reads and deletes: a malformed digest is DIGEST_INVALID (400), a well-formed one of an
 * algorithm Berth does not store names nothing here: `unknown` (BLOB_UNKNOWN, MANIFEST_UNKNOWN).
 */
export function parseDigestToRead(value: string, unknown: ErrorCode): ParsedDigest {
  const result = checkDigest(value);
  if (result.ok) return result.parsed;
  throw new RegistryError(result.unsupportedAlgorithm ? unknown : 'DIGEST_INVALID', result.reason, { digest: excerpt(value) });
}

/** Like parseDigest, but answers null for malformed or unsupported digests. */
export function tryParseDigest(value: string): ParsedDigest | null {
  const result = checkDigest(value);
  return result.ok ? result.parsed : null;
}

/** True when `value` is a digest this registry can address content by. */
export function isDigest(value: string): value is Digest {
  return checkDigest(value).ok;
}

/** Builds a sha256 digest from a hex string as produced by a hasher (`digest('hex')`). */
export function sha256Digest(hex: string): Digest {
  const lower = hex.toLowerCase();
  if (!/^[a-f0-9]{64}$/.test(lower)) {
    throw new TypeError('sha256Digest expects 64 hex characters');
  }
  return `sha256:${lower}`;
}
