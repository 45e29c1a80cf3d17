import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../../worker/oci/errors.ts';
import {
  blobsToCheck,
  parseManifest,
  referrerDescriptor,
  type Descriptor,
} from '../../worker/oci/manifest.ts';
import {
  DOCKER_FOREIGN_LAYER,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  DOCKER_SCHEMA1,
  DOCKER_SCHEMA1_SIGNED,
  OCI_EMPTY,
  OCI_INDEX,
  OCI_MANIFEST,
  OCI_NONDISTRIBUTABLE_LAYER_GZIP,
} from '../../worker/oci/media-types.ts';

const d = (c: string) => `sha256:${c.repeat(64)}` as const;
const CONFIG: Descriptor = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('1'), size: 100 };
const LAYER: Descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('2'), size: 2000 };
const CHILD: Descriptor = { mediaType: OCI_MANIFEST, digest: d('3'), size: 500, platform: { os: 'linux', architecture: 'amd64' } };

const bytes = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));

const image = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2, mediaType: OCI_MANIFEST, config: CONFIG, layers: [LAYER], ...extra,
});
const index = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2, mediaType: OCI_INDEX, manifests: [CHILD], ...extra,
});

function reasonOf(body: Uint8Array, contentType: string | undefined): string {
  try {
    parseManifest(body, contentType);
  } catch (error) {
    assert.ok(error instanceof RegistryError, `expected RegistryError, got ${String(error)}`);
    assert.equal(error.code, 'MANIFEST_INVALID');
    assert.equal(error.status, 400);
    return error.message;
  }
  return assert.fail('expected MANIFEST_INVALID');
}

