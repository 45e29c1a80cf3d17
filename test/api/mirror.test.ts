/**
 * The pull-through mirror over HTTP, with real processes on every side:
 * - upstream `hub`: Debian's docker-registry (CNCF Distribution 2.8.2) with htpasswd Basic auth;
 * - upstream `tok` / `anon`: a second Berth with token auth (the Docker-Hub-like Bearer flow),
 *   with and without the mirror's credentials;
 * - a recording proxy in front of each upstream (counts what reaches it, alters a blob's bytes,
 *   drops connections when the upstream is down);
 * - the mirror: the Node server on the filesystem store, and then (the last suite) every
 *   runtime target of test/support/targets.ts.
 * BERTH_MIRROR_TTL_SECONDS is short here so the TTL cases wait two seconds, not minutes; the
 * clock-driven cases (a tag not revalidated before its TTL, tokens expiring) live in
 * mirror-clock.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { rmSync } from 'node:fs';
import { ADMIN, BASE_ENV, selectedTargets, type Target } from '../support/targets.ts';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { startDistribution, type Distribution } from '../support/target-reference.ts';
import { RecordingProxy } from '../support/recording-proxy.ts';
import { BerthAdmin } from '../support/e2e-target.ts';
import { RegistryClient, describe as explain, errorCode, randomBlob, sha256, type Bytes } from '../support/registry-client.ts';
import { parseChallenge } from '../support/auth-client.ts';
import { MANIFEST_ACCEPT, mirrorEvents, pullImage } from '../support/mirror-fixtures.ts';
import { testPort } from '../support/ports.ts';

const BASE = testPort(15340);
const PORTS = { hub: BASE, hubProxy: BASE + 1, berth: BASE + 2, berthProxy: BASE + 3, mirror: BASE + 4, nothing: BASE + 5, targets: BASE + 10 };
const MiB = 1024 * 1024;
const TTL_SECONDS = 2;
const WORK = resolve('.tmp', 'mirror-api');
const TOK_ADMIN = { username: 'admin', password: 'upstream-admin-password' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let hub: Distribution;
let hubProxy: RecordingProxy;
let berth: NodeTarget;
let berthProxy: RecordingProxy;
let hubClient: RegistryClient;
let tokClient: RegistryClient;
let mirrorBot: { username: string; password: string };
/** Layers pushed upstream, by image. */
const images: Record<string, { layers: Bytes[]; digest: string }> = {};
let setupError: unknown = null;

function mirrorEnv(): Record<string, string> {
  return {
    ...BASE_ENV,
    BERTH_MIRRORS: [
      `hub=${hubProxy.url}`,
      `tok=${berthProxy.url}`,
      `anon=${berthProxy.url}`,
      `down=http://127.0.0.1:${PORTS.nothing}`,
    ].join(','),
    BERTH_MIRROR_HUB_USERNAME: hub.credentials.username,
    BERTH_MIRROR_HUB_PASSWORD: hub.credentials.password,
    BERTH_MIRROR_TOK_USERNAME: mirrorBot.username,
    BERTH_MIRROR_TOK_PASSWORD: mirrorBot.password,
    BERTH_MIRROR_TTL_SECONDS: String(TTL_SECONDS),
    BERTH_MIRROR_DEFAULT: 'hub',
    BERTH_PUBLIC_REPOS: 'hub/**',
    BERTH_PART_SIZE_MB: '5',
  };
}

async function pushUpstream(client: RegistryClient, repo: string, tag: string, sizes: number[]): Promise<void> {
  const layers = sizes.map((size) => randomBlob(size));
  const { digest } = await client.pushImage(repo, tag, layers);
  images[`${repo}:${tag}`] = { layers, digest };
}

before(async () => {
  try {
    rmSync(WORK, { recursive: true, force: true });
    hub = await startDistribution({ port: PORTS.hub, dir: resolve(WORK, 'hub') });
    hubProxy = await RecordingProxy.start(PORTS.hubProxy, hub.url);
    berth = await startNodeTarget({
      port: PORTS.berth,
      env: { BERTH_ADMIN_PASSWORD: TOK_ADMIN.password, BERTH_PUBLIC_REPOS: 'public/**' },
    });
    berthProxy = await RecordingProxy.start(PORTS.berthProxy, berth.url);
    hubClient = new RegistryClient(hub.url, hub.credentials);
    tokClient = new RegistryClient(berth.url, TOK_ADMIN);
    await pushUpstream(hubClient, 'library/alpine', '3', [12 * MiB, 1024]);
    await pushUpstream(hubClient, 'library/busy', '1', [6 * MiB, 100 * 1024, 2048]);
    await pushUpstream(hubClient, 'library/moving', '1', [300 * 1024]);
    await pushUpstream(hubClient, 'library/corrupt', '1', [6 * MiB]);
    await pushUpstream(hubClient, 'library/stale', '1', [200 * 1024]);
    await pushUpstream(tokClient, 'private/app', '1', [3 * MiB, 4096]);
    await pushUpstream(tokClient, 'public/tool', '1', [512 * 1024]);
    mirrorBot = await new BerthAdmin(berth.url, TOK_ADMIN).createPullOnlyUser('private/**');
  } catch (error) {
    setupError = error;
  }
});

