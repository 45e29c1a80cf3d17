/**
 * The checks of the newer, restructured OCI conformance suite (opencontainers/distribution-spec
 * `conformance/`: run.go, api.go, testdata.go, config.go) that test/api/conformance.test.ts (the
 * older workflows) does not make, against a real Berth Node server. Written from the suite's
 * documented behaviour; no code of theirs is used.
 *
 * What the newer suite adds, and this file replays:
 * - Every blob push API run once per digest algorithm, sha256 and sha512 (sha512 is on by default
 *   in its 1.1 profile): POST with body, POST+PUT, chunked (one chunk, three chunks, last chunk in
 *   the PUT, out-of-order chunks recovered through GET on the upload), streamed PATCH, mount with
 *   `from`, mount without `from`, mount of a blob the source lacks, upload cancel. After each:
 *   HEAD (200, empty body, Content-Length, Docker-Content-Digest), GET, DELETE then HEAD → 404.
 * - Range GETs (206 with Content-Length and Content-Range; 416 for `500-0` and past the end).
 * - The empty blob and `{}`; a corrupted body under every push API → 400.
 * - Data sets pushed by digest then by tag and checked by tag list (with `last`), HEAD and GET
 *   (Content-Type = the manifest's mediaType, Content-Length, digest header), referrers (with the
 *   artifactType filter), then deleted (tags, manifests in reverse, blobs) with a HEAD → 404
 *   after each delete: image, uncompressed image, a ~3.9 MB manifest, index, nested index, empty
 *   index, artifacts, artifact index, subjects, missing subject, `data` fields, non-distributable
 *   layers, unknown fields, no layers, an all-sha512 index, a manifest whose digest mismatches.
 * - Manifest errors: unknown digest or tag → 404; PUT to `sha256:baddigeststring` → 400.
 * - The "1.1+dev" profile: PUT manifest by digest with `?tag=` parameters answers `OCI-Tag`.
 *
 * The suite's client sends Basic credentials when challenged for Basic and follows Bearer
 * challenges; Berth accepts Basic on /v2, so this file sends Basic up front and leaves token
 * flows to the auth suite.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ADMIN } from '../support/targets.ts';
import { assertBlobGetsRedirected, CONFORMANCE_DEPLOYMENTS, type Deployed } from '../support/conformance-deployments.ts';
import { goCopiesAuthorization, REDIRECT_STATUSES } from '../support/go-redirect.ts';
import { OCI_INDEX, OCI_MANIFEST } from '../support/registry-client.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15900);
const REPO1 = 'conformance/repo1';
const REPO2 = 'conformance/repo2';
const OCTET = 'application/octet-stream';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar';
const LAYER_GZ = 'application/vnd.oci.image.layer.v1.tar+gzip';
const LAYER_ND = 'application/vnd.oci.image.layer.nondistributable.v1.tar';
const LAYER_ND_GZ = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';
const EXAMPLE1 = 'application/vnd.example.oci.conformance.v1';
const EXAMPLE2 = 'application/vnd.example.oci.conformance.v2';
/** The suite's smallest chunk when the registry states no OCI-Chunk-Min-Length. */
const CHUNK_MIN = 1024;

type Algo = 'sha256' | 'sha512';

