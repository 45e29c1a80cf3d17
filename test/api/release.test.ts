/**
 * The release flow over HTTP against a real Node server process (filesystem store): promotion
 * with `berth tag` (images and whole indexes, across repositories, no layer bytes copied),
 * repository policies with `berth policy`, and immutable tags (a moved tag is refused naming the
 * policy, the same digest is accepted again, deleting needs an admin).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { ADMIN, BASE_ENV } from '../support/targets.ts';
import { OCI_INDEX, OCI_MANIFEST, RegistryClient, bearerToken, describe as show, errorCode, randomBlob, sha256 } from '../support/registry-client.ts';
import { adminCall, berth } from '../support/berth-cli.ts';
import { testPort } from '../support/ports.ts';
import { countFiles } from '../support/files.ts';

const PORT = testPort(15950);
const RELEASER = { username: 'releaser', password: 'releaser-password-1' };

describe('release flow over HTTP (node-fs)', () => {
  let target: NodeTarget;
  let admin: RegistryClient;
  const cli = (args: string[], creds = ADMIN) => berth(target.url, creds, args);
  const api = (method: string, path: string, body?: unknown, creds = ADMIN) => adminCall(target.url, creds, method, path, body);

  before(async () => {
    target = await startNodeTarget({ port: PORT, env: BASE_ENV });
    admin = new RegistryClient(target.url, ADMIN);
    const created = await api('POST', '/admin/users', {
      account: RELEASER.username, password: RELEASER.password, rules: ['ci/**=pull,push', 'prod/**=pull,push,delete'],
    });
    assert.equal(created.status, 201, await show(created));
  });
  after(async () => {
    await target?.stop();
  });

  it('berth tag promotes an image to another repository by mounting its blobs', async () => {
    const layers = [randomBlob(200 * 1024), randomBlob(50 * 1024)];
    const built = await admin.pushImage('ci/app', 'build-41', layers);
    const dataBefore = await countFiles(join(target.dataDir, 'objects', 'data'));

    const out = await cli(['tag', 'ci/app:build-41', 'prod/app:1.0.0'], RELEASER);
    assert.equal(out.status, 0, out.stderr);
    assert.match(out.stdout, new RegExp(`prod/app:1\\.0\\.0 -> ${built.digest} .*1 manifest\\(s\\) written, 3 blob\\(s\\) mounted`));
    assert.equal(await countFiles(join(target.dataDir, 'objects', 'data')), dataBefore, 'promotion copied layer bytes');

    const got = await admin.fetch('/v2/prod/app/manifests/1.0.0', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(got.status, 200, await show(got));
    assert.equal(got.headers.get('docker-content-digest'), built.digest);
    assert.equal(await got.text(), built.body, 'the promoted manifest is the same bytes');
    const manifest = JSON.parse(built.body) as { layers: { digest: string }[] };
    const blob = await admin.fetch(`/v2/prod/app/blobs/${manifest.layers[0]!.digest}`);
    assert.equal(blob.status, 200, await show(blob));
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(layers[0]!)));

    // By digest works too, and the source is untouched.
    const byDigest = await cli(['tag', `ci/app@${built.digest}`, 'prod/app:stable'], RELEASER);
    assert.equal(byDigest.status, 0, byDigest.stderr);
    assert.match(byDigest.stdout, /0 blob\(s\) mounted/);
    const source = await admin.fetch('/v2/ci/app/manifests/build-41', { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
    assert.equal(source.headers.get('docker-content-digest'), built.digest);
  });

  it('a multi-platform index is promoted whole, children first', async () => {
    const children = [];
    for (const arch of ['amd64', 'arm64']) {
      const image = await admin.pushImage('ci/multi', `tmp-${arch}`, [randomBlob(4096)]);
      children.push({ mediaType: OCI_MANIFEST, digest: image.digest, size: Buffer.byteLength(image.body), platform: { architecture: arch, os: 'linux' } });
    }
    const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: children });
    const put = await admin.putManifest('ci/multi', 'build-7', index, OCI_INDEX);
    assert.equal(put.status, 201, await show(put));

    const res = await api('POST', '/admin/tags', { source: 'ci/multi:build-7', target: 'prod/multi:2.0.0' }, RELEASER);
    assert.equal(res.status, 201, await show(res));
    const body = (await res.json()) as { digest: string; manifests: number; blobsLinked: number; mediaType: string };
    assert.equal(body.digest, sha256(index));
    assert.equal(body.mediaType, OCI_INDEX);
    assert.equal(body.manifests, 3);
    assert.equal(body.blobsLinked, 4, 'two configs and two layers');
    for (const child of children) {
      const got = await admin.fetch(`/v2/prod/multi/manifests/${child.digest}`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(got.status, 200, `child ${child.digest}: ${await show(got)}`);
    }
    const tag = await admin.fetch('/v2/prod/multi/manifests/2.0.0', { headers: { Accept: OCI_INDEX } });
    assert.equal(await tag.text(), index);
  });

  it('promotion says what is wrong: bad references, unknown sources, missing rights', async () => {
    const bad = await cli(['tag', 'ci/app', 'prod/app:x'], RELEASER);
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /SRC "ci\/app".*names no tag/);
    const digestTarget = await cli(['tag', 'ci/app:build-41', `prod/app@${sha256('x')}`], RELEASER);
    assert.match(digestTarget.stderr, /DST must be repo:tag/);

    const unknown = await api('POST', '/admin/tags', { source: 'ci/app:nope', target: 'prod/app:x' }, RELEASER);
    assert.equal(unknown.status, 404);
    assert.equal(await errorCode(unknown), 'MANIFEST_UNKNOWN');
    const malformed = await api('POST', '/admin/tags', { source: 'CI/App:1', target: 'prod/app:x' }, RELEASER);
    assert.equal(malformed.status, 400);
    assert.equal(await errorCode(malformed), 'NAME_INVALID');
    const missing = await api('POST', '/admin/tags', { target: 'prod/app:x' }, RELEASER);
    assert.equal(missing.status, 400);
    assert.equal(await errorCode(missing), 'INVALID_REQUEST');

    // No push right on the target: refused, nothing written there.
    const denied = await api('POST', '/admin/tags', { source: 'ci/app:build-41', target: 'other/app:1' }, RELEASER);
    assert.equal(denied.status, 403, await show(denied));
    assert.match(((await denied.json()) as { errors: { message: string }[] }).errors[0]!.message, /push on other\/app/);
    const nothing = await admin.fetch('/v2/other/app/manifests/1', { method: 'HEAD' });
    assert.equal(nothing.status, 404);
    const anonymous = await fetch(`${target.url}/admin/tags`, { method: 'POST', body: '{}' });
    assert.equal(anonymous.status, 401);
  });

  it('berth policy set, list, show and delete', async () => {
    const set = await cli(['policy', 'set', 'prod/**', '--immutable-tags', 'v*,1.*', '--immutable-tags', '2.*', '--protect-tags', 'stable']);
    assert.equal(set.status, 0, set.stderr);
    assert.match(set.stdout, /prod\/\*\*\timmutable-tags=v\*,1\.\*,2\.\*\tprotect-tags=stable/);
    const other = await cli(['policy', 'set', 'ci/**', '--keep-last', '10', '--delete-untagged-after', '7d']);
    assert.equal(other.status, 0, other.stderr);
    const list = await cli(['policy', 'list']);
    assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split('\t')[0]), ['ci/**', 'prod/**']);
    const shown = await cli(['policy', 'show', 'prod/team/app']);
    assert.match(shown.stdout, /^prod\/\*\*\t/);

    const wrong = await cli(['policy', 'set', 'prod/**', '--delete-untagged-after', '5m']);
    assert.equal(wrong.status, 1);
    assert.equal(wrong.stderr.trim().split('\n').length, 1);
    assert.match(wrong.stderr, /deleteUntaggedAfterSeconds must be a whole number from 3600/);
    const nothing = await cli(['policy', 'set', 'x/**']);
    assert.match(nothing.stderr, /needs at least one of/);
    const notAdmin = await api('PUT', '/admin/policies', { pattern: 'ci/**', keepLast: 1 }, RELEASER);
    assert.equal(notAdmin.status, 403);
    const gone = await cli(['policy', 'delete', 'nothing/**']);
    assert.match(gone.stderr, /POLICY_UNKNOWN/);
    const deleted = await cli(['policy', 'delete', 'ci/**']);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.equal((await cli(['policy', 'show', 'ci/app'])).status, 1);
  });

  it('an immutable tag refuses another digest, naming the policy, and accepts the same one again', async () => {
    const first = await admin.pushImage('prod/svc', 'v1.0.0');
    const again = await admin.putManifest('prod/svc', 'v1.0.0', first.body);
    assert.equal(again.status, 201, `same digest re-push: ${await show(again)}`);

    const other = await admin.pushImage('prod/svc', 'build-2');
    const moved = await admin.putManifest('prod/svc', 'v1.0.0', other.body);
    assert.equal(moved.status, 403, await show(moved));
    const error = ((await moved.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
    assert.equal(error.code, 'DENIED');
    assert.match(error.message, new RegExp(`tag v1\\.0\\.0 of prod/svc is immutable \\(policy "prod/\\*\\*"\\) and already points to ${first.digest}`));
    // Push by digest with ?tag= is refused the same way.
    const byDigest = await admin.fetch(`/v2/prod/svc/manifests/${other.digest}?tag=v1.0.0`, {
      method: 'PUT', body: other.body, headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(byDigest.status, 403);
    // Promotion too.
    const promoted = await api('POST', '/admin/tags', { source: 'prod/svc:build-2', target: 'prod/svc:v1.0.0' });
    assert.equal(promoted.status, 403);
    const still = await admin.fetch('/v2/prod/svc/manifests/v1.0.0', { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
    assert.equal(still.headers.get('docker-content-digest'), first.digest);

    // Tags the globs do not cover stay mutable.
    const latest1 = await admin.putManifest('prod/svc', 'latest', first.body);
    const latest2 = await admin.putManifest('prod/svc', 'latest', other.body);
    assert.deepEqual([latest1.status, latest2.status], [201, 201]);
  });

  it('deleting an immutable tag needs an admin, with a password or a registry token', async () => {
    const image = await admin.pushImage('prod/lib', 'v3');
    const releaser = new RegistryClient(target.url, RELEASER);
    const refused = await releaser.fetch('/v2/prod/lib/manifests/v3', { method: 'DELETE' });
    assert.equal(refused.status, 403, await show(refused));
    assert.match(((await refused.json()) as { errors: { message: string }[] }).errors[0]!.message, /immutable \(policy "prod\/\*\*"\); only an admin/);
    // By digest the manifest's tags go too, so the same rule applies.
    const byDigest = await releaser.fetch(`/v2/prod/lib/manifests/${image.digest}`, { method: 'DELETE' });
    assert.equal(byDigest.status, 403);
    // A mutable tag the releaser may delete.
    assert.equal((await admin.putManifest('prod/lib', 'edge', image.body)).status, 201);
    assert.equal((await releaser.fetch('/v2/prod/lib/manifests/edge', { method: 'DELETE' })).status, 202);

    // An admin with a registry token (what skopeo delete uses): the token carries no admin flag,
    // the registry looks the account up.
    const token = await bearerToken(target.url, ADMIN, 'repository:prod/lib:delete');
    const res = await fetch(`${target.url}/v2/prod/lib/manifests/v3`, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
    assert.equal(res.status, 202, await show(res));
    const gone = await admin.fetch('/v2/prod/lib/manifests/v3', { method: 'HEAD' });
    assert.equal(gone.status, 404);
  });

  it('berth retention --dry-run prints what it would delete; berth retention deletes exactly that', async () => {
    for (let i = 1; i <= 5; i++) await admin.pushImage('ci/ret', `build-${i}`);
    const set = await cli(['policy', 'set', 'ci/ret', '--keep-last', '2', '--protect-tags', 'build-1']);
    assert.equal(set.status, 0, set.stderr);
    const dry = await cli(['retention', '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    const planned = dry.stdout.trim().split('\n');
    assert.deepEqual(planned.map((l) => l.split('\t')[0]), ['would delete tag ci/ret:build-3', 'would delete tag ci/ret:build-2']);
    assert.match(dry.stderr, /retention would delete 2 tag\(s\) and 0 manifest\(s\) in 1 repository/);
    const listed = await admin.fetch('/v2/ci/ret/tags/list');
    assert.equal(((await listed.json()) as { tags: string[] }).tags.length, 5);

    const real = await cli(['retention']);
    assert.equal(real.status, 0, real.stderr);
    assert.deepEqual(real.stdout.trim().split('\n').map((l) => l.split('\t')[0]), ['deleted tag ci/ret:build-3', 'deleted tag ci/ret:build-2']);
    const after = await admin.fetch('/v2/ci/ret/tags/list');
    assert.deepEqual(((await after.json()) as { tags: string[] }).tags.sort(), ['build-1', 'build-4', 'build-5']);
    const asJson = await cli(['retention', '--json']);
    assert.deepEqual(((JSON.parse(asJson.stdout)) as { tags: unknown[] }).tags, []);
    assert.equal((await api('POST', '/admin/retention?dryRun=maybe')).status, 400);
    assert.equal((await api('POST', '/admin/retention?dryRun=true', undefined, RELEASER)).status, 403);
  });
});