after(async () => {
  await berthProxy?.stop();
  await berth?.stop();
  await hubProxy?.stop();
  await hub?.stop();
  rmSync(WORK, { recursive: true, force: true });
});

describe('pull-through mirror on the Node server (filesystem store)', { timeout: 300_000 }, () => {
  let mirror: NodeTarget;
  let admin: RegistryClient;
  let anonymous: RegistryClient;

  before(async () => {
    if (setupError) return;
    mirror = await startNodeTarget({ port: PORTS.mirror, env: mirrorEnv() });
    admin = new RegistryClient(mirror.url, ADMIN);
    anonymous = new RegistryClient(mirror.url, null);
  });
  after(async () => {
    await mirror?.stop();
  });
  const ready = (): void => {
    if (setupError) throw setupError;
  };

  it('pulls an image through a Basic-auth upstream: the upstream digest, every blob verified', async () => {
    ready();
    hubProxy.reset();
    const pulled = await pullImage(anonymous.fetch, 'hub/library/alpine', '3');
    assert.equal(pulled.digest, images['library/alpine:3']!.digest);
    assert.deepEqual(pulled.layers.map((l) => l.size), [12 * MiB, 1024]);
    assert.equal(hubProxy.blobGets('library/alpine').length, 3, 'config and two layers fetched upstream once each');
  });

  it('a second pull is served from the bucket: no blob request reaches the upstream', async () => {
    ready();
    hubProxy.reset();
    const pulled = await pullImage(admin.fetch, 'hub/library/alpine', '3');
    assert.equal(pulled.digest, images['library/alpine:3']!.digest);
    assert.deepEqual(hubProxy.blobGets(), [], JSON.stringify(hubProxy.requests));
    assert.deepEqual(hubProxy.manifestRequests('GET'), [], 'a cached tag within its TTL is not fetched again');
  });

  it('pull by digest is served from the cache once fetched', async () => {
    ready();
    hubProxy.reset();
    const pulled = await pullImage(anonymous.fetch, 'hub/library/alpine', images['library/alpine:3']!.digest);
    assert.equal(pulled.digest, images['library/alpine:3']!.digest);
    assert.deepEqual(hubProxy.requests, []);
  });

  it('ten concurrent pulls of one image fetch its manifest and each blob from the upstream once', async () => {
    ready();
    hubProxy.reset();
    const pulls = await Promise.all(Array.from({ length: 10 }, () => pullImage(anonymous.fetch, 'hub/library/busy', '1')));
    for (const pulled of pulls) assert.equal(pulled.digest, images['library/busy:1']!.digest);
    const gets = hubProxy.blobGets('library/busy').map((r) => r.path).sort();
    assert.equal(gets.length, 4, `config + 3 layers, once each: ${gets.join(', ')}`);
    assert.equal(new Set(gets).size, 4);
    assert.equal(hubProxy.manifestRequests('GET', 'library/busy').filter((r) => r.status === 200).length, 1);
  });

  it('a Bearer upstream (Berth with token auth): the mirror logs in with its credentials, one token per scope', async () => {
    ready();
    berthProxy.reset();
    const pulled = await pullImage(admin.fetch, 'tok/private/app', '1');
    assert.equal(pulled.digest, images['private/app:1']!.digest);
    assert.equal(berthProxy.blobGets('private/app').length, 3);
    const tokens = berthProxy.tokenRequests();
    assert.equal(tokens.length, 1, `one token for the manifest and all blobs: ${JSON.stringify(berthProxy.requests)}`);
    assert.equal(tokens[0]?.status, 200);
  });

  it('an anonymous Bearer mirror pulls public images and answers 404 naming the upstream 401 for private ones', async () => {
    ready();
    const pulled = await pullImage(admin.fetch, 'anon/public/tool', '1');
    assert.equal(pulled.digest, images['public/tool:1']!.digest);
    const res = await admin.fetch('/v2/anon/private/app/manifests/1', { headers: { Accept: MANIFEST_ACCEPT } });
    assert.equal(res.status, 404, await explain(res));
    const body = (await res.json()) as { errors: { code: string; message: string; detail: { upstreamStatus: number } }[] };
    assert.equal(body.errors[0]?.code, 'MANIFEST_UNKNOWN');
    assert.match(body.errors[0]?.message ?? '', /answered 401/);
    assert.equal(body.errors[0]?.detail.upstreamStatus, 401);
  });

  it('a name the upstream does not know: 404 MANIFEST_UNKNOWN naming the upstream and its 404', async () => {
    ready();
    const res = await anonymous.fetch('/v2/hub/library/nothing-here/manifests/1');
    assert.equal(res.status, 404);
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, 'MANIFEST_UNKNOWN');
    assert.match(body.errors[0]?.message ?? '', new RegExp(`upstream ${hubProxy.url} answered 404`));
    const blob = await anonymous.fetch(`/v2/hub/library/alpine/blobs/${sha256('not there')}`);
    assert.equal(blob.status, 404);
    assert.equal(await errorCode(blob), 'BLOB_UNKNOWN');
  });

  it('an upstream that does not answer: 502 UNAVAILABLE naming it, never a hang', async () => {
    ready();
    const res = await admin.fetch('/v2/down/library/alpine/manifests/3');
    assert.equal(res.status, 502, await explain(res));
    const body = (await res.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]?.code, 'UNAVAILABLE');
    assert.match(body.errors[0]?.message ?? '', new RegExp(`upstream http://127.0.0.1:${PORTS.nothing} is unreachable`));
  });

  it('a corrupted upstream blob is not cached: the pull fails cleanly, the next one fetches it again', async () => {
    ready();
    const image = images['library/corrupt:1']!;
    const layer = sha256(image.layers[0]!);
    hubProxy.corruptDigest = layer;
    hubProxy.reset();
    try {
      const res = await anonymous.fetch(`/v2/hub/library/corrupt/blobs/${layer}`);
      assert.equal(res.status, 200, 'the transfer had started');
      assert.equal(res.headers.get('content-length'), String(6 * MiB));
      await assert.rejects(res.arrayBuffer(), 'the download must break off, not end as if complete');
      // Nothing was kept: the blob is not linked (a HEAD is answered by the upstream, not the bucket).
      const again = await anonymous.fetch(`/v2/hub/library/corrupt/blobs/${layer}`);
      await assert.rejects(again.arrayBuffer());
      assert.equal(hubProxy.blobGets('library/corrupt').length, 2, 'each pull went to the upstream');
      const events = mirrorEvents(mirror.logs()).filter((e) => e.event === 'fill-failed' && e.digest === layer);
      assert.ok(events.length >= 1, 'the failed fill is logged');
      assert.match(String(events[0]?.reason), /nothing was kept/);
    } finally {
      hubProxy.corruptDigest = null;
    }
    hubProxy.reset();
    const pulled = await pullImage(anonymous.fetch, 'hub/library/corrupt', '1');
    assert.equal(pulled.digest, image.digest);
    assert.equal(hubProxy.blobGets('library/corrupt').length, 2, 'config and the layer, now verified');
  });

  it('a tag moved upstream is seen once the TTL has passed (revalidated with a HEAD)', async () => {
    ready();
    const first = await pullImage(anonymous.fetch, 'hub/library/moving', '1');
    await pushUpstream(hubClient, 'library/moving', '1', [100 * 1024]);
    const moved = images['library/moving:1']!.digest;
    assert.notEqual(first.digest, moved);
    await sleep(TTL_SECONDS * 1000 + 200);
    hubProxy.reset();
    const second = await pullImage(anonymous.fetch, 'hub/library/moving', '1');
    assert.equal(second.digest, moved);
    assert.equal(hubProxy.manifestRequests('HEAD', 'library/moving').filter((r) => r.status === 200).length, 1, 'asked with a HEAD first');
    // Once renewed, an unchanged tag past its TTL costs only a HEAD, no GET.
    await sleep(TTL_SECONDS * 1000 + 200);
    hubProxy.reset();
    await pullImage(anonymous.fetch, 'hub/library/moving', '1');
    assert.equal(hubProxy.manifestRequests('HEAD', 'library/moving').length >= 1, true);
    assert.deepEqual(hubProxy.manifestRequests('GET', 'library/moving').filter((r) => r.status === 200), []);
  });

  it('with the upstream stopped, a cached image still pulls (stale tag served, logged); an uncached one gets 502', async () => {
    ready();
    const cached = await pullImage(anonymous.fetch, 'hub/library/stale', '1');
    await hub.stop();
    try {
      await sleep(TTL_SECONDS * 1000 + 200);
      const again = await pullImage(anonymous.fetch, 'hub/library/stale', '1');
      assert.equal(again.digest, cached.digest);
      const stale = mirrorEvents(mirror.logs()).filter((e) => e.event === 'stale-tag' && e.repository === 'hub/library/stale');
      assert.ok(stale.length >= 1, 'a log line says the tag was served stale');
      assert.match(String(stale[0]?.reason), /unreachable/);
      const uncached = await anonymous.fetch('/v2/hub/library/never-pulled/manifests/1');
      assert.equal(uncached.status, 502, await explain(uncached));
      assert.equal(await errorCode(uncached), 'UNAVAILABLE');
    } finally {
      hub = await startDistribution({ port: PORTS.hub, dir: resolve(WORK, 'hub') });
    }
  });

  it('pushes under a mirror prefix are refused with a clear error, anonymous or admin', async () => {
    ready();
    for (const client of [anonymous, admin]) {
      const start = await client.fetch('/v2/hub/library/alpine/blobs/uploads/', { method: 'POST' });
      assert.equal(start.status, 403, await explain(start));
      const body = (await start.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]?.code, 'DENIED');
      assert.match(body.errors[0]?.message ?? '', new RegExp(`hub/ is a read-only mirror of ${hubProxy.url}`));
      const put = await client.putManifest('hub/library/alpine', 'mine', '{}');
      assert.equal(put.status, 403);
      assert.equal(await errorCode(put), 'DENIED');
    }
  });

  it("Berth's own access rules apply to mirrored names", async () => {
    ready();
    const denied = await fetch(`${mirror.url}/v2/tok/private/app/manifests/1`);
    assert.equal(denied.status, 401, 'tok/** is not public');
    const users = new BerthAdmin(mirror.url, ADMIN);
    const reader = await users.createPullOnlyUser('tok/**');
    const pulled = await pullImage(new RegistryClient(mirror.url, reader).fetch, 'tok/private/app', '1');
    assert.equal(pulled.digest, images['private/app:1']!.digest);
    const other = await users.createPullOnlyUser('team/**');
    const refused = await new RegistryClient(mirror.url, other).fetch('/v2/tok/private/app/manifests/1');
    assert.ok(refused.status === 401 || refused.status === 403, `got ${refused.status}`);
  });

  it("BERTH_MIRROR_DEFAULT: dockerd's library/alpine comes from the hub mirror; Berth's own repositories win", async () => {
    ready();
    // As dockerd with registry-mirrors does: GET /v2/ (401), then an anonymous token for the
    // scope it computes itself, `repository:library/alpine:pull`, whatever the challenge said.
    const challenge = parseChallenge((await fetch(`${mirror.url}/v2/`)).headers.get('www-authenticate'));
    assert.ok(challenge?.realm && challenge.service);
    const query = new URLSearchParams({ service: challenge.service, scope: 'repository:library/alpine:pull' });
    const answer = (await (await fetch(`${challenge.realm}?${query}`)).json()) as { token: string };
    const dockerd = (path: string, init: RequestInit = {}): Promise<Response> =>
      fetch(`${mirror.url}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${answer.token}` } });
    const pulled = await pullImage(dockerd, 'library/alpine', '3');
    assert.equal(pulled.digest, images['library/alpine:3']!.digest);
    // A repository Berth holds itself is never answered from the mirror.
    const own = await admin.pushImage('library/busy', '1', [randomBlob(2048)]);
    const local = await pullImage(admin.fetch, 'library/busy', '1');
    assert.equal(local.digest, own.digest);
    assert.notEqual(local.digest, images['library/busy:1']!.digest);
    // Blob HEADs (asked during pushes) are Berth's own: never "exists" because the upstream has it.
    const head = await admin.fetch(`/v2/library/alpine/blobs/${sha256(images['library/alpine:3']!.layers[1]!)}`, { method: 'HEAD' });
    assert.equal(head.status, 404);
  });

  it('promotion copies a cached mirror image into a repository of Berth; into a mirror prefix it is refused', async () => {
    ready();
    const promote = (source: string, target: string): Promise<Response> =>
      fetch(`${mirror.url}/admin/tags`, {
        method: 'POST',
        headers: { Authorization: `Basic ${btoa(`${ADMIN.username}:${ADMIN.password}`)}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ source, target }),
      });
    const pinned = await promote('hub/library/alpine:3', 'base/alpine:3');
    assert.equal(pinned.status, 201, await explain(pinned));
    hubProxy.reset();
    const pulled = await pullImage(admin.fetch, 'base/alpine', '3');
    assert.equal(pulled.digest, images['library/alpine:3']!.digest);
    assert.deepEqual(hubProxy.requests, [], 'a promoted copy is Berth\'s own');
    const refused = await promote('base/alpine:3', 'hub/library/alpine:mine');
    assert.equal(refused.status, 403);
    assert.match(JSON.stringify(await refused.json()), /read-only mirror/);
  });

  it('mirrored repositories are listed like any other, with the tags pulled so far', async () => {
    ready();
    const catalog = (await (await admin.fetch('/v2/_catalog')).json()) as { repositories: string[] };
    for (const name of ['hub/library/alpine', 'hub/library/busy', 'tok/private/app']) assert.ok(catalog.repositories.includes(name), name);
    const tags = (await (await anonymous.fetch('/v2/hub/library/alpine/tags/list')).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ['3']);
  });

  it('retention keeps the cache small like any repository; a pruned tag is fetched again', async () => {
    ready();
    await pushUpstream(hubClient, 'library/retain', 'old', [1024]);
    await pushUpstream(hubClient, 'library/retain', 'new', [1024]);
    await pullImage(anonymous.fetch, 'hub/library/retain', 'old');
    await pullImage(anonymous.fetch, 'hub/library/retain', 'new');
    const adminApi = (method: string, path: string, body?: unknown): Promise<Response> =>
      fetch(`${mirror.url}${path}`, {
        method,
        headers: { Authorization: `Basic ${btoa(`${ADMIN.username}:${ADMIN.password}`)}`, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const policy = await adminApi('PUT', '/admin/policies', { pattern: 'hub/library/retain', keepLast: 1 });
    assert.ok(policy.ok, await explain(policy));
    try {
      const run = await adminApi('POST', '/admin/retention?dryRun=false');
      assert.equal(run.status, 200, await explain(run));
      const report = (await run.json()) as { tags: { repository: string; tag: string }[] };
      assert.deepEqual(report.tags.map((t) => `${t.repository}:${t.tag}`), ['hub/library/retain:old']);
      const tags = (await (await anonymous.fetch('/v2/hub/library/retain/tags/list')).json()) as { tags: string[] };
      assert.deepEqual(tags.tags, ['new']);
      hubProxy.reset();
      const again = await pullImage(anonymous.fetch, 'hub/library/retain', 'old');
      assert.equal(again.digest, images['library/retain:old']!.digest);
      assert.equal(hubProxy.manifestRequests('GET', 'library/retain').filter((r) => r.status === 200).length, 1);
    } finally {
      await adminApi('DELETE', '/admin/policies?pattern=hub/library/retain');
    }
  });
});

/**
 * The other runtime targets (BERTH_TEST_TARGETS picks them; node-fs is the suite above): the
 * mirror fills its own store, and the second pull is served from it (presigned redirects where
 * the store can presign).
 */
describe('pull-through mirror on every runtime', { timeout: 600_000 }, () => {
  selectedTargets().filter((spec) => spec.name !== 'node-fs').forEach((spec, index) => {
    describe(spec.name, () => {
      let target: Target | undefined;
      let startError: unknown = null;

      before(async () => {
        if (setupError) return;
        try {
          target = await spec.start(PORTS.targets + index * 10, mirrorEnv());
        } catch (error) {
          startError = error;
        }
      });
      after(async () => {
        await target?.stop();
      });

      it('first pull streams from the upstream into the store; the second makes no upstream blob request', async () => {
        if (setupError) throw setupError;
        if (startError) throw startError;
        const client = new RegistryClient(target!.url, null);
        hubProxy.reset();
        const first = await pullImage(client.fetch, 'hub/library/alpine', '3');
        assert.equal(first.digest, images['library/alpine:3']!.digest);
        assert.equal(hubProxy.blobGets('library/alpine').length, 3);
        hubProxy.reset();
        const second = await pullImage(client.fetch, 'hub/library/alpine', '3');
        assert.equal(second.digest, first.digest);
        assert.deepEqual(hubProxy.blobGets(), []);
        if (spec.redirects) assert.deepEqual(second.redirected, [true, true, true], 'cached blobs are presigned redirects');
      });
    });
  });
});