function digestOf(algo: Algo, bytes: Uint8Array | string): string {
  return `${algo}:${createHash(algo).update(bytes).digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP: raw requests so Content-Length, chunked framing and repeated headers are exact.

interface Reply {
  status: number;
  body: Buffer;
  header(name: string): string;
  /** The answer came from where a redirect led (the store, for a blob GET on S3). */
  redirected: boolean;
}

interface Send {
  headers?: Record<string, string | string[]>;
  body?: Uint8Array | string;
  /** Send the body with Transfer-Encoding: chunked and no Content-Length (Go does for an unknown length). */
  streamed?: boolean;
  /** State `Content-Length: 0` on a bodiless request (Go does for POST/PUT/PATCH). */
  zeroLength?: boolean;
  /** Send no Authorization (a redirect to another host). */
  dropAuthorization?: boolean;
}

let base = '';
const BASIC = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

function send(method: string, path: string, options: Send = {}, redirects = 0): Promise<Reply> {
  const url = new URL(path, base);
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const headers: Record<string, string | string[]> = { Authorization: BASIC, ...options.headers };
  if (options.dropAuthorization) delete headers.Authorization;
  if (body && !options.streamed) headers['Content-Length'] = String(body.length);
  if (!body && (options.zeroLength ?? ['POST', 'PUT', 'PATCH'].includes(method))) headers['Content-Length'] = '0';
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const location = res.headers.location;
        // The suite's Go client follows redirects of GET and HEAD (blob GETs may answer 307 to
        // the store), keeping Authorization when the new host name is the same, ports aside.
        if (REDIRECT_STATUSES.includes(res.statusCode ?? 0) && location && redirects < 10 && (method === 'GET' || method === 'HEAD')) {
          const next = new URL(location, url);
          const dropAuthorization = !goCopiesAuthorization(url, next);
          send(method, next.toString(), { headers: options.headers, dropAuthorization }, redirects + 1)
            .then((reply) => resolve({ ...reply, redirected: true }), reject);
          return;
        }
        resolve({
          status: res.statusCode ?? 0,
          redirected: false,
          body: Buffer.concat(chunks),
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value ?? '';
          },
        });
      });
    });
    req.on('error', reject);
    if (body && options.streamed) {
      // Two writes: the server must see a genuinely framed stream, not one buffer.
      const half = Math.floor(body.length / 2);
      req.write(body.subarray(0, half));
      req.end(body.subarray(half));
    } else {
      req.end(body);
    }
  });
}

function explain(reply: Reply): string {
  return `${reply.status} ${reply.body.toString().slice(0, 300)}`;
}

function errorCode(reply: Reply): string | undefined {
  try {
    return (JSON.parse(reply.body.toString()) as { errors?: { code?: string }[] }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

/** A Location resolved against the request URL, with the query parameters added. */
function at(location: string, query: Record<string, string | string[]> = {}): string {
  assert.ok(location, 'Location header expected');
  const url = new URL(location, base);
  for (const [key, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(key, one);
  }
  return url.pathname + url.search;
}

const MANIFEST_ACCEPT = [OCI_INDEX, OCI_MANIFEST];

// ---------------------------------------------------------------------------------------------
// Blob push APIs, as api.go drives them. Each resolves with the final response.

async function pushPostOnly(repo: string, dig: string, bytes: Buffer): Promise<Reply> {
  return send('POST', `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(dig)}`, {
    body: bytes,
    headers: { 'Content-Type': OCTET },
  });
}

async function startSession(repo: string): Promise<Reply> {
  const post = await send('POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(post.status, 202, explain(post));
  assert.ok(post.header('location'), 'POST must answer a Location');
  return post;
}

async function pushPostPut(repo: string, dig: string, bytes: Buffer): Promise<Reply> {
  const post = await startSession(repo);
  return send('PUT', at(post.header('location'), { digest: dig }), { body: bytes, headers: { 'Content-Type': OCTET } });
}

async function pushStream(repo: string, dig: string, bytes: Buffer): Promise<Reply> {
  const post = await startSession(repo);
  const patch = await send('PATCH', at(post.header('location')), { body: bytes, streamed: true, headers: { 'Content-Type': OCTET } });
  assert.equal(patch.status, 202, explain(patch));
  return send('PUT', at(patch.header('location'), { digest: dig }), { headers: { 'Content-Type': OCTET } });
}

interface ChunkedOptions {
  putLastChunk?: boolean;
  outOfOrder?: boolean;
  /** Filled with the OCI-Chunk-Min-Length the POST answered. */
  minLength?: { value: string };
}

async function pushChunked(repo: string, dig: string, bytes: Buffer, opts: ChunkedOptions = {}): Promise<Reply> {
  const post = await startSession(repo);
  const minHeader = post.header('oci-chunk-min-length');
  if (opts.minLength) opts.minLength.value = minHeader;
  let chunkSize = Math.floor(bytes.length / 3) + 1;
  if (minHeader) chunkSize = Math.max(chunkSize, Number(minHeader));
  chunkSize = Math.min(Math.max(chunkSize, CHUNK_MIN), bytes.length);
  let location = post.header('location');
  let lastByte = -1;
  let final: Reply | undefined;
  while (lastByte < bytes.length - 1) {
    if (opts.outOfOrder) {
      // Skip ahead a chunk (or back to the start): 416, then recover the offset with GET.
      let badStart = lastByte + 1 + chunkSize;
      if (badStart >= bytes.length) badStart = 0;
      const badLast = Math.min(badStart + chunkSize - 1, bytes.length - 1);
      const asPut = opts.putLastChunk && badLast === bytes.length - 1;
      const path = asPut ? at(location, { digest: dig }) : at(location);
      const bad = await send(asPut ? 'PUT' : 'PATCH', path, {
        body: bytes.subarray(badStart, badLast + 1),
        headers: { 'Content-Type': OCTET, 'Content-Range': `${badStart}-${badLast}` },
      });
      assert.equal(bad.status, 416, `out-of-order ${badStart}-${badLast}: ${explain(bad)}`);
      const status = await send('GET', path);
      assert.equal(status.status, 204, `upload status: ${explain(status)}`);
      const range = status.header('range');
      assert.ok(range.startsWith('0-'), `Range must start with 0-: "${range}"`);
      if (lastByte >= 0) assert.equal(Number(range.slice(2)), lastByte, `Range after ${lastByte + 1} bytes`);
      location = status.header('location');
    }
    const start = lastByte + 1;
    lastByte = Math.min(start + chunkSize - 1, bytes.length - 1);
    const isLast = lastByte === bytes.length - 1;
    const viaPut = opts.putLastChunk && isLast;
    const res = await send(viaPut ? 'PUT' : 'PATCH', viaPut ? at(location, { digest: dig }) : at(location), {
      body: bytes.subarray(start, lastByte + 1),
      headers: { 'Content-Type': OCTET, 'Content-Range': `${start}-${lastByte}` },
    });
    if (viaPut) {
      final = res;
    } else {
      assert.equal(res.status, 202, `chunk ${start}-${lastByte}: ${explain(res)}`);
      location = res.header('location');
    }
  }
  return final ?? send('PUT', at(location, { digest: dig }), { headers: { 'Content-Type': OCTET } });
}

/** A successful push: 201, a Location that serves the bytes, the digest header when sent (required in 1.1+dev). */
async function assertPushed(reply: Reply, dig: string, bytes: Buffer): Promise<void> {
  assert.equal(reply.status, 201, explain(reply));
  assert.equal(reply.header('docker-content-digest'), dig, 'Docker-Content-Digest on the 201');
  const get = await send('GET', at(reply.header('location')));
  assert.equal(get.status, 200, explain(get));
  assert.deepEqual(get.body, bytes);
}

async function assertBlobReadable(repo: string, dig: string, bytes: Buffer): Promise<void> {
  const head = await send('HEAD', `/v2/${repo}/blobs/${dig}`);
  assert.equal(head.status, 200, `HEAD ${dig}`);
  assert.equal(head.body.length, 0);
  assert.equal(head.header('content-length'), String(bytes.length));
  assert.equal(head.header('docker-content-digest'), dig);
  const get = await send('GET', `/v2/${repo}/blobs/${dig}`);
  assert.equal(get.status, 200, explain(get));
  assert.equal(get.header('content-length'), String(bytes.length));
  // api.go VerifyDigest: a digest header, when there is one, must match; at the 1.1 profile a
  // blob GET may lack it, as the store's answer after a redirect does.
  if (!get.redirected || get.header('docker-content-digest')) assert.equal(get.header('docker-content-digest'), dig);
  assert.deepEqual(get.body, bytes);
}

async function deleteBlobAndCheck(repo: string, dig: string): Promise<void> {
  const del = await send('DELETE', `/v2/${repo}/blobs/${dig}`);
  assert.equal(del.status, 202, explain(del));
  const head = await send('HEAD', `/v2/${repo}/blobs/${dig}`);
  assert.equal(head.status, 404, 'blob delete must take effect at once');
}

// ---------------------------------------------------------------------------------------------
// Test data, built as testdata.go describes it.

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  data?: string;
  urls?: string[];
  platform?: Record<string, string>;
}

interface Gen {
  algo?: Algo;
  tag?: string;
  layerCount?: number;
  layerMediaType?: string;
  layerBytes?: Buffer;
  configMediaType?: string;
  configBytes?: Buffer;
  artifactType?: string;
  annotations?: Record<string, string>;
  annotationUniq?: boolean;
  subject?: Descriptor;
  setData?: boolean;
  extraField?: boolean;
  compress?: boolean;
  platform?: Record<string, string>;
  platforms?: Record<string, string>[];
}

class TestData {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, Buffer>();
  readonly manOrder: string[] = [];
  readonly tags = new Map<string, string>();
  readonly referrers = new Map<string, Descriptor[]>();
  readonly desc = new Map<string, Descriptor>();
  /** Manifests whose push must fail with 400 (bad digest); they are not pulled. */
  readonly badDigest = new Set<string>();

  addBlob(bytes: Buffer, mediaType: string, g: Gen): string {
    const dig = digestOf(g.algo ?? 'sha256', bytes);
    this.blobs.set(dig, bytes);
    this.desc.set(dig, this.describe(mediaType, dig, bytes, g));
    return dig;
  }

  private describe(mediaType: string, digest: string, bytes: Buffer, g: Gen): Descriptor {
    const d: Descriptor = { mediaType, digest, size: bytes.length };
    if (g.setData) d.data = bytes.toString('base64');
    return d;
  }

  /** A gzip (or plain) layer; returns [stored digest, uncompressed digest]. */
  genLayer(n: number, g: Gen): [string, string] {
    const file = Buffer.from(`Conformance test file contents for file number ${n}.\nTodays lucky number is ${randomUUID()}\n`);
    const algo = g.algo ?? 'sha256';
    if (g.compress === false) {
      const dig = this.addBlob(file, LAYER, g);
      return [dig, dig];
    }
    const dig = this.addBlob(gzipSync(file), LAYER_GZ, g);
    return [dig, digestOf(algo, file)];
  }

  genConfig(platform: Record<string, string>, diffIds: string[], g: Gen): string {
    const config: Record<string, unknown> = { author: 'OCI Conformance Test', ...platform, rootfs: { type: 'layers', diff_ids: diffIds } };
    if (g.extraField) config[`unknown-${randomUUID()}`] = randomUUID();
    return this.addBlob(Buffer.from(JSON.stringify(config)), OCI_CONFIG, g);
  }

  genManifest(config: Descriptor, layers: Descriptor[], g: Gen): string {
    const m: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_MANIFEST };
    if (g.artifactType) m.artifactType = g.artifactType;
    m.config = config;
    m.layers = layers;
    if (g.subject) m.subject = g.subject;
    const annotations = { ...g.annotations };
    if (g.annotationUniq) annotations[`org.example.${randomUUID()}`] = randomUUID();
    if (Object.keys(annotations).length > 0) m.annotations = annotations;
    if (g.extraField) m[`unknown-${randomUUID()}`] = { nested: randomUUID() };
    return this.addManifest(m, config.mediaType, g);
  }

  genIndex(platforms: (Record<string, string> | undefined)[], children: string[], g: Gen): string {
    const m: Record<string, unknown> = { schemaVersion: 2, mediaType: OCI_INDEX };
    if (g.artifactType) m.artifactType = g.artifactType;
    m.manifests = children.map((dig, i) => {
      const d = { ...this.desc.get(dig)! };
      const platform = platforms[i];
      if (platform) d.platform = platform;
      return d;
    });
    if (g.subject) m.subject = g.subject;
    const annotations = { ...g.annotations };
    if (g.annotationUniq) annotations[`org.example.${randomUUID()}`] = randomUUID();
    if (Object.keys(annotations).length > 0) m.annotations = annotations;
    if (g.extraField) m[`unknown-${randomUUID()}`] = [randomUUID()];
    return this.addManifest(m, undefined, g);
  }

  private addManifest(m: Record<string, unknown>, configMediaType: string | undefined, g: Gen): string {
    const body = Buffer.from(JSON.stringify(m));
    const dig = digestOf(g.algo ?? 'sha256', body);
    const mediaType = m.mediaType as string;
    this.manifests.set(dig, body);
    this.manOrder.push(dig);
    this.desc.set(dig, this.describe(mediaType, dig, body, g));
    if (g.subject) {
      const list = this.referrers.get(g.subject.digest) ?? [];
      const entry: Descriptor = { mediaType, digest: dig, size: body.length };
      const artifactType = g.artifactType ?? configMediaType;
      if (artifactType) entry.artifactType = artifactType;
      if (m.annotations) entry.annotations = m.annotations as Record<string, string>;
      list.push(entry);
      this.referrers.set(g.subject.digest, list);
    }
    if (g.tag) this.tags.set(g.tag, dig);
    return dig;
  }

  genManifestFull(g: Gen = {}): string {
    const layerCount = g.layerCount ?? 2;
    const stored: string[] = [];
    const diffIds: string[] = [];
    for (let i = 0; i < layerCount; i++) {
      if (!g.layerMediaType || g.layerMediaType.startsWith('application/vnd.oci.image.layer.v1.')) {
        const [dig, diffId] = this.genLayer(i, g);
        stored.push(dig);
        diffIds.push(diffId);
      } else {
        const dig = this.addBlob(g.layerBytes ?? randomBytes(2048), g.layerMediaType, g);
        stored.push(dig);
        diffIds.push(dig);
      }
    }
    const configDigest = !g.configMediaType || g.configMediaType === OCI_CONFIG
      ? this.genConfig(g.platform ?? { os: 'linux', architecture: 'amd64' }, diffIds, g)
      : this.addBlob(g.configBytes ?? Buffer.from('{}'), g.configMediaType, g);
    return this.genManifest(this.desc.get(configDigest)!, stored.map((d) => this.desc.get(d)!), g);
  }

  genIndexFull(g: Gen = {}): string {
    const platforms = g.platforms ?? [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64' }];
    // Children carry neither the tag nor the subject: those belong to the index.
    const childGen: Gen = { ...g, tag: undefined, subject: undefined };
    const children = platforms.map((platform) => this.genManifestFull({ ...childGen, platform }));
    return this.genIndex(platforms, children, g);
  }
}

const SUBJECT_ANNOTATION = { 'org.opencontainers.conformance': 'hello conformance test' };

/** The data sets of run.go's GenerateData, with the 1.1 defaults (sparse is off there too). */
function dataSets(): [string, TestData][] {
  const sets: [string, TestData][] = [];
  const make = (name: string, fill: (td: TestData) => void): void => {
    const td = new TestData();
    fill(td);
    sets.push([name, td]);
  };
  make('image', (td) => td.genManifestFull({ tag: 'image' }));
  make('image-uncompressed', (td) => td.genManifestFull({ tag: 'image-uncompressed', compress: false }));
  make('large-manifest (~3.9 MB of annotations)', (td) => {
    const annotations: Record<string, string> = {};
    for (let i = 0; i < 390; i++) annotations[`large-annotation-${i}`] = 'A'.repeat(10000);
    td.genManifestFull({ tag: 'large-manifest', annotations });
  });
  make('index', (td) => td.genIndexFull({ tag: 'index' }));
  make('nested-index', (td) => {
    const a = td.genIndexFull();
    const b = td.genIndexFull();
    td.genIndex([undefined, undefined], [a, b], { tag: 'index-of-index' });
  });
  make('empty-index', (td) => td.genIndexFull({ tag: 'index', platforms: [] }));
  const artifact: Gen = { artifactType: EXAMPLE1, configMediaType: OCI_EMPTY, configBytes: Buffer.from('{}'), layerCount: 1, layerMediaType: EXAMPLE1 };
  make('artifact', (td) => td.genManifestFull({ ...artifact, tag: 'artifact' }));
  make('artifact-index', (td) => td.genIndexFull({ ...artifact, tag: 'artifact-index' }));
  make('artifact-without-layers (empty JSON layer)', (td) =>
    td.genManifestFull({ ...artifact, tag: 'artifact-without-layers', layerBytes: Buffer.from('{}'), layerMediaType: OCI_EMPTY }));
  make('artifacts-with-subject', (td) => {
    const subject = td.desc.get(td.genManifestFull({ tag: 'image' }))!;
    td.genManifestFull({ subject });
    const common: Gen = { annotations: SUBJECT_ANNOTATION, annotationUniq: true, configMediaType: OCI_EMPTY, configBytes: Buffer.from('{}'), layerCount: 1, subject };
    td.genManifestFull({ ...common, artifactType: EXAMPLE1, layerMediaType: EXAMPLE1, tag: 'tagged-artifact1' });
    td.genManifestFull({ ...common, artifactType: EXAMPLE2, layerMediaType: OCTET, tag: 'tagged-artifact2' });
  });
  make('index-with-subject', (td) => {
    const subject = td.desc.get(td.genIndexFull({ tag: 'index' }))!;
    td.genIndexFull({ ...artifact, annotations: SUBJECT_ANNOTATION, annotationUniq: true, subject, tag: 'tagged-artifact' });
  });
  make('missing-subject', (td) => {
    const subject: Descriptor = { mediaType: OCI_MANIFEST, size: 123, digest: digestOf('sha256', 'missing content') };
    td.genManifestFull({ ...artifact, annotations: SUBJECT_ANNOTATION, annotationUniq: true, subject, tag: 'tagged-artifact' });
  });
  make('data-field', (td) => td.genManifestFull({ tag: 'data-field', setData: true }));
  make('non-distributable-layers', (td) => {
    const fake = (): string => digestOf('sha256', randomBytes(256));
    const gz = fake();
    const plain = fake();
    const layers: Descriptor[] = [
      { mediaType: LAYER_ND_GZ, digest: gz, size: 123456, urls: [`https://store.example.com/blobs/sha256/${gz.slice(7)}`] },
      { mediaType: LAYER_ND, digest: plain, size: 12345, urls: [`https://store.example.com/blobs/sha256/${plain.slice(7)}`] },
    ];
    const [normal, diffId] = td.genLayer(1, {});
    layers.push(td.desc.get(normal)!);
    const config = td.genConfig({ os: 'linux', architecture: 'amd64' }, [fake(), plain, diffId], {});
    td.genManifest(td.desc.get(config)!, layers, { tag: 'non-distributable-image' });
  });
  make('custom-fields', (td) => td.genIndexFull({ tag: 'custom-fields', extraField: true }));
  make('no-layers', (td) => td.genManifestFull({ tag: 'no-layers', layerCount: 0 }));
  // Non-canonical digests can only be pushed by digest (a tag push names the sha256 digest).
  make('sha512 (all content addressed by sha512)', (td) => td.genIndexFull({ algo: 'sha512' }));
  make('bad-digest-image (manifest bytes differ from its digest)', (td) => {
    const dig = td.genManifestFull();
    td.manifests.set(dig, Buffer.concat([td.manifests.get(dig)!, Buffer.from('  ')]));
    td.badDigest.add(dig);
  });
  return sets;
}

