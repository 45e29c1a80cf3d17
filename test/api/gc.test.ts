/**
 * Garbage collection over HTTP against a real Node server process on the filesystem store:
 * push two images, delete one the way `skopeo delete` does (the manifest only), POST /admin/gc (and
 * `berth gc` for the dry run), and check that files left the disk while the kept image still pulls
 * byte for byte.
 * The server runs with BERTH_GC_GRACE_SECONDS=0 so what was just deleted is collectable.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { ADMIN, BASE_ENV } from '../support/targets.ts';
import { OCI_MANIFEST, RegistryClient, describe as show, randomBlob, type Bytes } from '../support/registry-client.ts';
import { testPort } from '../support/ports.ts';
import { countFiles } from '../support/files.ts';

const PORT = testPort(Number(process.env.BERTH_GC_TEST_PORT ?? 15811));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const basic = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;

interface Report {
  dryRun: boolean;
  complete: boolean;
  links: { unlinked: number; bytes: number };
  records: { deleted: number };
  dataObjects: { deleted: number; bytes: number };
}

describe('garbage collection over HTTP (node-fs)', () => {
  let target: NodeTarget;
  let client: RegistryClient;
  const objects = (sub: string): Promise<number> => countFiles(join(target.dataDir, 'objects', sub));
  const postGc = (query: string, auth: string | null = basic): Promise<Response> =>
    fetch(`${target.url}/admin/gc?${query}`, { method: 'POST', headers: auth ? { Authorization: auth, 'Content-Type': 'application/json' } : {} });

  before(async () => {
    target = await startNodeTarget({ port: PORT, env: { ...BASE_ENV, BERTH_GC_GRACE_SECONDS: '0' } });
    client = new RegistryClient(target.url, ADMIN);
  });
  after(async () => {
    await target?.stop();
  });

  it('frees the storage of a deleted image and keeps the other pulling', async () => {
    const keptLayer = randomBlob(64 * 1024);
    const kept = await client.pushImage('gc/kept', 'v1', [keptLayer]);
    const goneLayers: Bytes[] = [randomBlob(300 * 1024), randomBlob(200 * 1024)];
    const gone = await client.pushImage('gc/gone', 'v1', goneLayers);
    const manifest = JSON.parse(gone.body) as { config: { digest: string; size: number }; layers: { digest: string }[] };
    const before = { records: await objects('blobs'), data: await objects('data') };
    assert.equal(before.records, 5);
    assert.equal(before.data, 5);

    // Delete the image the way `skopeo delete`, `crane delete` and `regctl image delete` do: the
    // manifest by digest, and nothing else. Its layers stay linked in gc/gone until GC runs.
    const del = await client.fetch(`/v2/gc/gone/manifests/${gone.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202, await show(del));
    assert.equal(await objects('data'), 5, 'DELETE alone frees nothing');

    assert.equal((await postGc('dryRun=true', null)).status, 401);
    assert.equal((await postGc('dryRun=maybe')).status, 400);
    assert.equal((await postGc('keepUnreferencedLayers=maybe')).status, 400);

    // The old behaviour: links no manifest references are the repository's, and stay.
    const keep = await postGc('dryRun=false&keepUnreferencedLayers=true');
    assert.equal(keep.status, 200, await show(keep));
    const kept0 = (await keep.json()) as Report;
    assert.deepEqual(kept0.links, { unlinked: 0, bytes: 0 });
    assert.equal(kept0.records.deleted, 0);
    assert.equal(await objects('data'), 5);

    // `berth gc --dry-run` (the CLI is the admin API's client) reports and deletes nothing.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', 'worker/cli/berth.ts', '--url', target.url, 'gc', '--dry-run'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, BERTH_PASSWORD: ADMIN.password, BERTH_USER: ADMIN.username },
    });
    assert.equal(cli.status, 0, cli.stderr);
    const dry = JSON.parse(cli.stdout) as Report;
    assert.equal(dry.dryRun, true);
    assert.equal(dry.links.unlinked, 3);
    assert.equal(dry.records.deleted, 3);
    assert.equal(dry.dataObjects.deleted, 3);
    assert.match(cli.stderr, /would delete 3 layer link\(s\), 3 blob record\(s\), 3 data object\(s\)/);
    assert.equal(await objects('data'), 5);

    const res = await postGc('dryRun=false');
    assert.equal(res.status, 200, await show(res));
    const report = (await res.json()) as Report;
    assert.equal(report.complete, true);
    assert.deepEqual(report.links, { unlinked: 3, bytes: 300 * 1024 + 200 * 1024 + manifest.config.size });
    assert.equal(report.records.deleted, 3);
    assert.equal(report.dataObjects.deleted, 3);
    assert.equal(report.dataObjects.bytes, 300 * 1024 + 200 * 1024 + manifest.config.size);
    assert.equal(await objects('blobs'), 2);
    assert.equal(await objects('data'), 2);
    const layer = await client.fetch(`/v2/gc/gone/blobs/${manifest.layers[0]!.digest}`, { method: 'HEAD' });
    assert.equal(layer.status, 404, 'the deleted image\'s layers are no longer the repository\'s');

    // The kept image pulls: manifest by tag, then each blob byte for byte.
    const got = await client.fetch('/v2/gc/kept/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(got.status, 200, await show(got));
    assert.equal(got.headers.get('docker-content-digest'), kept.digest);
    const keptManifest = JSON.parse(kept.body) as { layers: { digest: string }[] };
    const blob = await client.fetch(`/v2/gc/kept/blobs/${keptManifest.layers[0]!.digest}`);
    assert.equal(blob.status, 200, await show(blob));
    assert.ok(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(keptLayer)));

    // The deleted image can be pushed again and pulled.
    const again = await client.pushImage('gc/gone', 'v2', goneLayers);
    const pulled = await client.fetch(`/v2/gc/gone/manifests/${again.digest}`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(pulled.status, 200, await show(pulled));
  });

  it('gc --grace overrides the grace period for one run, and the report says what it kept for being young', async () => {
    const layer = randomBlob(40 * 1024);
    const image = await client.pushImage('gc/young', 'v1', [layer]);
    const manifest = JSON.parse(image.body) as { config: { size: number } };
    assert.equal((await client.fetch(`/v2/gc/young/manifests/${image.digest}`, { method: 'DELETE' })).status, 202);

    const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'worker/cli/berth.ts', '--url', target.url, 'gc', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, BERTH_PASSWORD: ADMIN.password, BERTH_USER: ADMIN.username },
    });
    // The server's own grace is 0; an hour for this run keeps the just-deleted image's layers.
    const kept = cli(['--dry-run', '--grace', '1h']);
    assert.equal(kept.status, 0, kept.stderr);
    const report = JSON.parse(kept.stdout) as Report & { young: { graceSeconds: number; count: number; bytes: number; links: number } };
    assert.equal(report.links.unlinked, 0);
    assert.deepEqual([report.young.graceSeconds, report.young.links, report.young.count], [3600, 2, 2]);
    assert.equal(report.young.bytes, layer.byteLength + manifest.config.size);
    assert.match(kept.stderr, new RegExp(`gc kept 2 object\\(s\\) \\(${report.young.bytes} bytes\\) younger than the grace period of 3600 s`));

    const freed = cli(['--grace', '0']);
    assert.equal(freed.status, 0, freed.stderr);
    const done = JSON.parse(freed.stdout) as Report & { young: { count: number } };
    assert.equal(done.links.unlinked, 2);
    assert.equal(done.young.count, 0);
    assert.equal((await postGc('dryRun=true&graceSeconds=soon')).status, 400);
    assert.match(cli(['--grace', 'never']).stderr, /--grace takes a duration/);
  });
});