describe('parseManifest accepts', () => {
  it('an OCI image manifest', () => {
    const m = parseManifest(bytes(image()), OCI_MANIFEST);
    assert.equal(m.kind, 'image');
    assert.equal(m.mediaType, OCI_MANIFEST);
    assert.deepEqual(m.config, CONFIG);
    assert.deepEqual(m.layers, [LAYER]);
    assert.deepEqual(m.manifests, []);
    assert.equal(m.subject, undefined);
  });

  it('an OCI index', () => {
    const m = parseManifest(bytes(index()), OCI_INDEX);
    assert.equal(m.kind, 'index');
    assert.deepEqual(m.manifests, [CHILD]);
    assert.deepEqual(m.layers, []);
    assert.equal(m.config, undefined);
  });

  it('a Docker v2 manifest', () => {
    const m = parseManifest(bytes(image({ mediaType: DOCKER_MANIFEST, config: { ...CONFIG, mediaType: 'application/vnd.docker.container.image.v1+json' } })), DOCKER_MANIFEST);
    assert.equal(m.kind, 'image');
    assert.equal(m.mediaType, DOCKER_MANIFEST);
  });

  it('a Docker manifest list', () => {
    const m = parseManifest(bytes(index({ mediaType: DOCKER_MANIFEST_LIST })), DOCKER_MANIFEST_LIST);
    assert.equal(m.kind, 'index');
  });

  const contentTypes: [string, unknown, string | undefined, string][] = [
    ['Content-Type with charset', image(), `${OCI_MANIFEST}; charset=utf-8`, OCI_MANIFEST],
    ['Content-Type in upper case', image(), OCI_MANIFEST.toUpperCase(), OCI_MANIFEST],
    ['body mediaType, no Content-Type', image(), undefined, OCI_MANIFEST],
    ['body mediaType, application/json', image(), 'application/json', OCI_MANIFEST],
    ['body mediaType, octet-stream', index(), 'application/octet-stream', OCI_INDEX],
    ['no body mediaType, Content-Type given', image({ mediaType: undefined }), OCI_MANIFEST, OCI_MANIFEST],
    ['no body mediaType, Docker Content-Type', image({ mediaType: undefined }), DOCKER_MANIFEST, DOCKER_MANIFEST],
    ['inferred image', image({ mediaType: undefined }), undefined, OCI_MANIFEST],
    ['inferred index', index({ mediaType: undefined }), 'application/json', OCI_INDEX],
  ];
  for (const [label, body, contentType, expected] of contentTypes) {
    it(label, () => assert.equal(parseManifest(bytes(body), contentType).mediaType, expected));
  }

  it('an artifact with empty layers, artifactType, subject and annotations', () => {
    const subject = { mediaType: OCI_MANIFEST, digest: d('9'), size: 10 };
    const m = parseManifest(bytes(image({
      config: { mediaType: OCI_EMPTY, digest: d('4'), size: 2 },
      layers: [],
      artifactType: 'application/vnd.example.sbom',
      subject,
      annotations: { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
    })), OCI_MANIFEST);
    assert.deepEqual(m.layers, []);
    assert.deepEqual(m.subject, subject);
    assert.equal(m.artifactType, 'application/vnd.example.sbom');
    assert.deepEqual(m.annotations, { 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' });
  });

  it('an index with a subject and no children', () => {
    const m = parseManifest(bytes(index({ manifests: [], subject: { mediaType: OCI_MANIFEST, digest: d('9'), size: 10 } })), OCI_INDEX);
    assert.deepEqual(m.manifests, []);
    assert.ok(m.subject);
  });

  it('unknown fields and descriptor extras (urls, annotations, sha512)', () => {
    const layer = { ...LAYER, digest: `sha512:${'c'.repeat(128)}`, urls: ['https://example.com/l'], annotations: { a: 'b' }, data: 'e30=' };
    const m = parseManifest(bytes(image({ layers: [layer], extraField: { nested: [1, 2] } })), OCI_MANIFEST);
    assert.deepEqual(m.layers[0], { mediaType: LAYER.mediaType, digest: layer.digest, size: LAYER.size, urls: layer.urls, annotations: { a: 'b' } });
  });

  it('a "__proto__" annotation as plain data', () => {
    const m = parseManifest(bytes('{"schemaVersion":2,"mediaType":"' + OCI_INDEX + '","manifests":[],"annotations":{"__proto__":"x"}}'), OCI_INDEX);
    assert.equal(Object.getPrototypeOf(m.annotations), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(m.annotations, '__proto__')?.value, 'x');
  });

  it('size 0 and the largest safe size', () => {
    const m = parseManifest(bytes(image({ layers: [{ ...LAYER, size: 0 }, { ...LAYER, size: Number.MAX_SAFE_INTEGER }] })), OCI_MANIFEST);
    assert.deepEqual(m.layers.map((l) => l.size), [0, Number.MAX_SAFE_INTEGER]);
  });
});

describe('parseManifest rejects', () => {
  const cases: [string, Uint8Array, string | undefined, RegExp][] = [
    ['empty body', new Uint8Array(), OCI_MANIFEST, /JSON/],
    ['invalid UTF-8', new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), OCI_MANIFEST, /UTF-8/],
    ['a BOM', new Uint8Array([0xef, 0xbb, 0xbf, ...bytes(image())]), OCI_MANIFEST, /JSON/],
    ['truncated JSON', bytes(JSON.stringify(image()).slice(0, -1)), OCI_MANIFEST, /JSON/],
    ['a JSON array', bytes([image()]), OCI_MANIFEST, /object/],
    ['JSON null', bytes('null'), OCI_MANIFEST, /object/],
    ['a JSON string', bytes('"manifest"'), OCI_MANIFEST, /object/],
    ['a JSON number', bytes('2'), OCI_MANIFEST, /object/],
    ['schemaVersion 3', bytes(image({ schemaVersion: 3 })), OCI_MANIFEST, /schemaVersion/],
    ['schemaVersion "2"', bytes(image({ schemaVersion: '2' })), OCI_MANIFEST, /schemaVersion/],
    ['missing schemaVersion', bytes(image({ schemaVersion: undefined })), OCI_MANIFEST, /schemaVersion/],
    ['schema 1 by schemaVersion', bytes({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), undefined, /schema 1/],
    ['schema 1 Content-Type', bytes({ schemaVersion: 1, name: 'x' }), DOCKER_SCHEMA1, /schema 1/],
    ['signed schema 1 Content-Type', bytes({ schemaVersion: 1 }), DOCKER_SCHEMA1_SIGNED, /schema 1/],
    ['schema 1 body mediaType', bytes(image({ mediaType: DOCKER_SCHEMA1 })), undefined, /schema 1/],
    ['unknown media type', bytes(image({ mediaType: 'application/vnd.example+json' })), undefined, /unsupported manifest media type/],
    ['unknown Content-Type', bytes(image({ mediaType: undefined })), 'text/plain', /unsupported manifest media type/],
    ['mismatched mediaType', bytes(image()), OCI_INDEX, /does not match/],
    ['Docker body, OCI Content-Type', bytes(image({ mediaType: DOCKER_MANIFEST })), OCI_MANIFEST, /does not match/],
    ['mediaType not a string', bytes(image({ mediaType: 42 })), undefined, /mediaType must be a string/],
    ['neither mediaType nor shape', bytes({ schemaVersion: 2, layers: [] }), undefined, /no mediaType/],
    ['image without config', bytes(image({ config: undefined })), OCI_MANIFEST, /config/],
    ['image without layers', bytes(image({ layers: undefined })), OCI_MANIFEST, /layers/],
    ['layers not an array', bytes(image({ layers: { 0: LAYER } })), OCI_MANIFEST, /layers must be an array/],
    ['layers null', bytes(image({ layers: null })), OCI_MANIFEST, /layers must be an array/],
    ['index without manifests', bytes(index({ manifests: undefined })), OCI_INDEX, /manifests/],
    ['index shaped as image', bytes(image({ mediaType: OCI_INDEX })), OCI_INDEX, /manifests/],
    ['config null', bytes(image({ config: null })), OCI_MANIFEST, /config must be a descriptor/],
    ['config an array', bytes(image({ config: [CONFIG] })), OCI_MANIFEST, /config must be a descriptor/],
    ['layer a string', bytes(image({ layers: ['sha256:abc'] })), OCI_MANIFEST, /layers\[0\]/],
    ['missing mediaType', bytes(image({ layers: [{ digest: LAYER.digest, size: 1 }] })), OCI_MANIFEST, /layers\[0\]\.mediaType/],
    ['mediaType not a media type', bytes(image({ layers: [{ ...LAYER, mediaType: 'not a type' }] })), OCI_MANIFEST, /mediaType/],
    ['empty mediaType', bytes(image({ config: { ...CONFIG, mediaType: '' } })), OCI_MANIFEST, /config\.mediaType/],
    ['malformed digest', bytes(image({ layers: [{ ...LAYER, digest: 'sha256:xyz' }] })), OCI_MANIFEST, /digest/],
    ['uppercase digest', bytes(image({ layers: [{ ...LAYER, digest: LAYER.digest.toUpperCase() }] })), OCI_MANIFEST, /digest/],
    ['unsupported digest', bytes(image({ layers: [{ ...LAYER, digest: `md5:${'a'.repeat(32)}` }] })), OCI_MANIFEST, /digest/],
    ['traversal digest', bytes(image({ config: { ...CONFIG, digest: '../../../blobs' } })), OCI_MANIFEST, /digest/],
    ['numeric digest', bytes(image({ config: { ...CONFIG, digest: 123 } })), OCI_MANIFEST, /digest/],
    ['negative size', bytes(image({ layers: [{ ...LAYER, size: -1 }] })), OCI_MANIFEST, /size/],
    ['fractional size', bytes(image({ layers: [{ ...LAYER, size: 1.5 }] })), OCI_MANIFEST, /size/],
    ['string size', bytes(image({ layers: [{ ...LAYER, size: '100' }] })), OCI_MANIFEST, /size/],
    ['huge size', bytes(image({ layers: [{ ...LAYER, size: 2 ** 53 }] })), OCI_MANIFEST, /size/],
    ['1e400 size', bytes(JSON.stringify(image()).replace('"size":2000', '"size":1e400')), OCI_MANIFEST, /size/],
    ['missing size', bytes(image({ layers: [{ mediaType: LAYER.mediaType, digest: LAYER.digest }] })), OCI_MANIFEST, /size/],
    ['urls not strings', bytes(image({ layers: [{ ...LAYER, urls: [1] }] })), OCI_MANIFEST, /urls/],
    ['urls a string', bytes(image({ layers: [{ ...LAYER, urls: 'https://x' }] })), OCI_MANIFEST, /urls/],
    ['annotation not a string', bytes(image({ annotations: { a: 1 } })), OCI_MANIFEST, /annotations/],
    ['annotations an array', bytes(image({ annotations: ['a'] })), OCI_MANIFEST, /annotations/],
    ['descriptor annotation null', bytes(image({ layers: [{ ...LAYER, annotations: { a: null } }] })), OCI_MANIFEST, /annotations/],
    ['platform a string', bytes(index({ manifests: [{ ...CHILD, platform: 'linux' }] })), OCI_INDEX, /platform/],
    ['subject malformed', bytes(image({ subject: { mediaType: OCI_MANIFEST, digest: 'nope', size: 1 } })), OCI_MANIFEST, /subject\.digest/],
    ['subject null', bytes(image({ subject: null })), OCI_MANIFEST, /subject/],
    ['artifactType a number', bytes(image({ artifactType: 7 })), OCI_MANIFEST, /artifactType/],
    ['descriptor artifactType garbage', bytes(index({ manifests: [{ ...CHILD, artifactType: '???' }] })), OCI_INDEX, /artifactType/],
  ];
  for (const [label, body, contentType, pattern] of cases) {
    it(label, () => assert.match(reasonOf(body, contentType), pattern));
  }

  it('deeply nested JSON without crashing', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const body = bytes(`{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":${JSON.stringify(CONFIG)},"layers":[],"x":${deep}}`);
    // Either parsed (unknown field ignored) or refused as invalid; never an uncaught crash.
    try {
      assert.equal(parseManifest(body, OCI_MANIFEST).kind, 'image');
    } catch (error) {
      assert.ok(error instanceof RegistryError);
    }
  });

  it('a long unknown media type without echoing all of it', () => {
    const message = reasonOf(bytes(image({ mediaType: `application/${'x'.repeat(10_000)}` })), undefined);
    assert.ok(message.length < 300);
  });
});

describe('blobsToCheck', () => {
  it('lists config then layers', () => {
    const m = parseManifest(bytes(image({ layers: [LAYER, { ...LAYER, digest: d('5') }] })), OCI_MANIFEST);
    assert.deepEqual(blobsToCheck(m).map((b) => b.digest), [d('1'), d('2'), d('5')]);
  });

  it('skips foreign and non-distributable layers that carry urls', () => {
    const foreign = { mediaType: DOCKER_FOREIGN_LAYER, digest: d('6'), size: 1, urls: ['https://example.com/a'] };
    const nondist = { mediaType: OCI_NONDISTRIBUTABLE_LAYER_GZIP, digest: d('7'), size: 1, urls: ['https://example.com/b'] };
    const m = parseManifest(bytes(image({ layers: [foreign, LAYER, nondist] })), OCI_MANIFEST);
    assert.deepEqual(blobsToCheck(m).map((b) => b.digest), [d('1'), d('2')]);
  });

  it('checks foreign layers without urls and ordinary layers with urls', () => {
    const foreign = { mediaType: DOCKER_FOREIGN_LAYER, digest: d('6'), size: 1 };
    const emptyUrls = { mediaType: DOCKER_FOREIGN_LAYER, digest: d('8'), size: 1, urls: [] };
    const ordinary = { ...LAYER, urls: ['https://example.com/c'] };
    const m = parseManifest(bytes(image({ layers: [foreign, emptyUrls, ordinary] })), OCI_MANIFEST);
    assert.deepEqual(blobsToCheck(m).map((b) => b.digest), [d('1'), d('6'), d('8'), d('2')]);
  });

  it('is empty for an index', () => {
    assert.deepEqual(blobsToCheck(parseManifest(bytes(index()), OCI_INDEX)), []);
  });
});

describe('referrerDescriptor', () => {
  const digest = d('a');
  it('uses artifactType when set', () => {
    const m = parseManifest(bytes(image({ artifactType: 'application/vnd.example.sig', annotations: { k: 'v' } })), OCI_MANIFEST);
    assert.deepEqual(referrerDescriptor(m, digest, 321), {
      mediaType: OCI_MANIFEST, digest, size: 321, artifactType: 'application/vnd.example.sig', annotations: { k: 'v' },
    });
  });

  it('falls back to the config mediaType for images and omits absent annotations', () => {
    const m = parseManifest(bytes(image()), OCI_MANIFEST);
    const descriptor = referrerDescriptor(m, digest, 1);
    assert.deepEqual(descriptor, { mediaType: OCI_MANIFEST, digest, size: 1, artifactType: CONFIG.mediaType });
    assert.equal('annotations' in descriptor, false);
  });

  it('has no artifactType for an index without one', () => {
    const descriptor = referrerDescriptor(parseManifest(bytes(index()), OCI_INDEX), digest, 5);
    assert.deepEqual(descriptor, { mediaType: OCI_INDEX, digest, size: 5 });
    assert.equal('artifactType' in descriptor, false);
  });

  it('keeps an index artifactType', () => {
    const m = parseManifest(bytes(index({ artifactType: 'application/vnd.example.bundle' })), OCI_INDEX);
    assert.equal(referrerDescriptor(m, digest, 5).artifactType, 'application/vnd.example.bundle');
  });
});