function mediaTypeOf(body: Buffer): string {
  return (JSON.parse(body.toString()) as { mediaType?: string }).mediaType ?? OCI_MANIFEST;
}

function subjectOf(body: Buffer): string | undefined {
  return (JSON.parse(body.toString()) as { subject?: { digest?: string } }).subject?.digest;
}

async function putManifest(repo: string, ref: string, body: Buffer, query = ''): Promise<Reply> {
  return send('PUT', `/v2/${repo}/manifests/${ref}${query}`, { body, headers: { 'Content-Type': mediaTypeOf(body) } });
}

/** api.go ManifestPut: 201, Location serving the same bytes and type, digest header, OCI-Subject. */
async function assertManifestPut(reply: Reply, dig: string, body: Buffer): Promise<void> {
  assert.equal(reply.status, 201, explain(reply));
  assert.equal(reply.header('docker-content-digest'), dig);
  const subject = subjectOf(body);
  if (subject) assert.equal(reply.header('oci-subject'), subject);
  const get = await send('GET', at(reply.header('location')), { headers: { Accept: MANIFEST_ACCEPT } });
  assert.equal(get.status, 200, explain(get));
  assert.equal(get.header('content-type'), mediaTypeOf(body));
  assert.equal(get.header('content-length'), String(body.length));
  assert.deepEqual(get.body, body);
}

