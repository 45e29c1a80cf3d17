/**
 * The OCI distribution-spec conformance suite's four workflows (Pull, Push, Content Discovery,
 * Content Management), replayed in the suite's order with the suite's expectations against a real
 * Berth Node server. Written from the suite's documented behaviour (opencontainers/distribution-spec
 * `conformance/`: setup.go, 01_pull_test.go, 02_push_test.go, 03_discovery_test.go,
 * 04_management_test.go) and its HTTP client (bloodorangeio/reggie); no code of theirs is used.
 *
 * What the suite's client does, and this file copies:
 * - Every request goes out without credentials first. On a 401 it reads `WWW-Authenticate`:
 *   Bearer → `GET <realm>?service=<service>&scope=<scope exactly as challenged, one parameter>`
 *   with Basic credentials, takes `token` (or `access_token`) and retries once; Basic → retries
 *   with Basic. It never caches a token.
 * - Upload `Location`s may be absolute or relative: only their path and query are reused, and the
 *   suite's own query parameters (`digest`) are added to them.
 * - A POST/PUT/PATCH without a body still says `Content-Length: 0` (Go's HTTP client does).
 * - The env-driven switches become the run variants below: all four workflows on (OCI_TEST_PULL,
 *   OCI_TEST_PUSH, OCI_TEST_CONTENT_DISCOVERY, OCI_TEST_CONTENT_MANAGEMENT = 1), once with the
 *   default OCI_DELETE_MANIFEST_BEFORE_BLOBS (true) and the token flow, once with it false,
 *   OCI_AUTOMATIC_CROSSMOUNT=false and Basic credentials sent up front (Berth accepts Basic on
 *   /v2, which lets the cross-repository mount answer 201 and run its follow-up checks).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ADMIN } from '../support/targets.ts';
import { assertBlobGetsRedirected, CONFORMANCE_DEPLOYMENTS, type Deployed } from '../support/conformance-deployments.ts';
import { OCI_INDEX, OCI_MANIFEST, sha256 } from '../support/registry-client.ts';
import { testPort } from '../support/ports.ts';
import { goCopiesAuthorization, REDIRECT_STATUSES } from '../support/go-redirect.ts';

const PORT = testPort(15700);

const OCTET = 'application/octet-stream';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
const LAYER_TGZ = 'application/vnd.oci.image.layer.v1.tar+gzip';
const EMPTY_JSON_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';
/** The error codes the suite accepts in an error body (setup.go's list). */
const SPEC_ERROR_CODES = [
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID',
  'TAG_INVALID', 'UNAUTHORIZED', 'DENIED', 'UNSUPPORTED',
];

// ---------------------------------------------------------------------------------------------
// A client that behaves like the suite's.

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  header(name: string): string;
  /** Path and query of `Location` (reggie's GetRelativeLocation). */
  relativeLocation(): string;
  json<T>(): T;
}

interface RequestOptions {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

type AuthMode = 'challenge' | 'basic-upfront';

class SuiteClient {
  constructor(
    private readonly base: string,
    readonly namespace: string,
    private readonly auth: AuthMode,
  ) {}

