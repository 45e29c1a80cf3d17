import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1,
  MANIFEST_MEDIA_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
  isIndexMediaType,
  isManifestMediaType,
  normalizeContentType,
} from '../../worker/oci/media-types.ts';

describe('manifest media types', () => {
  it('accepts exactly the four current manifest types', () => {
    assert.deepEqual([...MANIFEST_MEDIA_TYPES].sort(), [DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST].sort());
  });

  const kinds: [string | undefined, boolean, boolean][] = [
    [OCI_MANIFEST, true, false],
    [DOCKER_MANIFEST, true, false],
    [OCI_INDEX, false, true],
    [DOCKER_MANIFEST_LIST, false, true],
    [DOCKER_SCHEMA1, false, false],
    ['application/json', false, false],
    [OCI_MANIFEST.toUpperCase(), false, false],
    [undefined, false, false],
  ];
  for (const [type, manifest, index] of kinds) {
    it(`classifies ${type}`, () => {
      assert.equal(isManifestMediaType(type), manifest);
      assert.equal(isIndexMediaType(type), index);
    });
  }
});

describe('normalizeContentType', () => {
  const cases: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    ['', undefined],
    ['   ', undefined],
    [';charset=utf-8', undefined],
    [OCI_MANIFEST, OCI_MANIFEST],
    [`${OCI_MANIFEST}; charset=utf-8`, OCI_MANIFEST],
    [`  ${OCI_MANIFEST.toUpperCase()} ;x=y;z`, OCI_MANIFEST],
    ['Application/JSON', 'application/json'],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${JSON.stringify(expected)}`, () => assert.equal(normalizeContentType(header), expected));
  }
});