async function assertManifestReadable(repo: string, ref: string, dig: string, body: Buffer): Promise<void> {
  for (const method of ['HEAD', 'GET']) {
    const res = await send(method, `/v2/${repo}/manifests/${ref}`, { headers: { Accept: MANIFEST_ACCEPT } });
    assert.equal(res.status, 200, `${method} ${ref}: ${explain(res)}`);
    assert.equal(res.header('content-type'), mediaTypeOf(body), `${method} ${ref} Content-Type`);
    assert.equal(res.header('content-length'), String(body.length), `${method} ${ref} Content-Length`);
    assert.equal(res.header('docker-content-digest'), dig, `${method} ${ref} digest header`);
    assert.deepEqual(res.body, method === 'HEAD' ? Buffer.alloc(0) : body);
  }
}

interface ReferrersIndex {
  schemaVersion?: number;
  mediaType?: string;
  manifests: Descriptor[];
}

async function referrersOf(repo: string, subject: string, query = ''): Promise<{ reply: Reply; index: ReferrersIndex }> {
  const reply = await send('GET', `/v2/${repo}/referrers/${subject}${query}`);
  assert.equal(reply.status, 200, explain(reply));
  assert.equal(reply.header('content-type'), OCI_INDEX);
  const index = JSON.parse(reply.body.toString()) as ReferrersIndex;
  assert.equal(index.mediaType, OCI_INDEX, 'the referrers body is an OCI index');
  assert.equal(index.schemaVersion, 2);
  return { reply, index };
}