  /** `path` may contain `<name>` (the namespace) and a query; `query` is merged into it. */
  async do(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const url = new URL(path.replace('<name>', this.namespace), this.base);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const basic = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
    const first = await send(method, url, options, this.auth === 'basic-upfront' ? basic : undefined);
    if (first.status !== 401) return first;
    const challenge = first.header('www-authenticate');
    if (/^bearer/i.test(challenge)) {
      const params = Object.fromEntries([...challenge.matchAll(/([a-zA-Z]+)="(.+?)"/g)].map((m) => [m[1]!, m[2]!]));
      assert.ok(params.realm, `Bearer challenge without realm: ${challenge}`);
      const tokenUrl = new URL(params.realm);
      tokenUrl.searchParams.set('service', params.service ?? '');
      if (params.scope) tokenUrl.searchParams.set('scope', params.scope);
      const tokenReply = await send('GET', tokenUrl, { headers: { Accept: 'application/json' } }, basic);
      assert.equal(tokenReply.status, 200, `token endpoint: ${tokenReply.status} ${tokenReply.body.toString()}`);
      const info = tokenReply.json<{ token?: string; access_token?: string }>();
      const token = info.token || info.access_token;
      assert.ok(token, 'token endpoint answered no token');
      return send(method, url, options, `Bearer ${token}`);
    }
    if (/^basic/i.test(challenge)) return send(method, url, options, basic);
    return first;
  }
}

function send(method: string, url: URL, options: RequestOptions, authorization?: string, redirects = 0): Promise<Reply> {
  const body = options.body === undefined ? Buffer.alloc(0) : Buffer.from(options.body);
  const headers: Record<string, string> = { 'User-Agent': 'berth-conformance-replay', ...options.headers };
  // Go's client always states the length of a POST/PUT/PATCH, even an empty one.
  if (body.length > 0 || ['POST', 'PUT', 'PATCH'].includes(method)) headers['Content-Length'] = String(body.length);
  if (authorization) headers.Authorization = authorization;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        // reggie follows redirects (blob GETs may answer 307 to the store) with Go's client, which
        // keeps Authorization when the new host name is the same, ports aside.
        if (REDIRECT_STATUSES.includes(status) && location && redirects < 20 && method === 'GET') {
          const next = new URL(location, url);
          const keep = goCopiesAuthorization(url, next) ? authorization : undefined;
          send('GET', next, { headers: options.headers }, keep, redirects + 1).then(resolve, reject);
          return;
        }
        const reply: Reply = {
          status,
          headers: res.headers,
          body: Buffer.concat(chunks),
          header: (name) => {
            const value = res.headers[name.toLowerCase()];
            return Array.isArray(value) ? value.join(', ') : value ?? '';
          },
          relativeLocation: () => {
            const raw = reply.header('location');
            if (!raw) return '';
            const parsed = new URL(raw, 'http://placeholder');
            return parsed.pathname + parsed.search;
          },
          json: <T>() => JSON.parse(reply.body.toString()) as T,
        };
        resolve(reply);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function is2xx(status: number): boolean {
  return status >= 200 && status < 300;
}

function explain(reply: Reply): string {
  return `${reply.status} ${reply.body.toString().slice(0, 300)}`;
}

function errorCodes(reply: Reply): string[] {
  const parsed = JSON.parse(reply.body.toString()) as { errors?: { code?: string }[] };
  assert.ok(Array.isArray(parsed.errors) && parsed.errors.length > 0, `error body expected: ${explain(reply)}`);
  return parsed.errors.map((e) => e.code ?? '');
}

// ---------------------------------------------------------------------------------------------
// The suite's test data, built the way setup.go describes it (fresh per run).

interface TestBlob {
  content: Buffer;
  digest: string;
  length: string;
}

function blobOf(content: Buffer | string): TestBlob {
  const bytes = Buffer.from(content);
  return { content: bytes, digest: sha256(bytes), length: String(bytes.length) };
}

type Json = Record<string, unknown>;

/** A descriptor with the field order Go's encoder uses, including the suite's unknown field. */
function descriptor(mediaType: string, blob: { digest: string; size: number }, extra: { annotations?: Record<string, string>; data?: Buffer; artifactType?: string; unknown?: string } = {}): Json {
  const d: Json = { mediaType, digest: blob.digest, size: blob.size };
  if (extra.annotations) d.annotations = extra.annotations;
  if (extra.data) d.data = extra.data.toString('base64');
  if (extra.artifactType) d.artifactType = extra.artifactType;
  // Unknown to the image-spec: registries must store and serve it untouched.
  d.newUnspecifiedField = extra.unknown === undefined ? null : Buffer.from(extra.unknown).toString('base64');
  return d;
}

function sized(blob: TestBlob): { digest: string; size: number } {
  return { digest: blob.digest, size: blob.content.length };
}

/** Go's json.MarshalIndent(v, "", "\t"). */
function goJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value, null, '\t'));
}

function buildData() {
  const configs: TestBlob[] = [];
  const manifests: TestBlob[] = [];
  const layer = blobOf(gzipSync(Buffer.from(`conformance layer ${randomUUID()}\n`)));
  for (let i = 0; i < 5; i++) {
    configs.push(blobOf(goJson({
      author: randomBytes(12).toString('base64url').slice(0, 16),
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [] },
    })));
  }
  for (let i = 0; i < 5; i++) {
    manifests.push(blobOf(goJson({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor(OCI_CONFIG, sized(configs[i]!), { data: configs[i]!.content, unknown: 'hello world' }),
      layers: [descriptor(LAYER_TGZ, sized(layer))],
    })));
  }
  // No mediaType field at all: the registry must go by Content-Type.
  const emptyLayerManifest = blobOf(goJson({
    schemaVersion: 2,
    config: descriptor(OCI_CONFIG, sized(configs[1]!), { data: configs[1]!.content, unknown: 'hello world' }),
    layers: [],
  }));

  const emptyJson = blobOf('{}');
  const refBlobA = blobOf('NHL Peanut Butter on my NHL bagel');
  const refBlobB = blobOf('NBA Strawberry Jam on my NBA croissant');
  const typeA = 'application/vnd.nhl.peanut.butter.bagel';
  const typeB = 'application/vnd.nba.strawberry.jam.croissant';
  const typeIndex = 'application/vnd.food.stand';
  const annotationKey = 'org.opencontainers.conformance.test';
  const annotationOf = new Map<string, string>();
  const subjectOf = (m: TestBlob): Json => descriptor(OCI_MANIFEST, sized(m));
  const emptyJsonDescriptor = descriptor(OCI_EMPTY, sized(emptyJson));

  const artifact = (fields: Json, note?: string): TestBlob => {
    const body: Json = { schemaVersion: 2, mediaType: OCI_MANIFEST, ...fields };
    if (note) body.annotations = { [annotationKey]: note };
    const blob = blobOf(goJson(body));
    if (note) annotationOf.set(blob.digest, note);
    return blob;
  };
  // artifactType carried by config.mediaType
  const refsAConfig = artifact({ config: descriptor(typeA, sized(refBlobA)), layers: [emptyJsonDescriptor], subject: subjectOf(manifests[4]!) }, 'test config a');
  const refsBConfig = artifact({ config: descriptor(typeB, sized(refBlobB)), layers: [emptyJsonDescriptor], subject: subjectOf(manifests[4]!) }, 'test config b');
  // artifactType field, empty config
  const refsALayer = artifact({ artifactType: typeA, config: emptyJsonDescriptor, layers: [descriptor(typeA, sized(refBlobA))], subject: subjectOf(manifests[4]!) }, 'test layer a');
  const refsBLayer = artifact({ artifactType: typeB, config: emptyJsonDescriptor, layers: [descriptor(typeB, sized(refBlobB))], subject: subjectOf(manifests[4]!) }, 'test layer b');
  // Subject (manifests[3]) is never pushed in this workflow.
  const refsCLayer = artifact({ artifactType: typeB, config: emptyJsonDescriptor, layers: [descriptor(typeB, sized(refBlobB))], subject: subjectOf(manifests[3]!) });
  const indexBody: Json = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    artifactType: typeIndex,
    manifests: [descriptor(OCI_MANIFEST, sized(refsAConfig)), descriptor(OCI_MANIFEST, sized(refsALayer))],
    subject: subjectOf(manifests[4]!),
    annotations: { [annotationKey]: 'test index' },
  };
  const refsIndex = blobOf(goJson(indexBody));
  annotationOf.set(refsIndex.digest, 'test index');

  const chunked = (size: number, minChunk = 0) => {
    const blob = blobOf(randomBytes(size));
    const cut = Math.max(Math.floor(size / 2) + 1, minChunk);
    const chunk1 = blob.content.subarray(0, cut);
    const chunk2 = blob.content.subarray(cut);
    return { blob, chunk1, chunk2, range1: `0-${chunk1.length - 1}`, range2: `${chunk1.length}-${blob.content.length - 1}` };
  };

  return {
    configs, manifests, layer, emptyLayerManifest, emptyJson, refBlobA, refBlobB, typeA, annotationKey, annotationOf,
    refsAConfig, refsBConfig, refsALayer, refsBLayer, refsCLayer, refsIndex,
    testBlobA: blobOf(randomBytes(42)),
    chunkedB: chunked(42),
    rebuildChunked: chunked,
    dummyDigest: sha256('hello world'),
    nonexistentManifest: '.INVALID_MANIFEST_NAME',
    invalidManifest: 'blablabla',
  };
}

