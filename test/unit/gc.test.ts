/**
 * Garbage collection (worker/registry/gc.ts) on the real filesystem store, driven through the
 * real registry domain: push, delete, collect, and check what is left. Time moves forward with
 * the `now` option; where a test needs some objects old and others new, it ages the files.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { registryConfigFromEnv } from '../../worker/config.ts';
import { parseDigest, type ParsedDigest } from '../../worker/oci/digest.ts';
import { collectGarbage, type GcOptions, type GcReport } from '../../worker/registry/gc.ts';
import { keyOf } from '../../worker/registry/keys.ts';
import { Registry } from '../../worker/registry/registry.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { createFsStore } from '../../worker/storage/fs.ts';
import type { ObjectStore } from '../../worker/storage/types.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const HOUR = 3600;
const later = (): Date => new Date(Date.now() + 2 * HOUR * 1000);

const roots: string[] = [];
let root: string;
let store: ObjectStore;
let registry: Registry;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-gc-'));
  roots.push(root);
  store = checkedStore(createFsStore({ root }));
  registry = new Registry(store, registryConfigFromEnv({}));
});
after(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

function digestOf(bytes: Uint8Array): ParsedDigest {
  return parseDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
}

async function pushBlob(repo: string, bytes: Uint8Array<ArrayBuffer> = new Uint8Array(randomBytes(2048))): Promise<{ digest: ParsedDigest; data: string; size: number }> {
  const digest = digestOf(bytes);
  const session = await registry.uploads.start(repo);
  const location = await registry.uploads.finish(session, digest, { body: new Response(bytes).body, length: bytes.byteLength });
  return { digest, data: location.data, size: bytes.byteLength };
}

interface Image {
  digest: string;
  /** Config first, then the layers. */
  layers: ParsedDigest[];
  /** Bytes of the config and of the image's own new layer. */
  bytes: number;
  body: Uint8Array<ArrayBuffer>;
}

/** An image of a config and one new layer, plus `reuse`d layers already linked in `repo`. */
async function pushImage(
  repo: string,
  tag: string | null,
  extra: object = {},
  reuse: { digest: ParsedDigest; size: number }[] = [],
): Promise<Image> {
  const config = new TextEncoder().encode(JSON.stringify({ os: 'linux', nonce: randomBytes(8).toString('hex') }));
  const configBlob = await pushBlob(repo, config);
  const layer = await pushBlob(repo);
  const body = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configBlob.digest.digest, size: config.byteLength },
    layers: [layer, ...reuse].map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: l.digest.digest, size: l.size })),
    ...extra,
  }));
  const digest = digestOf(body).digest;
  await registry.manifests.put(repo, tag ? { kind: 'tag', tag } : { kind: 'digest', digest }, body, OCI_MANIFEST);
  return { digest, layers: [configBlob.digest, layer.digest, ...reuse.map((l) => l.digest)], bytes: config.byteLength + layer.size, body };
}

/** What `skopeo delete` / `crane delete` do: DELETE the manifest by digest, nothing else. */
async function deleteManifest(repo: string, digest: string): Promise<void> {
  await registry.manifests.delete(repo, { kind: 'digest', digest: parseDigest(digest).digest });
}

const exists = async (key: string): Promise<boolean> => (await store.head(key)) !== null;
const recordKey = (digest: ParsedDigest): string => keyOf({ kind: 'blob', digest });

function gc(options: Partial<GcOptions> = {}): Promise<GcReport> {
  return collectGarbage(store, { dryRun: false, graceSeconds: HOUR, now: later(), ...options });
}

/** Sets every object's modification time `seconds` into the past. */
async function ageStore(seconds: number): Promise<void> {
  const when = new Date(Date.now() - seconds * 1000);
  const entries = await readdir(join(root, 'objects'), { recursive: true, withFileTypes: true });
  await Promise.all(entries.filter((e) => e.isFile()).map((e) => utimes(join(e.parentPath, e.name), when, when)));
}

