/**
 * The digest of a small in-memory body (manifests), through WebCrypto so it runs everywhere.
 * sha256 is canonical; sha512 is the other algorithm the image-spec registers, and a manifest
 * pushed by a sha512 digest is verified and addressed with it (distribution-spec "Pushing
 * manifests": the digest in the reference is computed over the exact bytes).
 */
import { parseDigest, type DigestAlgorithm, type ParsedDigest } from '../oci/digest.ts';

const WEBCRYPTO_NAME: Record<DigestAlgorithm, string> = { sha256: 'SHA-256', sha512: 'SHA-512' };

export async function digestBytes(bytes: Uint8Array<ArrayBuffer>, algorithm: DigestAlgorithm = 'sha256'): Promise<ParsedDigest> {
  const digest = new Uint8Array(await crypto.subtle.digest(WEBCRYPTO_NAME[algorithm], bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return parseDigest(`${algorithm}:${hex}`);
}