// ---------------------------------------------------------------------------------------------
// The workflows.

interface Variant {
  title: string;
  auth: AuthMode;
  deleteManifestBeforeBlobs: boolean;
  /** OCI_AUTOMATIC_CROSSMOUNT: undefined = unset (its two checks are skipped). */
  automaticCrossmount?: boolean;
}

const VARIANTS: Variant[] = [
  { title: 'token flow, manifests deleted before blobs', auth: 'challenge', deleteManifestBeforeBlobs: true },
  { title: 'Basic up front, blobs deleted before manifests, automatic crossmount off', auth: 'basic-upfront', deleteManifestBeforeBlobs: false, automaticCrossmount: false },
];

/** The older workflows run in full on the filesystem store and once more (token flow) on S3. */
const DEPLOYMENTS = CONFORMANCE_DEPLOYMENTS.map((deployment) => ({
  ...deployment,
  variants: deployment.redirects ? VARIANTS.slice(0, 1) : VARIANTS,
}));

DEPLOYMENTS.forEach((deployment, deploymentIndex) => describe(`OCI distribution-spec conformance workflows (${deployment.title})`, { timeout: 300_000 }, () => {
  let target: Deployed | undefined;
  let startError: unknown = null;

  before(async () => {
    try {
      target = await deployment.start(PORT + deploymentIndex * 10);
    } catch (error) {
      startError = error;
    }
  });
  after(async () => {
    await target?.stop();
  });

  deployment.variants.forEach((variant, index) => {
    describe(variant.title, () => {
      const data = buildData();
      const namespace = `conformance/run${deploymentIndex}${index}-${randomBytes(3).toString('hex')}`;
      const crossmountNamespace = `conformance-${randomUUID()}`;
      let client: SuiteClient;
      const c = (): SuiteClient => {
        if (startError) throw startError;
        client ??= new SuiteClient(target!.url, namespace, variant.auth);
        return client;
      };
      const { configs, manifests, layer } = data;

      /** POST then PUT ?digest= with the whole body (the suite's "Populate registry with …"). */
      const populateBlob = async (blob: TestBlob): Promise<void> => {
        const post = await c().do('POST', '/v2/<name>/blobs/uploads/');
        const put = await c().do('PUT', post.relativeLocation(), {
          query: { digest: blob.digest },
          headers: { 'Content-Type': OCTET, 'Content-Length': blob.length },
          body: blob.content,
        });
        assert.ok(is2xx(put.status), explain(put));
      };
      const putManifest = (reference: string, manifest: TestBlob, mediaType = OCI_MANIFEST): Promise<Reply> =>
        c().do('PUT', `/v2/<name>/manifests/${reference}`, { headers: { 'Content-Type': mediaType }, body: manifest.content });
      const okDelete = (reply: Reply, also: number[] = []): void => {
        assert.ok(is2xx(reply.status) || reply.status === 405 || also.includes(reply.status), explain(reply));
      };

      it('base route: GET /v2/ answers 200 after authentication', async () => {
        const res = await c().do('GET', '/v2/');
        assert.equal(res.status, 200, explain(res));
      });

      describe('Pull', () => {
        let tag = '';
        it('Setup: populate config[0], config[1], the layer, manifest[0] by tag and manifest[1] by digest', async () => {
          await populateBlob(configs[0]!);
          await populateBlob(configs[1]!);
          await populateBlob(layer);
          tag = 'tagtest0';
          const byTag = await putManifest(tag, manifests[0]!);
          assert.ok(is2xx(byTag.status), explain(byTag));
          const byDigest = await putManifest(manifests[1]!.digest, manifests[1]!);
          assert.ok(is2xx(byDigest.status), explain(byDigest));
        });

        it('HEAD nonexistent blob → 404', async () => {
          const res = await c().do('HEAD', `/v2/<name>/blobs/${data.dummyDigest}`);
          assert.equal(res.status, 404);
        });
        it('HEAD existing blob → 200, Docker-Content-Digest matches when sent', async () => {
          const res = await c().do('HEAD', `/v2/<name>/blobs/${configs[0]!.digest}`);
          assert.equal(res.status, 200);
          const h = res.header('docker-content-digest');
          if (h) assert.equal(h, configs[0]!.digest);
        });
        it('GET nonexistent blob → 404', async () => {
          const res = await c().do('GET', `/v2/<name>/blobs/${data.dummyDigest}`);
          assert.equal(res.status, 404);
        });
        it('GET existing blob → 200', async () => {
          const res = await c().do('GET', `/v2/<name>/blobs/${configs[0]!.digest}`);
          assert.equal(res.status, 200, explain(res));
          assert.deepEqual(res.body, configs[0]!.content);
        });

        it('HEAD nonexistent manifest → 404', async () => {
          const res = await c().do('HEAD', `/v2/<name>/manifests/${data.nonexistentManifest}`);
          assert.equal(res.status, 404);
        });
        for (const i of [0, 1]) {
          it(`HEAD manifest[${i}] by digest → 200, digest header matches`, async () => {
            const res = await c().do('HEAD', `/v2/<name>/manifests/${manifests[i]!.digest}`, { headers: { Accept: OCI_MANIFEST } });
            assert.equal(res.status, 200);
            const h = res.header('docker-content-digest');
            if (h) assert.equal(h, manifests[i]!.digest);
          });
        }
        it('HEAD manifest by tag → 200, digest header is manifest[0]', async () => {
          assert.ok(tag);
          const res = await c().do('HEAD', `/v2/<name>/manifests/${tag}`, { headers: { Accept: OCI_MANIFEST } });
          assert.equal(res.status, 200);
          const h = res.header('docker-content-digest');
          if (h) assert.equal(h, manifests[0]!.digest);
        });
        it('GET nonexistent manifest → 404', async () => {
          const res = await c().do('GET', `/v2/<name>/manifests/${data.nonexistentManifest}`);
          assert.equal(res.status, 404);
        });
        for (const i of [0, 1]) {
          it(`GET manifest[${i}] by digest → 200 with the exact bytes`, async () => {
            const res = await c().do('GET', `/v2/<name>/manifests/${manifests[i]!.digest}`, { headers: { Accept: OCI_MANIFEST } });
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, manifests[i]!.content);
          });
        }
        it('GET manifest by tag → 200', async () => {
          const res = await c().do('GET', `/v2/<name>/manifests/${tag}`, { headers: { Accept: OCI_MANIFEST } });
          assert.equal(res.status, 200);
        });

        it('Error codes: GET (with a body) of manifest "sha256:totallywrong" → 400 with a spec code, or 404', async () => {
          const res = await c().do('GET', '/v2/<name>/manifests/sha256:totallywrong', {
            headers: { 'Content-Type': OCI_MANIFEST },
            body: data.invalidManifest,
          });
          assert.ok(res.status === 400 || res.status === 404, explain(res));
          if (res.status === 400) assert.ok(SPEC_ERROR_CODES.includes(errorCodes(res)[0]!), explain(res));
        });
        it('Error codes (older suites): PUT of "blablabla" to "sha256:totallywrong" → 400 with a spec code', async () => {
          const res = await c().do('PUT', '/v2/<name>/manifests/sha256:totallywrong', {
            headers: { 'Content-Type': OCI_MANIFEST },
            body: data.invalidManifest,
          });
          assert.equal(res.status, 400, explain(res));
          assert.ok(SPEC_ERROR_CODES.includes(errorCodes(res)[0]!), explain(res));
        });

        it('Teardown: delete manifests and blobs in the configured order', async () => {
          const deleteManifests = async () => {
            for (const m of [manifests[0]!, manifests[1]!]) okDelete(await c().do('DELETE', `/v2/<name>/manifests/${m.digest}`));
          };
          if (variant.deleteManifestBeforeBlobs) await deleteManifests();
          for (const b of [configs[0]!, configs[1]!, layer]) okDelete(await c().do('DELETE', `/v2/<name>/blobs/${b.digest}`), [404]);
          if (!variant.deleteManifestBeforeBlobs) await deleteManifests();
        });
      });

      describe('Push', () => {
        let last: Reply | undefined;
        let prev: Reply | undefined;
        let emptyLayerManifestRef = '';
        let chunkedB = data.chunkedB;

        it('Streamed: POST then PATCH with the blob in the body → 202', async () => {
          const post = await c().do('POST', '/v2/<name>/blobs/uploads/');
          assert.ok(post.header('location'), explain(post));
          const patch = await c().do('PATCH', post.relativeLocation(), { headers: { 'Content-Type': OCTET }, body: data.testBlobA.content });
          assert.equal(patch.status, 202, explain(patch));
          last = patch;
        });
        it('Streamed: PUT to the session URL with digest (Content-Length: 0) → 201 with Location', async () => {
          assert.ok(last);
          const put = await c().do('PUT', last.relativeLocation(), { query: { digest: data.testBlobA.digest }, headers: { 'Content-Type': OCTET } });
          assert.equal(put.status, 201, explain(put));
          assert.ok(put.header('location'));
        });

        it('Monolithic: GET nonexistent blob → 404', async () => {
          const res = await c().do('GET', `/v2/<name>/blobs/${data.dummyDigest}`);
          assert.equal(res.status, 404);
        });
        it('Monolithic: POST ?digest= with the blob → 201 or 202, with Location', async () => {
          const res = await c().do('POST', '/v2/<name>/blobs/uploads/', {
            query: { digest: configs[1]!.digest },
            headers: { 'Content-Type': OCTET, 'Content-Length': configs[1]!.length },
            body: configs[1]!.content,
          });
          assert.ok(res.header('location'), explain(res));
          assert.ok(res.status === 201 || res.status === 202, explain(res));
          last = res;
        });
        it('Monolithic: GET the blob → 200 after a 201 (404 after a 202)', async () => {
          const res = await c().do('GET', `/v2/<name>/blobs/${configs[1]!.digest}`);
          assert.equal(res.status, last!.status === 202 ? 404 : 200, explain(res));
        });
        it('Monolithic: POST without body → 202 (a session)', async () => {
          const res = await c().do('POST', '/v2/<name>/blobs/uploads/');
          assert.equal(res.status, 202, explain(res));
          last = res;
        });
        it('Monolithic: PUT the whole blob with digest → 201 with Location', async () => {
          const res = await c().do('PUT', last!.relativeLocation(), {
            query: { digest: configs[1]!.digest },
            headers: { 'Content-Type': OCTET, 'Content-Length': configs[1]!.length },
            body: configs[1]!.content,
          });
          assert.ok(res.header('location'), explain(res));
          assert.equal(res.status, 201, explain(res));
        });
        it('Monolithic: GET the blob → 200', async () => {
          const res = await c().do('GET', `/v2/<name>/blobs/${configs[1]!.digest}`);
          assert.equal(res.status, 200);
        });
        it('Monolithic: POST + PUT of the layer → 201 with Location, then GET → 200', async () => {
          const post = await c().do('POST', '/v2/<name>/blobs/uploads/');
          const put = await c().do('PUT', post.relativeLocation(), {
            query: { digest: layer.digest },
            headers: { 'Content-Type': OCTET, 'Content-Length': layer.length },
            body: layer.content,
          });
          assert.ok(put.header('location'), explain(put));
          assert.equal(put.status, 201, explain(put));
          const get = await c().do('GET', `/v2/<name>/blobs/${layer.digest}`);
          assert.equal(get.status, 200);
        });

        it('Chunked: an out-of-order chunk (the second one first) → 416', async () => {
          const post = await c().do('POST', '/v2/<name>/blobs/uploads/', { headers: { 'Content-Length': '0' } });
          assert.ok(post.header('location'), explain(post));
          const min = post.header('oci-chunk-min-length');
          if (min && Number(min) > chunkedB.chunk1.length) chunkedB = data.rebuildChunked(Number(min) * 2 - 2, Number(min));
          const res = await c().do('PATCH', post.relativeLocation(), {
            headers: { 'Content-Type': OCTET, 'Content-Length': String(chunkedB.chunk2.length), 'Content-Range': chunkedB.range2 },
            body: chunkedB.chunk2,
          });
          assert.equal(res.status, 416, explain(res));
        });
        it('Chunked: PATCH of the first chunk → 202 with Range equal to the chunk', async () => {
          const post = await c().do('POST', '/v2/<name>/blobs/uploads/', { headers: { 'Content-Length': '0' } });
          assert.ok(post.header('location'), explain(post));
          prev = post;
          const res = await c().do('PATCH', post.relativeLocation(), {
            headers: { 'Content-Type': OCTET, 'Content-Length': String(chunkedB.chunk1.length), 'Content-Range': chunkedB.range1 },
            body: chunkedB.chunk1,
          });
          assert.equal(res.status, 202, explain(res));
          assert.equal(res.header('range'), chunkedB.range1);
          last = res;
        });
        it('Chunked: retrying the first chunk on the POST\'s Location → 416', async () => {
          const res = await c().do('PATCH', prev!.relativeLocation(), {
            headers: { 'Content-Type': OCTET, 'Content-Length': String(chunkedB.chunk1.length), 'Content-Range': chunkedB.range1 },
            body: chunkedB.chunk1,
          });
          assert.equal(res.status, 416, explain(res));
        });
        it('Chunked: GET of the upload (stale Location) → 204 with Location and Range', async () => {
          const res = await c().do('GET', prev!.relativeLocation());
          assert.equal(res.status, 204, explain(res));
          assert.ok(res.header('location'));
          assert.equal(res.header('range'), chunkedB.range1);
          last = res;
        });
        it('Chunked: PATCH of the second chunk at the status Location → 202 with Location', async () => {
          const res = await c().do('PATCH', last!.relativeLocation(), {
            headers: { 'Content-Length': String(chunkedB.chunk2.length), 'Content-Range': chunkedB.range2, 'Content-Type': OCTET },
            body: chunkedB.chunk2,
          });
          assert.equal(res.status, 202, explain(res));
          assert.ok(res.header('location'));
          last = res;
        });
        it('Chunked: PUT with digest and Content-Length: 0 → 201 with Location', async () => {
          const res = await c().do('PUT', last!.relativeLocation(), {
            query: { digest: chunkedB.blob.digest },
            headers: { 'Content-Length': '0', 'Content-Type': OCTET },
          });
          assert.equal(res.status, 201, explain(res));
          assert.ok(res.header('location'));
          const get = await c().do('GET', `/v2/<name>/blobs/${chunkedB.blob.digest}`);
          assert.deepEqual(get.body, chunkedB.blob.content);
        });

        it('Chunked (older suites): last chunk carried by the PUT with Content-Range → 201 with Location', async () => {
          const post = await c().do('POST', '/v2/<name>/blobs/uploads/', { headers: { 'Content-Length': '0' } });
          const patch = await c().do('PATCH', post.relativeLocation(), {
            headers: { 'Content-Type': OCTET, 'Content-Length': String(chunkedB.chunk1.length), 'Content-Range': chunkedB.range1 },
            body: chunkedB.chunk1,
          });
          assert.equal(patch.status, 202, explain(patch));
          const put = await c().do('PUT', patch.relativeLocation(), {
            query: { digest: chunkedB.blob.digest },
            headers: { 'Content-Length': String(chunkedB.chunk2.length), 'Content-Range': chunkedB.range2, 'Content-Type': OCTET },
            body: chunkedB.chunk2,
          });
          assert.equal(put.status, 201, explain(put));
          assert.ok(put.header('location'));
        });

        it('Cross-mount without from → 202 with a Location', async () => {
          const res = await c().do('POST', `/v2/${crossmountNamespace}/blobs/uploads/`, { query: { mount: data.dummyDigest } });
          assert.equal(res.status, 202, explain(res));
          assert.ok(res.header('location'));
        });
        it('Cross-mount of a blob from the namespace → 201 or 202', async () => {
          const res = await c().do('POST', `/v2/${crossmountNamespace}/blobs/uploads/`, { query: { mount: data.testBlobA.digest, from: namespace } });
          assert.ok(res.status === 201 || res.status === 202, explain(res));
          last = res;
        });
        it('after 201: Location is /v2/<crossmount>/blobs/<digest> and GET there → 200', async (t) => {
          if (last!.status !== 201) return t.skip('the mount answered 202');
          assert.equal(last!.relativeLocation(), `/v2/${crossmountNamespace}/blobs/${data.testBlobA.digest}`);
          const res = await c().do('GET', last!.relativeLocation());
          assert.equal(res.status, 200, explain(res));
        });
        it('after 202: Location starts with /v2/<crossmount>/blobs/uploads/', async (t) => {
          if (last!.status !== 202) return t.skip('the mount answered 201');
          assert.ok(last!.relativeLocation().startsWith(`/v2/${crossmountNamespace}/blobs/uploads/`), last!.relativeLocation());
        });
        it('automatic crossmount: mount without from → 201 when enabled, 202 when disabled', async (t) => {
          if (variant.automaticCrossmount === undefined) return t.skip('OCI_AUTOMATIC_CROSSMOUNT unset');
          if (last!.status !== 201) return t.skip('the mount with from answered 202');
          const res = await c().do('POST', `/v2/${crossmountNamespace}/blobs/uploads/`, { query: { mount: data.testBlobA.digest } });
          assert.equal(res.status, variant.automaticCrossmount ? 201 : 202, explain(res));
        });

        it('beyond the suite: a zero-length blob, monolithic POST and POST + empty PUT → 201; GET → 200, 0 bytes', async () => {
          const emptyDigest = sha256('');
          const mono = await c().do('POST', '/v2/<name>/blobs/uploads/', { query: { digest: emptyDigest }, headers: { 'Content-Type': OCTET } });
          assert.equal(mono.status, 201, explain(mono));
          const post = await c().do('POST', '/v2/<name>/blobs/uploads/');
          const put = await c().do('PUT', post.relativeLocation(), { query: { digest: emptyDigest }, headers: { 'Content-Type': OCTET } });
          assert.equal(put.status, 201, explain(put));
          const head = await c().do('HEAD', `/v2/<name>/blobs/${emptyDigest}`);
          assert.equal(head.status, 200);
          assert.equal(head.header('content-length'), '0');
          const get = await c().do('GET', `/v2/<name>/blobs/${emptyDigest}`);
          assert.equal(get.status, 200, explain(get));
          assert.equal(get.body.length, 0);
        });

        it('Manifest upload: GET nonexistent manifest → 404', async () => {
          const res = await c().do('GET', `/v2/<name>/manifests/${data.nonexistentManifest}`);
          assert.equal(res.status, 404);
        });
        it('Manifest upload: PUT manifest[1] as test0..test3 → 201 with Location each', async () => {
          for (let i = 0; i < 4; i++) {
            const res = await putManifest(`test${i}`, manifests[1]!);
            assert.ok(res.header('location'), explain(res));
            assert.equal(res.status, 201, explain(res));
          }
        });
        it('Manifest upload: a manifest with no layers (and no mediaType field) → 201 with Location', async () => {
          const res = await putManifest('emptylayer', data.emptyLayerManifest);
          assert.equal(res.status, 201, explain(res));
          emptyLayerManifestRef = res.header('location');
          assert.ok(emptyLayerManifestRef);
        });
        it('Manifest upload: GET manifest[1] by digest → 200', async () => {
          const res = await c().do('GET', `/v2/<name>/manifests/${manifests[1]!.digest}`, { headers: { Accept: OCI_MANIFEST } });
          assert.equal(res.status, 200);
        });

        it('Teardown: delete manifests and blobs in the configured order', async () => {
          const deleteManifests = async () => {
            okDelete(await c().do('DELETE', `/v2/<name>/manifests/${manifests[1]!.digest}`));
            if (emptyLayerManifestRef) okDelete(await c().do('DELETE', `/v2/<name>/manifests/${data.emptyLayerManifest.digest}`));
          };
          if (variant.deleteManifestBeforeBlobs) await deleteManifests();
          okDelete(await c().do('DELETE', `/v2/<name>/blobs/${configs[1]!.digest}`), [404]);
          okDelete(await c().do('DELETE', `/v2/<name>/blobs/${layer.digest}`), [404]);
          if (!variant.deleteManifestBeforeBlobs) await deleteManifests();
        });
      });

      describe('Content Discovery', () => {
        let numTags = 4;
        let tagList: string[] = [];
        const tagsOf = (reply: Reply): string[] => {
          try {
            return reply.json<{ tags?: string[] | null }>().tags ?? [];
          } catch {
            return [];
          }
        };

        it('Setup: config[2], the layer, and manifest[2] as test0..test3', async () => {
          await populateBlob(configs[2]!);
          await populateBlob(layer);
          for (let i = 0; i < numTags; i++) {
            const res = await putManifest(`test${i}`, manifests[2]!);
            assert.ok(is2xx(res.status), explain(res));
          }
          tagList = tagsOf(await c().do('GET', '/v2/<name>/tags/list'));
        });
        it('Setup: referrers (subject pushed after some of them, one subject never pushed), OCI-Subject answered', async () => {
          assert.equal(data.emptyJson.digest, EMPTY_JSON_DIGEST);
          await populateBlob(data.emptyJson);
          await populateBlob(data.refBlobA);
          const subject4 = manifests[4]!.digest;
          for (const [m, type] of [[data.refsAConfig, OCI_MANIFEST], [data.refsALayer, OCI_MANIFEST], [data.refsIndex, OCI_INDEX]] as const) {
            const res = await putManifest(m.digest, m, type);
            assert.ok(is2xx(res.status), explain(res));
            assert.equal(res.header('oci-subject'), subject4);
          }
          await populateBlob(configs[4]!);
          await populateBlob(layer);
          const image = await putManifest('tagtest0', manifests[4]!);
          assert.ok(is2xx(image.status), explain(image));
          await populateBlob(data.refBlobB);
          for (const m of [data.refsBConfig, data.refsBLayer]) {
            const res = await putManifest(m.digest, m);
            assert.ok(is2xx(res.status), explain(res));
            assert.equal(res.header('oci-subject'), subject4);
          }
          const orphan = await putManifest(data.refsCLayer.digest, data.refsCLayer);
          assert.ok(is2xx(orphan.status), explain(orphan));
          assert.equal(orphan.header('oci-subject'), manifests[3]!.digest);
        });

        it('tags list → 200', async () => {
          const res = await c().do('GET', '/v2/<name>/tags/list');
          assert.equal(res.status, 200, explain(res));
          tagList = tagsOf(res);
          numTags = tagList.length;
          assert.ok(numTags >= 5, `tags: ${tagList.join(',')}`);
        });
        it('tags list: n limits the count', async () => {
          const n = Math.floor(numTags / 2);
          const res = await c().do('GET', '/v2/<name>/tags/list', { query: { n: String(n) } });
          assert.equal(res.status, 200);
          assert.equal(tagsOf(res).length, n);
        });
        it('tags list: last sets the start', async () => {
          const n = Math.floor(numTags / 2);
          const firstPage = tagsOf(await c().do('GET', '/v2/<name>/tags/list', { query: { n: String(n) } }));
          const res = await c().do('GET', '/v2/<name>/tags/list', { query: { n: String(n), last: firstPage[n - 1]! } });
          assert.equal(res.status, 200);
          // The suite's own check here re-reads the first page; check what it means to check.
          const second = tagsOf(res);
          assert.ok(second.length <= n);
          assert.ok(second.every((t) => t > firstPage[n - 1]!), second.join(','));
        });

        it('referrers of a nonexistent digest → 200, index Content-Type, no manifests', async () => {
          const res = await c().do('GET', `/v2/<name>/referrers/${data.dummyDigest}`);
          assert.equal(res.status, 200, explain(res));
          assert.equal(res.header('content-type'), OCI_INDEX);
          assert.equal(res.json<{ manifests: unknown[] }>().manifests.length, 0);
        });
        it('referrers of manifest[4] → 200 with 5 distinct descriptors, each with exactly its one annotation', async () => {
          const res = await c().do('GET', `/v2/<name>/referrers/${manifests[4]!.digest}`);
          assert.equal(res.status, 200);
          assert.equal(res.header('content-type'), OCI_INDEX);
          const list = res.json<{ manifests: { digest: string; annotations?: Record<string, string> }[] }>().manifests;
          assert.equal(list.length, 5);
          assert.notEqual(list[0]!.digest, list[1]!.digest);
          for (const d of list) {
            assert.equal(Object.keys(d.annotations ?? {}).length, 1, JSON.stringify(d));
            assert.equal(d.annotations![data.annotationKey], data.annotationOf.get(d.digest));
          }
        });
        it('referrers with artifactType filter → 200; with OCI-Filters-Applied exactly the 2 of that type', async () => {
          const res = await c().do('GET', `/v2/<name>/referrers/${manifests[4]!.digest}`, { query: { artifactType: data.typeA } });
          assert.equal(res.status, 200);
          assert.equal(res.header('content-type'), OCI_INDEX);
          const list = res.json<{ manifests: { digest: string; annotations?: Record<string, string> }[] }>().manifests;
          const applied = res.header('oci-filters-applied');
          assert.equal(applied, 'artifactType', 'Berth implements the filter');
          assert.equal(list.length, 2);
          for (const d of list) {
            assert.equal(Object.keys(d.annotations ?? {}).length, 1);
            assert.equal(d.annotations![data.annotationKey], data.annotationOf.get(d.digest));
          }
        });
        it('referrers of a subject never pushed → 200 with the one referrer', async () => {
          const res = await c().do('GET', `/v2/<name>/referrers/${manifests[3]!.digest}`);
          assert.equal(res.status, 200);
          assert.equal(res.header('content-type'), OCI_INDEX);
          const list = res.json<{ manifests: { digest: string }[] }>().manifests;
          assert.equal(list.length, 1);
          assert.equal(list[0]!.digest, data.refsCLayer.digest);
        });

        it('Teardown: manifests, tags, blobs and referrer blobs in the configured order', async () => {
          const deleteReferences = async () => {
            for (const ref of [data.refsIndex.digest, manifests[2]!.digest, manifests[4]!.digest, data.refsAConfig.digest, data.refsALayer.digest,
              'tagtest0', data.refsBConfig.digest, data.refsBLayer.digest, data.refsCLayer.digest]) {
              okDelete(await c().do('DELETE', `/v2/<name>/manifests/${ref}`), [404]);
            }
          };
          const deleteReferrerManifests = async () => {
            for (const m of [data.refsIndex, data.refsAConfig, data.refsALayer, manifests[4]!, data.refsBConfig, data.refsBLayer]) {
              okDelete(await c().do('DELETE', `/v2/<name>/manifests/${m.digest}`), [404]);
            }
          };
          if (variant.deleteManifestBeforeBlobs) await deleteReferences();
          // No 404 accepted for these two.
          okDelete(await c().do('DELETE', `/v2/<name>/blobs/${configs[2]!.digest}`));
          okDelete(await c().do('DELETE', `/v2/<name>/blobs/${layer.digest}`));
          if (!variant.deleteManifestBeforeBlobs) await deleteReferences();
          // "References teardown"
          if (variant.deleteManifestBeforeBlobs) await deleteReferrerManifests();
          for (const b of [configs[4]!, data.refBlobA, data.refBlobB, data.emptyJson]) {
            okDelete(await c().do('DELETE', `/v2/<name>/blobs/${b.digest}`), [404]);
          }
          if (!variant.deleteManifestBeforeBlobs) await deleteReferrerManifests();
        });
      });

      describe('Content Management', () => {
        let numTags = 0;
        let blobDeleteAllowed = true;

        it('Setup: config[3], the layer, manifest[3] as tagtest0, and the tag count', async () => {
          await populateBlob(configs[3]!);
          await populateBlob(layer);
          const res = await putManifest('tagtest0', manifests[3]!);
          assert.ok(is2xx(res.status), explain(res));
          const list = await c().do('GET', '/v2/<name>/tags/list');
          assert.equal(list.status, 200, explain(list));
          numTags = (list.json<{ tags?: string[] | null }>().tags ?? []).length;
          assert.ok(numTags >= 1);
        });
        it('DELETE of the tag → 202 (or 400 UNSUPPORTED / 405 when tag deletion is refused)', async () => {
          const res = await c().do('DELETE', '/v2/<name>/manifests/tagtest0');
          assert.ok([202, 400, 405].includes(res.status), explain(res));
          if (res.status === 400) assert.equal(errorCodes(res)[0], 'UNSUPPORTED');
          assert.equal(res.status, 202, 'Berth deletes tags');
        });
        it('DELETE of manifest[3] by digest → 202 (or 404 if already gone)', async () => {
          const res = await c().do('DELETE', `/v2/<name>/manifests/${manifests[3]!.digest}`);
          assert.ok(res.status === 202 || res.status === 404, explain(res));
        });
        it('GET of the deleted manifest → 404', async () => {
          const res = await c().do('GET', `/v2/<name>/manifests/${manifests[3]!.digest}`);
          assert.ok(res.status === 404 || res.status === 200, explain(res));
          assert.equal(res.status, 404, 'Berth really deletes');
        });
        it('tags list → 200 and shorter than before', async () => {
          const res = await c().do('GET', '/v2/<name>/tags/list');
          assert.equal(res.status, 200, explain(res));
          const tags = res.json<{ tags?: string[] | null }>().tags ?? [];
          assert.ok(tags.length < numTags, `${tags.length} < ${numTags}`);
        });
        it('DELETE of the config and layer blobs → 202 (404/405 accepted)', async () => {
          const config = await c().do('DELETE', `/v2/<name>/blobs/${configs[3]!.digest}`);
          assert.ok([202, 404, 405].includes(config.status), explain(config));
          const layerRes = await c().do('DELETE', `/v2/<name>/blobs/${layer.digest}`);
          assert.ok([202, 404, 405].includes(layerRes.status), explain(layerRes));
          if (layerRes.status === 405) blobDeleteAllowed = false;
        });
        it('GET of the deleted config blob → 404', async (t) => {
          if (!blobDeleteAllowed) return t.skip('blob deletion refused with 405');
          const res = await c().do('GET', `/v2/<name>/blobs/${configs[3]!.digest}`);
          assert.equal(res.status, 404, explain(res));
        });
      });
    });
  });

  if (deployment.redirects) {
    it('every blob GET above was answered with a redirect to the store', () => {
      if (startError) throw startError;
      assertBlobGetsRedirected(target!.logs());
    });
  }
}));