describe('collectGarbage', () => {
  it('reports what the grace period alone kept: unreferenced links, unlinked records, orphan data', async () => {
    const image = await pushImage('team/app', null);
    await deleteManifest('team/app', image.digest);
    await store.put(keyOf({ kind: 'data', uploadId: 'orphan-left-by-a-failed-push' }), randomBytes(300));
    // Right after the delete (the one-hour default grace), nothing goes and the report says why.
    const young = await gc({ now: new Date() });
    assert.deepEqual([young.links.unlinked, young.records.deleted, young.dataObjects.deleted], [0, 0, 0]);
    assert.deepEqual(young.young, { graceSeconds: HOUR, count: 3, bytes: image.bytes + 300, links: 2, records: 0, dataObjects: 1 });
    // Once older than the grace period, the same run frees them and spares nothing.
    const later = await gc();
    assert.equal(later.links.unlinked, 2);
    assert.equal(later.dataObjects.bytes, image.bytes + 300);
    assert.equal(later.young.count, 0);
  });

  it('sweeps an unlinked blob older than the grace period: record and data', async () => {
    const blob = await pushBlob('team/app');
    assert.ok(await registry.blobs.unlink('team/app', blob.digest));
    const report = await gc();
    assert.equal(report.complete, true);
    assert.equal(report.repositories, 1);
    assert.equal(report.records.deleted, 1);
    assert.equal(report.dataObjects.deleted, 1);
    assert.equal(report.dataObjects.bytes, blob.size);
    assert.ok(report.records.bytes > 0);
    assert.equal(await exists(recordKey(blob.digest)), false);
    assert.equal(await exists(blob.data), false);
  });

  it('keeps linked blobs and blobs still linked in another repository', async () => {
    const image = await pushImage('team/app', 'v1');
    const shared = await pushBlob('team/app');
    const location = await registry.blobs.stat('team/app', shared.digest);
    assert.ok(location);
    await registry.blobs.link('team/other', shared.digest, location); // as a cross-repository mount does
    await registry.blobs.unlink('team/app', shared.digest);

    // No manifest references the shared blob in team/other: only the old behaviour keeps it.
    const report = await gc({ keepUnreferencedLayers: true });
    assert.equal(report.repositories, 2);
    assert.equal(report.records.deleted, 0);
    assert.equal(report.dataObjects.deleted, 0);
    assert.equal(report.records.kept, 3);
    for (const digest of [...image.layers, shared.digest]) assert.ok(await exists(recordKey(digest)));
    const kept = await registry.blobs.open(location);
    assert.equal(Buffer.from(await new Response(kept?.body).arrayBuffer()).byteLength, shared.size);
    // The image still pulls: manifest by tag, then every blob.
    const manifest = await registry.manifests.get('team/app', { kind: 'tag', tag: 'v1' });
    assert.equal(manifest.digest.digest, image.digest);
    for (const digest of image.layers) assert.ok(await registry.blobs.stat('team/app', digest));
  });

  it('keeps blobs younger than the grace period', async () => {
    const blob = await pushBlob('team/app');
    await registry.blobs.unlink('team/app', blob.digest);
    const report = await gc({ now: new Date() });
    assert.equal(report.records.deleted, 0);
    assert.equal(report.dataObjects.deleted, 0);
    assert.deepEqual(report.young, { graceSeconds: HOUR, count: 1, bytes: blob.size, links: 0, records: 1, dataObjects: 0 });
    assert.ok(await exists(recordKey(blob.digest)));
    assert.ok(await exists(blob.data));
    // With no grace at all, the same blob goes.
    assert.equal((await gc({ now: new Date(), graceSeconds: 0 })).records.deleted, 1);
  });

  it('a dry run deletes nothing and reports what the real run then deletes', async () => {
    const gone = [await pushBlob('team/app'), await pushBlob('team/app', randomBytes(5000))];
    await pushImage('team/app', 'v1');
    for (const blob of gone) await registry.blobs.unlink('team/app', blob.digest);
    await store.put(keyOf({ kind: 'data', uploadId: 'orphan-left-by-a-failed-push' }), randomBytes(300));

    const dry = await gc({ dryRun: true });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.records.deleted, 2);
    assert.equal(dry.dataObjects.deleted, 3);
    assert.equal(dry.dataObjects.bytes, 2048 + 5000 + 300);
    for (const blob of gone) {
      assert.ok(await exists(recordKey(blob.digest)));
      assert.ok(await exists(blob.data));
    }
    const real = await gc();
    assert.deepEqual({ ...real, durationMs: 0, dryRun: true }, { ...dry, durationMs: 0 });
    assert.equal((await gc()).dataObjects.deleted, 0, 'nothing left to collect');
  });

  it('sweeps orphan data objects but keeps the data of a live upload session', async () => {
    const orphan = keyOf({ kind: 'data', uploadId: 'orphan-left-by-a-race-000' });
    await store.put(orphan, randomBytes(100));
    const session = await registry.uploads.start('team/app');
    const live = keyOf({ kind: 'data', uploadId: session.id });
    await store.put(live, randomBytes(200)); // assembled, not yet published
    const linked = await pushBlob('team/app');

    const report = await gc({ keepUnreferencedLayers: true });
    assert.equal(report.records.deleted, 0);
    assert.equal(report.dataObjects.deleted, 1);
    assert.equal(report.dataObjects.bytes, 100);
    assert.equal(await exists(orphan), false);
    assert.ok(await exists(live));
    assert.ok(await exists(linked.data));
  });

  it('a blob pushed again after it was swept works', async () => {
    const bytes = randomBytes(4096);
    const first = await pushBlob('team/app', bytes);
    await registry.blobs.unlink('team/app', first.digest);
    assert.equal((await gc()).records.deleted, 1);

    const again = await pushBlob('team/app', bytes);
    assert.equal(again.digest.digest, first.digest.digest);
    const location = await registry.blobs.stat('team/app', again.digest);
    assert.ok(location);
    const object = await registry.blobs.open(location);
    assert.ok(Buffer.from(await new Response(object?.body).arrayBuffer()).equals(bytes));
    assert.equal((await gc({ keepUnreferencedLayers: true })).records.deleted, 0);
  });

  it('spares a record that a push reuses while GC runs (linked after the mark)', async () => {
    const bytes = randomBytes(1024);
    const blob = await pushBlob('team/app', bytes);
    await registry.blobs.unlink('team/app', blob.digest);
    await ageStore(2 * HOUR);
    // The push lands after the mark phase and after GC listed the (then old) record.
    const racing: ObjectStore = Object.create(store) as ObjectStore;
    racing.list = async (options) => {
      const page = await store.list(options);
      if (options.prefix === keyOf({ kind: 'blobRecords' })) await pushBlob('team/late', bytes);
      return page;
    };
    const report = await collectGarbage(racing, { dryRun: false, graceSeconds: HOUR });
    assert.equal(report.records.deleted, 0);
    const location = await registry.blobs.stat('team/late', blob.digest);
    assert.ok(location);
    const object = await registry.blobs.open(location);
    assert.ok(object, 'the data the new link names is still there');
    assert.ok(Buffer.from(await new Response(object.body).arrayBuffer()).equals(bytes));
  });

  it('stops at the time budget and sweeps nothing when the mark is incomplete', async () => {
    const blob = await pushBlob('team/app');
    await registry.blobs.unlink('team/app', blob.digest);
    const report = await gc({ deadline: -1 });
    assert.equal(report.complete, false);
    assert.equal(report.stoppedIn, 'sessions');
    assert.equal(report.records.deleted, 0);
    assert.ok(await exists(recordKey(blob.digest)));
  });

  it('never deletes manifests by default; untaggedManifests deletes only what nothing keeps', async () => {
    const tagged = await pushImage('team/app', 'v1');
    const loose = await pushImage('team/app', null);
    const signature = await pushImage('team/app', null, {
      artifactType: 'application/example.signature',
      subject: { mediaType: OCI_MANIFEST, digest: tagged.digest, size: 1 },
    });
    const child = await pushImage('team/app', null);
    const index = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [{ mediaType: OCI_MANIFEST, digest: child.digest, size: 1, platform: { os: 'linux', architecture: 'arm64' } }],
    }));
    await registry.manifests.put('team/app', { kind: 'tag', tag: 'multi' }, index, OCI_INDEX);
    const manifestKey = (digest: string): string => keyOf({ kind: 'manifest', repo: 'team/app', digest: parseDigest(digest) });

    const first = await gc();
    assert.equal(first.manifestsDeleted, 0);
    assert.equal(first.links.unlinked, 0, 'every link is referenced by a stored manifest');
    assert.ok(await exists(manifestKey(loose.digest)));
    assert.equal((await gc({ untaggedManifests: true, now: new Date() })).manifestsDeleted, 0, 'young manifests are kept');

    const dry = await gc({ untaggedManifests: true, dryRun: true });
    assert.equal(dry.manifestsDeleted, 1);
    assert.ok(await exists(manifestKey(loose.digest)));
    assert.equal(dry.links.unlinked, 2, 'the pruned manifest no longer references its layers');
    const report = await gc({ untaggedManifests: true });
    assert.equal(report.manifestsDeleted, 1);
    assert.equal(await exists(manifestKey(loose.digest)), false);
    for (const kept of [tagged.digest, signature.digest, child.digest]) assert.ok(await exists(manifestKey(kept)), kept);
    // In the same run, the loose image's layers lose their links and their storage.
    assert.deepEqual({ ...report, durationMs: 0, dryRun: true }, { ...dry, durationMs: 0 });
    assert.equal(report.records.deleted, 2);
    for (const digest of loose.layers) assert.equal(await registry.blobs.stat('team/app', digest), null);
    for (const digest of [...tagged.layers, ...signature.layers, ...child.layers]) assert.ok(await registry.blobs.stat('team/app', digest));

    // Untagging the image lets its signature go too.
    await registry.manifests.delete('team/app', { kind: 'tag', tag: 'v1' });
    assert.equal((await gc({ untaggedManifests: true })).manifestsDeleted, 2);
    assert.equal(await exists(manifestKey(signature.digest)), false);
    assert.ok(await exists(manifestKey(child.digest)));
  });
});