function sameReferrer(found: Descriptor, goal: Descriptor): boolean {
  return found.digest === goal.digest && found.mediaType === goal.mediaType && found.size === goal.size &&
    found.artifactType === goal.artifactType &&
    Object.entries(goal.annotations ?? {}).every(([k, v]) => found.annotations?.[k] === v);
}

// ---------------------------------------------------------------------------------------------

CONFORMANCE_DEPLOYMENTS.forEach((deployment, deploymentIndex) => describe(`newer OCI conformance suite checks (${deployment.title}${deployment.redirects ? '; blob APIs' : ''})`, { timeout: 600_000 }, () => {
  let target: Deployed;

  before(async () => {
    target = await deployment.start(PORT + deploymentIndex * 10);
    base = target.url;
  });
  after(async () => {
    await target?.stop();
  });

  describe('ping and empty repository', () => {
    it('GET /v2/ → 200', async () => {
      const res = await send('GET', '/v2/');
      assert.equal(res.status, 200, explain(res));
    });
    it('tags list of a repository with nothing pushed → 200 or 404', async () => {
      const res = await send('GET', `/v2/${REPO1}/tags/list`);
      assert.ok(res.status === 200 || res.status === 404, explain(res));
    });
    it('referrers of a random digest → 200, an OCI index (mediaType and schemaVersion in the body)', async () => {
      const { index } = await referrersOf(REPO1, digestOf('sha256', randomUUID()));
      assert.equal(index.manifests.length, 0);
    });
  });

  for (const algo of ['sha256', 'sha512'] as const) {
    describe(`blob APIs with ${algo} digests`, () => {
      const blob = (size = 512): [string, Buffer] => {
        const bytes = randomBytes(size);
        return [digestOf(algo, bytes), bytes];
      };
      /** The suite's follow-up of every successful push: HEAD, GET, DELETE, HEAD → 404. */
      const verifyAndDelete = async (repo: string, dig: string, bytes: Buffer): Promise<void> => {
        await assertBlobReadable(repo, dig, bytes);
        await deleteBlobAndCheck(repo, dig);
      };

      it('GET of a blob never pushed → 404', async () => {
        const [dig] = blob();
        const res = await send('GET', `/v2/${REPO1}/blobs/${dig}`);
        assert.equal(res.status, 404, explain(res));
      });
      it('post only: POST ?digest= with the body → 201, Location, digest header', async () => {
        const [dig, bytes] = blob();
        await assertPushed(await pushPostOnly(REPO1, dig, bytes), dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('post+put: POST (Content-Length: 0) then PUT ?digest= with the body → 201', async () => {
        const [dig, bytes] = blob();
        await assertPushed(await pushPostPut(REPO1, dig, bytes), dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('chunked single: one Content-Range PATCH then an empty PUT → 201', async () => {
        const [dig, bytes] = blob();
        const minLength = { value: '' };
        await assertPushed(await pushChunked(REPO1, dig, bytes, { minLength }), dig, bytes);
        if (minLength.value) assert.match(minLength.value, /^\d+$/, 'OCI-Chunk-Min-Length is a number');
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('chunked multi: three chunks (3 × 1024 − 5 bytes) then an empty PUT → 201', async () => {
        const [dig, bytes] = blob(CHUNK_MIN * 3 - 5);
        await assertPushed(await pushChunked(REPO1, dig, bytes), dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('chunked multi, last chunk carried by the PUT with Content-Range → 201', async () => {
        const [dig, bytes] = blob(CHUNK_MIN * 3 - 5);
        await assertPushed(await pushChunked(REPO1, dig, bytes, { putLastChunk: true }), dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('chunked out-of-order: each skipped chunk → 416, GET on the upload → 204 with Range 0-<last>', async () => {
        const [dig, bytes] = blob(CHUNK_MIN * 3 - 5);
        await assertPushed(await pushChunked(REPO1, dig, bytes, { outOfOrder: true }), dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('chunked out-of-order with the last chunk in a PUT ?digest= (416 there too)', async () => {
        const [dig, bytes] = blob(CHUNK_MIN * 3 - 5);
        await assertPushed(await pushChunked(REPO1, dig, bytes, { outOfOrder: true, putLastChunk: true }), dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('stream: PATCH with Transfer-Encoding: chunked (no length), PUT with Content-Length: 0 → 201', async () => {
        const [dig, bytes] = blob();
        await assertPushed(await pushStream(REPO1, dig, bytes), dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('mount with from: blob pushed to repo2, POST ?mount=&from=repo2 on repo1 → 201', async () => {
        const [dig, bytes] = blob();
        await assertPushed(await pushPostPut(REPO2, dig, bytes), dig, bytes);
        const res = await send('POST', `/v2/${REPO1}/blobs/uploads/?mount=${encodeURIComponent(dig)}&from=${encodeURIComponent(REPO2)}`);
        await assertPushed(res, dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
        await deleteBlobAndCheck(REPO2, dig);
      });
      it('mount without from (anonymous mount): 201, or 202 and the PUT completes (the suite then records "unsupported")', async (t) => {
        const [dig, bytes] = blob();
        await assertPushed(await pushPostPut(REPO2, dig, bytes), dig, bytes);
        const res = await send('POST', `/v2/${REPO1}/blobs/uploads/?mount=${encodeURIComponent(dig)}`);
        assert.ok(res.status === 201 || res.status === 202, explain(res));
        if (res.status === 202) {
          t.diagnostic('Berth does not mount without `from`: the suite falls back to POST+PUT and marks anonymous mount unsupported (skip)');
          await assertPushed(await send('PUT', at(res.header('location'), { digest: dig }), { body: bytes, headers: { 'Content-Type': OCTET } }), dig, bytes);
        } else {
          await assertPushed(res, dig, bytes);
        }
        await verifyAndDelete(REPO1, dig, bytes);
        await deleteBlobAndCheck(REPO2, dig);
      });
      it('mount of a blob the source does not hold → 202 (never 201), and the upload works', async () => {
        const [dig, bytes] = blob();
        const res = await send('POST', `/v2/${REPO1}/blobs/uploads/?mount=${encodeURIComponent(dig)}&from=${encodeURIComponent(REPO2)}`);
        assert.equal(res.status, 202, explain(res));
        const put = await send('PUT', at(res.header('location'), { digest: dig }), { body: bytes, headers: { 'Content-Type': OCTET } });
        await assertPushed(put, dig, bytes);
        await verifyAndDelete(REPO1, dig, bytes);
      });
      it('post cancel (1.1+dev): POST then DELETE on the Location → 204', async () => {
        const post = await startSession(REPO1);
        const del = await send('DELETE', at(post.header('location')), { zeroLength: true });
        assert.equal(del.status, 204, explain(del));
      });

      describe('range requests on a 2048-byte blob', () => {
        const [dig, bytes] = blob(2048);
        before(async () => {
          await assertPushed(await pushPostPut(REPO1, dig, bytes), dig, bytes);
        });
        after(async () => {
          await deleteBlobAndCheck(REPO1, dig);
        });
        const partial: [string, number, number][] = [
          ['bytes=500-1499', 500, 1499],
          ['bytes=500-', 500, 2047],
          ['bytes=-500', 1548, 2047],
          ['bytes=2000-5000', 2000, 2047],
        ];
        for (const [range, first, last] of partial) {
          it(`${range} → 206, Content-Length, Content-Range bytes ${first}-${last}/2048`, async () => {
            const res = await send('GET', `/v2/${REPO1}/blobs/${dig}`, { headers: { Range: range } });
            assert.equal(res.status, 206, explain(res));
            assert.equal(res.header('content-length'), String(last - first + 1));
            assert.ok([`bytes ${first}-${last}/2048`, `bytes ${first}-${last}/*`].includes(res.header('content-range')), res.header('content-range'));
            assert.deepEqual(res.body, bytes.subarray(first, last + 1));
          });
        }
        for (const range of ['bytes=500-0', 'bytes=5000-10000']) {
          it(`${range} → 416`, async () => {
            const res = await send('GET', `/v2/${REPO1}/blobs/${dig}`, { headers: { Range: range } });
            assert.equal(res.status, 416, explain(res));
          });
        }
      });

      for (const [name, bytes] of [['empty', Buffer.alloc(0)], ['emptyJSON', Buffer.from('{}')]] as const) {
        it(`well-known blob "${name}": push, HEAD (Content-Length ${bytes.length}), GET, DELETE`, async () => {
          const dig = digestOf(algo, bytes);
          const post = await startSession(REPO1);
          await assertPushed(await send('PUT', at(post.header('location'), { digest: dig }), {
            body: bytes.length > 0 ? bytes : undefined,
            headers: { 'Content-Type': OCTET },
          }), dig, bytes);
          await verifyAndDelete(REPO1, dig, bytes);
        });
      }

      describe('a corrupted body ("oh no" appended) under every push API → 400', () => {
        const corrupted = (): [string, Buffer] => {
          const [dig, bytes] = blob(CHUNK_MIN * 3 - 5);
          return [dig, Buffer.concat([bytes, Buffer.from('oh no')])];
        };
        const refused = async (reply: Reply, dig: string): Promise<void> => {
          assert.equal(reply.status, 400, explain(reply));
          assert.equal(errorCode(reply), 'DIGEST_INVALID');
          const head = await send('HEAD', `/v2/${REPO1}/blobs/${dig}`);
          assert.equal(head.status, 404, 'nothing is published under the claimed digest');
        };
        it('post only → 400 (or 202 then the PUT → 400)', async () => {
          const [dig, bytes] = corrupted();
          const res = await pushPostOnly(REPO1, dig, bytes);
          if (res.status === 202) {
            await refused(await send('PUT', at(res.header('location'), { digest: dig }), { body: bytes }), dig);
          } else {
            await refused(res, dig);
          }
        });
        it('post+put → 400', async () => {
          const [dig, bytes] = corrupted();
          await refused(await pushPostPut(REPO1, dig, bytes), dig);
        });
        it('chunked → 400 on the closing PUT', async () => {
          const [dig, bytes] = corrupted();
          await refused(await pushChunked(REPO1, dig, bytes), dig);
        });
        it('chunked, last chunk in the PUT → 400', async () => {
          const [dig, bytes] = corrupted();
          await refused(await pushChunked(REPO1, dig, bytes, { putLastChunk: true }), dig);
        });
        it('stream → 400 on the closing PUT', async () => {
          const [dig, bytes] = corrupted();
          await refused(await pushStream(REPO1, dig, bytes), dig);
        });
      });
    });
  }

  describe('beyond the suite: sha512 over a multipart upload', () => {
    // The suite's blobs fit in one part; a layer larger than Berth's part size (8 MiB) is
    // assembled from several parts before the sha512 pass, on both the good and the bad path.
    it('a 9 MiB streamed upload verified with sha512 → 201; a wrong sha512 → 400 and nothing published', async () => {
      const bytes = randomBytes(9 * 1024 * 1024);
      const dig = digestOf('sha512', bytes);
      await assertPushed(await pushStream(REPO1, dig, bytes), dig, bytes);
      await deleteBlobAndCheck(REPO1, dig);
      const wrong = digestOf('sha512', randomBytes(16));
      const res = await pushStream(REPO1, wrong, bytes);
      assert.equal(res.status, 400, explain(res));
      assert.equal(errorCode(res), 'DIGEST_INVALID');
      assert.equal((await send('HEAD', `/v2/${REPO1}/blobs/${wrong}`)).status, 404);
      assert.equal((await send('HEAD', `/v2/${REPO1}/blobs/${dig}`)).status, 404);
    });
  });

  // Manifests, tags and referrers do not depend on the store's redirects: on S3 only the blob
  // sections above run (their GETs are what pass through the redirect).
  if (!deployment.redirects) {
    describe('data sets: push, list, HEAD, GET, referrers, delete', () => {
      for (const [name, td] of dataSets()) {
        describe(name, () => {
          const pushed = new Set<string>();
          it('push: every blob, every manifest by digest (in order), then every tag', async () => {
            for (const [dig, bytes] of td.blobs) {
              await assertPushed(await pushPostPut(REPO1, dig, bytes), dig, bytes);
            }
            for (const dig of td.manOrder) {
              const body = td.manifests.get(dig)!;
              const res = await putManifest(REPO1, dig, body);
              if (td.badDigest.has(dig)) {
                assert.equal(res.status, 400, `a body that does not hash to the digest: ${explain(res)}`);
                assert.equal(errorCode(res), 'DIGEST_INVALID');
                continue;
              }
              await assertManifestPut(res, dig, body);
              pushed.add(dig);
            }
            for (const [tag, dig] of td.tags) {
              await assertManifestPut(await putManifest(REPO1, tag, td.manifests.get(dig)!), dig, td.manifests.get(dig)!);
            }
          });
          it('tag list holds every tag; `last` returns exactly the tags after it', async () => {
            const res = await send('GET', `/v2/${REPO1}/tags/list`);
            assert.equal(res.status, 200, explain(res));
            const tags = (JSON.parse(res.body.toString()) as { tags: string[] }).tags;
            for (const tag of td.tags.keys()) assert.ok(tags.includes(tag), `missing tag ${tag}`);
            if (tags.length >= 2) {
              const sorted = [...tags].sort();
              const end = Math.floor(sorted.length / 2);
              const last = sorted[end - 1]!;
              const partial = await send('GET', `/v2/${REPO1}/tags/list?last=${encodeURIComponent(last)}`);
              assert.equal(partial.status, 200, explain(partial));
              const after = (JSON.parse(partial.body.toString()) as { tags: string[] }).tags;
              for (const tag of sorted.slice(0, end)) assert.ok(!after.includes(tag), `${tag} returned after last=${last}`);
              for (const tag of sorted.slice(end)) assert.ok(after.includes(tag), `${tag} missing after last=${last}`);
            }
          });
          it('HEAD and GET by tag and by digest: Content-Type is the manifest\'s mediaType, Content-Length, digest header', async () => {
            for (const [tag, dig] of td.tags) await assertManifestReadable(REPO1, tag, dig, td.manifests.get(dig)!);
            for (const dig of pushed) await assertManifestReadable(REPO1, dig, dig, td.manifests.get(dig)!);
            for (const [dig, bytes] of td.blobs) await assertBlobReadable(REPO1, dig, bytes);
          });
          // Only data sets with a subject have referrers to check (run.go TestReferrers returns early).
          if (td.referrers.size > 0) it('referrers list each referrer; the artifactType filter answers OCI-Filters-Applied and only that type', async () => {
            for (const [subject, goals] of td.referrers) {
              const { index } = await referrersOf(REPO1, subject);
              for (const goal of goals) assert.ok(index.manifests.some((d) => sameReferrer(d, goal)), `missing referrer ${goal.digest}`);
              for (const artifactType of new Set(goals.map((g) => g.artifactType ?? ''))) {
                const { reply, index: filtered } = await referrersOf(REPO1, subject, `?artifactType=${encodeURIComponent(artifactType)}`);
                assert.ok(reply.header('oci-filters-applied').split(',').map((s) => s.trim()).includes('artifactType'));
                for (const goal of goals.filter((g) => g.artifactType === artifactType)) {
                  assert.ok(filtered.manifests.some((d) => sameReferrer(d, goal)), `missing filtered referrer ${goal.digest}`);
                }
                for (const d of filtered.manifests) assert.equal(d.artifactType, artifactType);
              }
            }
          });
          it('delete: each tag → 202 then HEAD → 404; manifests in reverse → 202 then 404; blobs → 202 then 404', async () => {
            for (const tag of td.tags.keys()) {
              const del = await send('DELETE', `/v2/${REPO1}/manifests/${tag}`);
              assert.equal(del.status, 202, `DELETE tag ${tag}: ${explain(del)}`);
              const head = await send('HEAD', `/v2/${REPO1}/manifests/${tag}`, { headers: { Accept: MANIFEST_ACCEPT } });
              assert.equal(head.status, 404, `tag ${tag} after delete`);
            }
            for (const dig of [...td.manOrder].reverse()) {
              const del = await send('DELETE', `/v2/${REPO1}/manifests/${dig}`);
              if (!pushed.has(dig)) {
                assert.equal(del.status, 404, `never stored: ${explain(del)}`);
                continue;
              }
              assert.equal(del.status, 202, `DELETE manifest ${dig}: ${explain(del)}`);
              const head = await send('HEAD', `/v2/${REPO1}/manifests/${dig}`, { headers: { Accept: MANIFEST_ACCEPT } });
              assert.equal(head.status, 404, `manifest ${dig} after delete`);
            }
            for (const dig of td.blobs.keys()) await deleteBlobAndCheck(REPO1, dig);
          });
        });
      }
    });

    describe('manifest error conditions', () => {
      it('GET of a random digest → 404; of a missing tag → 404', async () => {
        const byDigest = await send('GET', `/v2/${REPO1}/manifests/${digestOf('sha256', randomBytes(1024))}`, { headers: { Accept: MANIFEST_ACCEPT } });
        assert.equal(byDigest.status, 404, explain(byDigest));
        const byTag = await send('GET', `/v2/${REPO1}/manifests/missing-${randomUUID().slice(0, 20)}`, { headers: { Accept: MANIFEST_ACCEPT } });
        assert.equal(byTag.status, 404, explain(byTag));
      });
      it('PUT of a valid manifest to "sha256:baddigeststring" → 400; GET of it → 404 or 400', async () => {
        const td = new TestData();
        const dig = td.genManifestFull({ layerCount: 1 });
        for (const [blobDigest, bytes] of td.blobs) await assertPushed(await pushPostPut(REPO1, blobDigest, bytes), blobDigest, bytes);
        const put = await putManifest(REPO1, 'sha256:baddigeststring', td.manifests.get(dig)!);
        assert.equal(put.status, 400, explain(put));
        const get = await send('GET', `/v2/${REPO1}/manifests/sha256:baddigeststring`, { headers: { Accept: MANIFEST_ACCEPT } });
        assert.ok(get.status === 404 || get.status === 400, explain(get));
        for (const blobDigest of td.blobs.keys()) await deleteBlobAndCheck(REPO1, blobDigest);
      });
    });

    describe('1.1+dev profile: tag parameters on a manifest PUT by digest', () => {
      for (const algo of ['sha256', 'sha512'] as const) {
        it(`${algo}: PUT /manifests/<digest>?tag=a&tag=b → 201 with OCI-Tag naming both; both tags resolve`, async () => {
          const td = new TestData();
          const dig = td.genManifestFull({ algo });
          for (const [blobDigest, bytes] of td.blobs) await assertPushed(await pushPostPut(REPO1, blobDigest, bytes), blobDigest, bytes);
          const tags = [`tag-param-${algo}-0`, `tag-param-${algo}-1`];
          const body = td.manifests.get(dig)!;
          const put = await putManifest(REPO1, dig, body, `?${tags.map((t) => `tag=${t}`).join('&')}`);
          await assertManifestPut(put, dig, body);
          const announced = put.header('oci-tag').split(',').map((s) => s.trim());
          for (const tag of tags) {
            assert.ok(announced.includes(tag), `OCI-Tag "${put.header('oci-tag')}" lacks ${tag}`);
            await assertManifestReadable(REPO1, tag, dig, body);
          }
          for (const tag of tags) assert.equal((await send('DELETE', `/v2/${REPO1}/manifests/${tag}`)).status, 202);
          assert.equal((await send('DELETE', `/v2/${REPO1}/manifests/${dig}`)).status, 202);
          for (const blobDigest of td.blobs.keys()) await deleteBlobAndCheck(REPO1, blobDigest);
        });
      }
    });
  }

  if (deployment.redirects) {
    it('every blob GET above was answered with a redirect to the store', () => assertBlobGetsRedirected(target.logs()));
  }
}));
