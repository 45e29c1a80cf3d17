import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDigest, parseDigest, parseDigestToRead, sha256Digest, tryParseDigest } from '../../worker/oci/digest.ts';
import { RegistryError } from '../../worker/oci/errors.ts';

const HEX64 = 'a'.repeat(63) + '0';
const HEX128 = '0123456789abcdef'.repeat(8);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RegistryError, `expected RegistryError, got ${String(error)}`);
    return error.code;
  }
  return undefined;
}

describe('parseDigest', () => {
  const valid: [string, 'sha256' | 'sha512', string][] = [
    [`sha256:${HEX64}`, 'sha256', HEX64],
    [`sha512:${HEX128}`, 'sha512', HEX128],
    ['sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'sha256',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ];
  for (const [input, algorithm, hex] of valid) {
    it(`accepts ${input.slice(0, 20)}…`, () => {
      assert.deepEqual(parseDigest(input), { algorithm, hex, digest: input });
      assert.deepEqual(tryParseDigest(input), { algorithm, hex, digest: input });
      assert.equal(isDigest(input), true);
    });
  }

  const invalid: [string, string][] = [
    ['empty', ''],
    ['no colon', HEX64],
    ['no algorithm', `:${HEX64}`],
    ['no encoded part', 'sha256:'],
    ['uppercase hex', `sha256:${HEX64.toUpperCase()}`],
    ['uppercase algorithm', `SHA256:${HEX64}`],
    ['short hex', `sha256:${HEX64.slice(1)}`],
    ['long hex', `sha256:${HEX64}0`],
    ['sha512 with 64 hex', `sha512:${HEX64}`],
    ['non-hex in sha256', `sha256:${'g'.repeat(64)}`],
    ['two colons', `sha256:${HEX64}:x`],
    ['leading space', ` sha256:${HEX64}`],
    ['trailing newline', `sha256:${HEX64}\n`],
    ['path traversal', 'sha256:../../etc/passwd'],
    ['slash in encoded', `sha256:${HEX64.slice(0, 32)}/${HEX64.slice(33)}`],
    ['unicode digits', `sha256:${'٠'.repeat(64)}`],
    ['trailing separator in algorithm', `sha256+:${HEX64}`],
    ['double separator in algorithm', `sha+-256:${HEX64}`],
    ['huge input', `sha256:${'a'.repeat(100_000)}`],
    ['NUL byte', `sha256:${HEX64.slice(1)}\u0000`],
  ];
  for (const [label, input] of invalid) {
    it(`rejects ${label} with DIGEST_INVALID`, () => {
      assert.equal(codeOf(() => parseDigest(input)), 'DIGEST_INVALID');
      assert.equal(codeOf(() => parseDigestToRead(input, 'BLOB_UNKNOWN')), 'DIGEST_INVALID', 'malformed is a bad request, read or write');
      assert.equal(tryParseDigest(input), null);
      assert.equal(isDigest(input), false);
    });
  }

  const unsupported = [`md5:${'a'.repeat(32)}`, `sha384:${'a'.repeat(96)}`, 'blake3:abc', `multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TUQeFs`];
  for (const input of unsupported) {
    it(`answers DIGEST_INVALID for ${input.split(':')[0]} where it is written, the caller's unknown code where it is read`, () => {
      assert.equal(codeOf(() => parseDigest(input)), 'DIGEST_INVALID');
      assert.equal(codeOf(() => parseDigestToRead(input, 'BLOB_UNKNOWN')), 'BLOB_UNKNOWN');
      assert.equal(tryParseDigest(input), null);
    });
  }

  it('keeps error details short for huge input', () => {
    try {
      parseDigest(`sha256:${'z'.repeat(50_000)}`);
      assert.fail('expected throw');
    } catch (error) {
      assert.ok(error instanceof RegistryError);
      assert.equal(error.status, 400);
      assert.ok(JSON.stringify(error.detail).length < 300);
    }
  });

  it('does not throw on non-string input in tryParseDigest', () => {
    for (const value of [null, undefined, 42, {}, []]) {
      assert.equal(tryParseDigest(value as unknown as string), null);
    }
  });
});

describe('sha256Digest', () => {
  it('prefixes the algorithm', () => assert.equal(sha256Digest(HEX64), `sha256:${HEX64}`));
  it('lowercases hex', () => assert.equal(sha256Digest(HEX64.toUpperCase()), `sha256:${HEX64}`));
  for (const bad of ['', 'abc', 'g'.repeat(64), HEX128]) {
    it(`refuses ${JSON.stringify(bad.slice(0, 10))} (len ${bad.length})`, () => {
      assert.throws(() => sha256Digest(bad), TypeError);
    });
  }
});