describe('collectGarbage: layers of deleted manifests', () => {
  const linked = async (repo: string, digest: ParsedDigest): Promise<boolean> => (await registry.blobs.stat(repo, digest)) !== null;

  it('deleting only the manifest frees its layers once they are older than the grace period', async () => {
    const image = await pushImage('team/app', 'v1');
    await deleteManifest('team/app', image.digest);
    const young = await gc({ now: new Date() });
    assert.equal(young.links.unlinked, 0, 'links younger than the grace period stay');
    for (const digest of image.layers) assert.ok(await linked('team/app', digest));

    const report = await gc();
    assert.equal(report.complete, true);
    assert.deepEqual(report.links, { unlinked: 2, bytes: image.bytes });
    assert.equal(report.records.deleted, 2);
    assert.equal(report.dataObjects.deleted, 2);
    assert.equal(report.dataObjects.bytes, image.bytes);
    for (const digest of image.layers) {
      assert.equal(await linked('team/app', digest), false);
      assert.equal(await exists(recordKey(digest)), false);
    }
  });

  it('keeps a layer another manifest of the repository references', async () => {
    const base = await pushBlob('team/app');
    const gone = await pushImage('team/app', 'old', {}, [base]);
    const kept = await pushImage('team/app', 'new', {}, [base]);
    await deleteManifest('team/app', gone.digest);

    const report = await gc();
    assert.equal(report.links.unlinked, 2, 'the deleted image\'s config and own layer');
    assert.equal(report.records.deleted, 2);
    assert.ok(await linked('team/app', base.digest));
    assert.ok(await exists(base.data));
    for (const digest of kept.layers) assert.ok(await linked('team/app', digest));
    const manifest = await registry.manifests.get('team/app', { kind: 'tag', tag: 'new' });
    assert.equal(manifest.digest.digest, kept.digest);
  });

  it('keeps the blob while another repository still links it', async () => {
    const shared = await pushBlob('team/a');
    const location = await registry.blobs.stat('team/a', shared.digest);
    assert.ok(location);
    await registry.blobs.link('team/b', shared.digest, location); // a cross-repository mount
    const a = await pushImage('team/a', 'v1', {}, [shared]);
    const b = await pushImage('team/b', 'v1', {}, [shared]);
    await deleteManifest('team/a', a.digest);

    const report = await gc();
    assert.equal(report.links.unlinked, 3, 'all of team/a\'s links');
    assert.equal(report.records.deleted, 2, 'not the shared one');
    assert.equal(await linked('team/a', shared.digest), false);
    assert.ok(await linked('team/b', shared.digest));
    assert.ok(await exists(recordKey(shared.digest)));
    const object = await registry.blobs.open(location);
    assert.equal(Buffer.from(await new Response(object?.body).arrayBuffer()).byteLength, shared.size);
    for (const digest of b.layers) assert.ok(await linked('team/b', digest));
  });

  it('keeps a blob pushed but not yet referenced while it is younger than the grace period', async () => {
    await pushImage('team/app', 'v1');
    const blob = await pushBlob('team/app'); // a push in progress: its manifest comes later
    const report = await gc({ now: new Date() });
    assert.equal(report.links.unlinked, 0);
    assert.ok(await linked('team/app', blob.digest));
    assert.ok(await exists(blob.data));
    // Never referenced and past the grace period: a push that never finished.
    assert.deepEqual((await gc()).links, { unlinked: 1, bytes: blob.size });
  });

  it('keepUnreferencedLayers keeps the links (the old behaviour)', async () => {
    const image = await pushImage('team/app', 'v1');
    await deleteManifest('team/app', image.digest);
    const report = await gc({ keepUnreferencedLayers: true });
    assert.deepEqual(report.links, { unlinked: 0, bytes: 0 });
    assert.equal(report.records.deleted, 0);
    for (const digest of image.layers) assert.ok(await linked('team/app', digest));
  });

  it('a manifest that does not parse keeps every link of its repository, and is reported', async () => {
    const image = await pushImage('team/app', 'v1');
    await deleteManifest('team/app', image.digest);
    const broken = new TextEncoder().encode('{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}');
    const brokenDigest = digestOf(broken);
    await store.put(keyOf({ kind: 'manifest', repo: 'team/app', digest: brokenDigest }), broken, { contentType: OCI_MANIFEST });
    const other = await pushImage('team/other', 'v1');
    await deleteManifest('team/other', other.digest);

    const report = await gc();
    assert.equal(report.links.unlinked, 2, 'only team/other loses its links');
    assert.equal(report.unparsableManifests.length, 1);
    assert.equal(report.unparsableManifests[0]?.repository, 'team/app');
    assert.equal(report.unparsableManifests[0]?.digest, brokenDigest.digest);
    assert.match(report.unparsableManifests[0]?.reason ?? '', /config/);
    for (const digest of image.layers) assert.ok(await linked('team/app', digest));
    for (const digest of other.layers) assert.equal(await linked('team/other', digest), false);
  });

  it('a dry run reports the same counts as the real run', async () => {
    const base = await pushBlob('team/app');
    const gone = await pushImage('team/app', 'old', {}, [base]);
    await pushImage('team/app', 'new', {}, [base]);
    await pushImage('team/app', null); // untagged: pruned with untaggedManifests, then its layers
    await deleteManifest('team/app', gone.digest);
    await pushBlob('team/lone');

    const dry = await gc({ dryRun: true, untaggedManifests: true });
    assert.equal(dry.manifestsDeleted, 1);
    assert.equal(dry.links.unlinked, 5);
    assert.equal(dry.records.deleted, 5);
    for (const digest of gone.layers) assert.ok(await linked('team/app', digest), 'a dry run unlinks nothing');
    const real = await gc({ untaggedManifests: true });
    assert.deepEqual({ ...real, durationMs: 0, dryRun: true }, { ...dry, durationMs: 0 });
    assert.deepEqual((await gc({ untaggedManifests: true })).links, { unlinked: 0, bytes: 0 }, 'nothing left');
  });

  it('brings back a link that a manifest stored during the run references', async () => {
    const image = await pushImage('team/app', 'v1');
    await deleteManifest('team/app', image.digest);
    await ageStore(2 * HOUR);
    const stored = await store.get(keyOf({ kind: 'manifest', repo: 'team/app', digest: parseDigest(image.digest) }));
    assert.equal(stored, null);
    // A PUT of the same image checked its links before GC removed them and stores its manifest
    // while GC marks (after the removal): simulated by writing the manifest when 2b lists.
    const body = image.body;
    let listings = 0;
    const racing: ObjectStore = Object.create(store) as ObjectStore;
    racing.list = async (options) => {
      if (options.prefix === keyOf({ kind: 'catalog' }) && ++listings === 2) {
        await store.put(keyOf({ kind: 'manifest', repo: 'team/app', digest: parseDigest(image.digest) }), body, { contentType: OCI_MANIFEST });
      }
      return store.list(options);
    };
    const lines: string[] = [];
    const report = await collectGarbage(racing, { dryRun: false, graceSeconds: HOUR, log: (l) => lines.push(l) });
    assert.equal(lines.filter((l) => l.includes('"restore":"link"')).length, 2, 'removed in 2a, brought back in 2c');
    assert.equal(report.links.unlinked, 0);
    assert.equal(report.records.deleted, 0);
    for (const digest of image.layers) assert.ok(await linked('team/app', digest));
    for (const digest of image.layers) assert.ok(await exists(recordKey(digest)));
  });

  it('spares a link that a push re-links while GC runs', async () => {
    const bytes = new Uint8Array(randomBytes(1024));
    const blob = await pushBlob('team/app', bytes);
    await ageStore(2 * HOUR);
    const racing: ObjectStore = Object.create(store) as ObjectStore;
    racing.list = async (options) => {
      const page = await store.list(options);
      if (options.prefix === keyOf({ kind: 'layerLinks', repo: 'team/app' })) await pushBlob('team/app', bytes);
      return page;
    };
    const report = await collectGarbage(racing, { dryRun: false, graceSeconds: HOUR });
    assert.equal(report.links.unlinked, 0);
    assert.ok(await linked('team/app', blob.digest));
    assert.ok(await exists(recordKey(blob.digest)));
  });
});
