import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../worker/oci/errors.ts';
import {
  assertName,
  assertTag,
  isValidName,
  isValidTag,
  parseReference,
} from '../../worker/oci/reference.ts';

const HEX64 = 'b'.repeat(64);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RegistryError, `expected RegistryError, got ${String(error)}`);
    return error.code;
  }
  return undefined;
}

describe('repository names', () => {
  const valid = [
    'a',
    'library/alpine',
    'my-org/my_app',
    'a/b/c/d/e/f',
    'foo.bar',
    'foo__bar',
    'foo---bar',
    'x1/y2',
    '0',
    'a'.repeat(254),
    `${'a'.repeat(127)}/${'b'.repeat(127)}`,
  ];
  for (const name of valid) {
    it(`accepts ${name.slice(0, 40)}`, () => {
      assert.equal(isValidName(name), true);
      assert.equal(assertName(name), name);
    });
  }

  const invalid: [string, string][] = [
    ['empty', ''],
    ['a component of 255 characters (one file name in the fs store)', 'a'.repeat(255)],
    ['uppercase', 'Library/Alpine'],
    ['leading slash', '/alpine'],
    ['trailing slash', 'alpine/'],
    ['double slash', 'a//b'],
    ['dot segment', 'a/./b'],
    ['dot-dot segment', '../etc/passwd'],
    ['embedded dot-dot', 'a/../b'],
    ['double dot', 'a..b'],
    ['triple underscore', 'a___b'],
    ['leading separator', '-abc'],
    ['trailing separator', 'abc-'],
    ['mixed separators', 'a._b'],
    ['space', 'a b'],
    ['colon', 'a:b'],
    ['at', 'a@b'],
    ['backslash', 'a\\b'],
    ['percent-encoded', 'a%2fb'],
    ['unicode letter', 'café'],
    ['unicode digit', 'a٣'],
    ['fullwidth', 'ａｂｃ'],
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['too long', 'a'.repeat(256)],
    ['very long', `${'ab/'.repeat(50_000)}c`],
  ];
  for (const [label, name] of invalid) {
    it(`rejects ${label}`, () => {
      assert.equal(isValidName(name), false);
      assert.equal(codeOf(() => assertName(name)), 'NAME_INVALID');
    });
  }

  it('carries the name (truncated) in the error detail', () => {
    try {
      assertName('X'.repeat(10_000));
      assert.fail('expected throw');
    } catch (error) {
      assert.ok(error instanceof RegistryError);
      assert.equal(error.status, 400);
      const detail = error.detail as { name: string };
      assert.ok(detail.name.startsWith('XXX') && detail.name.length < 200);
    }
  });

  it('rejects a pathological name quickly', () => {
    const started = performance.now();
    for (let i = 0; i < 1000; i++) isValidName(`${'a-'.repeat(120)}!`);
    assert.ok(performance.now() - started < 1000);
  });

  it('treats non-strings as invalid', () => {
    for (const value of [null, undefined, 1, {}, ['a']]) {
      assert.equal(isValidName(value as unknown as string), false);
    }
  });
});

describe('tags', () => {
  const valid = ['latest', 'v1.0.0', '_private', 'A', '1', 'a-b_c.d', 'x'.repeat(128), 'UPPER'];
  for (const tag of valid) {
    it(`accepts ${tag.slice(0, 20)}`, () => {
      assert.equal(isValidTag(tag), true);
      assert.equal(assertTag(tag), tag);
    });
  }

  const invalid: [string, string][] = [
    ['empty', ''],
    ['leading dot', '.hidden'],
    ['leading dash', '-x'],
    ['dot-dot', '..'],
    ['slash', 'a/b'],
    ['path traversal', '../../x'],
    ['colon', 'a:b'],
    ['at', 'a@b'],
    ['plus', 'v1+build'],
    ['space', 'a b'],
    ['unicode', 'ü'],
    ['129 chars', 'x'.repeat(129)],
    ['huge', 'x'.repeat(1_000_000)],
    ['trailing newline', 'latest\n'],
  ];
  for (const [label, tag] of invalid) {
    it(`rejects ${label}`, () => {
      assert.equal(isValidTag(tag), false);
      assert.equal(codeOf(() => assertTag(tag)), 'TAG_INVALID');
    });
  }
});

describe('parseReference', () => {
  it('parses a tag', () => assert.deepEqual(parseReference('latest'), { kind: 'tag', tag: 'latest' }));
  it('parses a digest', () =>
    assert.deepEqual(parseReference(`sha256:${HEX64}`), { kind: 'digest', digest: `sha256:${HEX64}` }));

  const cases: [string, string, string][] = [
    ['bad tag', '.bad', 'TAG_INVALID'],
    ['empty', '', 'TAG_INVALID'],
    ['long tag', 'x'.repeat(200), 'TAG_INVALID'],
    ['malformed digest', 'sha256:xyz', 'DIGEST_INVALID'],
    ['uppercase digest', `sha256:${HEX64.toUpperCase()}`, 'DIGEST_INVALID'],
    ['colon only', ':', 'DIGEST_INVALID'],
    ['tag-like with colon (grammatical digest, unknown algorithm)', 'v1:2', 'DIGEST_INVALID'],
    ['tag-like with colon and dot', 'v1:2.0', 'DIGEST_INVALID'],
    ['unsupported algorithm', `md5:${'a'.repeat(32)}`, 'DIGEST_INVALID'],
  ];
  for (const [label, ref, code] of cases) {
    it(`rejects ${label} with ${code}`, () => assert.equal(codeOf(() => parseReference(ref)), code));
  }
  it('a pull or delete of an unsupported algorithm finds nothing; a malformed digest stays a bad request', () => {
    assert.equal(codeOf(() => parseReference(`md5:${'a'.repeat(32)}`, 'MANIFEST_UNKNOWN')), 'MANIFEST_UNKNOWN');
    assert.equal(codeOf(() => parseReference('sha256:xyz', 'MANIFEST_UNKNOWN')), 'DIGEST_INVALID');
  });
});
