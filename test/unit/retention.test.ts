/**
 * Retention (worker/registry/retention.ts) on the real filesystem store through the registry
 * domain, with the registry's clock injected: 50 CI tags pushed an hour apart, keep-last and
 * keep-days, protected and immutable tags, untagged manifests past the window, dry runs that
 * report exactly what the real run then deletes. Time moves by setting the clock, never by
 * sleeping. Also the scheduled job: retention runs before GC, so one run frees the layers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import { registryConfigFromEnv } from '../../worker/config.ts';
import { parseDigest } from '../../worker/oci/digest.ts';
import { createLogger } from '../../worker/observe/logger.ts';
import { noMetrics } from '../../worker/observe/metrics.ts';
import { digestBytes } from '../../worker/registry/content-digest.ts';
import { Registry } from '../../worker/registry/registry.ts';
import { runScheduledJob } from '../../worker/registry/scheduled.ts';
import { keyOf } from '../../worker/registry/keys.ts';
import { validatePolicy, type RepositoryPolicy } from '../../worker/registry/policy-rules.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { createFsStore } from '../../worker/storage/fs.ts';
import type { ObjectStore } from '../../worker/storage/types.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const REPO = 'ci/app';

const roots: string[] = [];
let store: ObjectStore;
let registry: Registry;
/** The registry's clock: tests set it. */
let now: Date;
const T = new Date();

beforeEach(async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-retention-'));
  roots.push(root);
  store = checkedStore(createFsStore({ root }));
  now = T;
  registry = new Registry(store, registryConfigFromEnv({}), { clock: () => now });
});
after(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

async function pushBlob(repo: string, bytes: Uint8Array<ArrayBuffer>): Promise<{ digest: string; size: number }> {
  const digest = parseDigest((await digestBytes(bytes, 'sha256')).digest);
  const session = await registry.uploads.start(repo);
  await registry.uploads.finish(session, digest, { body: new Response(bytes).body, length: bytes.byteLength });
  return { digest: digest.digest, size: bytes.byteLength };
}

/** One config and one layer shared by every manifest; each build's manifest differs by an annotation. */
async function pushBuilds(repo: string, count: number, firstPushedAt: Date): Promise<string[]> {
  const config = await pushBlob(repo, new Uint8Array(new TextEncoder().encode('{"os":"linux"}')));
  const layer = await pushBlob(repo, new Uint8Array(randomBytes(4096)));
  const digests: string[] = [];
  for (let i = 1; i <= count; i++) {
    now = new Date(firstPushedAt.getTime() + (i - 1) * HOUR);
    const body = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
      annotations: { build: String(i) },
    }));
    digests.push((await registry.manifests.put(repo, { kind: 'tag', tag: `build-${i}` }, body, OCI_MANIFEST)).digest.digest);
  }
  return digests;
}

async function tagDigest(repo: string, tag: string, digest: string): Promise<void> {
  const stored = await registry.manifests.get(repo, { kind: 'digest', digest: parseDigest(digest).digest });
  await registry.manifests.put(repo, { kind: 'tag', tag }, stored.body, stored.mediaType);
}

async function tags(repo: string): Promise<string[]> {
  return (await registry.listings.tags(repo, {})).names;
}

async function setPolicy(input: Record<string, unknown>): Promise<RepositoryPolicy> {
  const policy = validatePolicy(input, now);
  assert.notEqual(typeof policy, 'string', String(policy));
  await registry.policies.set(policy as RepositoryPolicy);
  return policy as RepositoryPolicy;
}

const builds = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `build-${from + i}`);
const sorted = (names: string[]): string[] => [...names].sort();

describe('retention on 50 tags', () => {
  it('keep-last and keep-days keep either rule\'s tags; protected and immutable tags stay; untagged manifests go past the window', async () => {
    // build-i pushed at T - (50 - i) h: build-50 now, build-26 exactly a day ago, build-1 49 h ago.
    const digests = await pushBuilds(REPO, 50, new Date(T.getTime() - 49 * HOUR));
    now = new Date(T.getTime() - 49 * HOUR); // `latest` and `v1.0` are as old as the oldest builds
    await tagDigest(REPO, 'latest', digests[49]!);
    await tagDigest(REPO, 'v1.0', digests[2]!);
    now = T;
    await setPolicy({
      pattern: 'ci/**', keepLast: 10, keepDays: 1, protectTags: ['latest'], immutableTags: ['v*'], deleteUntaggedAfterSeconds: 7 * 86_400,
    });
    assert.equal((await tags(REPO)).length, 52);

    // Within a day: build-27…build-50 (pushed less than 24 h ago); the 10 newest are among them.
    const dry = await registry.applyRetention({ dryRun: true });
    assert.equal(dry.repositories, 1);
    assert.deepEqual(sorted(dry.tags.map((t) => t.tag)), sorted(builds(1, 26)));
    assert.ok(dry.tags.every((t) => t.repository === REPO && t.policy === 'ci/**'));
    assert.equal(dry.tags.find((t) => t.tag === 'build-26')?.digest, digests[25]);
    assert.deepEqual(dry.manifests, [], 'untagged manifests are younger than the window');
    assert.equal((await tags(REPO)).length, 52, 'a dry run deletes nothing');

    const real = await registry.applyRetention({ dryRun: false });
    assert.deepEqual(real.tags, dry.tags, 'the real run deletes what the dry run reported');
    assert.deepEqual(sorted(await tags(REPO)), sorted(['latest', 'v1.0', ...builds(27, 50)]));

    // Eight days later: keep-days keeps nothing, keep-last the 10 newest; the manifests of
    // build-1…build-40 are untagged (but build-3's, which v1.0 names) and older than 7 days.
    now = new Date(T.getTime() + 8 * DAY);
    const fsNow = Date.now();
    const later = await registry.applyRetention({ dryRun: true, now: new Date(fsNow + 8 * DAY) });
    assert.deepEqual(sorted(later.tags.map((t) => t.tag)), sorted(builds(27, 40)));
    const untagged = digests.slice(0, 40).filter((_, i) => i !== 2);
    assert.deepEqual(sorted(later.manifests.map((m) => m.digest)), sorted(untagged), 'a dry run counts the manifests its tag deletions would untag');
    const done = await registry.applyRetention({ dryRun: false, now: new Date(fsNow + 8 * DAY) });
    assert.deepEqual(sorted(done.manifests.map((m) => m.digest)), sorted(untagged));
    assert.deepEqual(sorted(await tags(REPO)), sorted(['latest', 'v1.0', ...builds(41, 50)]));
    for (const digest of untagged.slice(0, 3)) {
      await assert.rejects(registry.manifests.stat(REPO, { kind: 'digest', digest: parseDigest(digest).digest }), /manifest unknown/);
    }
    const kept = await registry.manifests.stat(REPO, { kind: 'tag', tag: 'v1.0' });
    assert.equal(kept.digest.digest, digests[2]);

    // Nothing left to do.
    const again = await registry.applyRetention({ dryRun: false, now: new Date(fsNow + 8 * DAY) });
    assert.deepEqual([again.tags, again.manifests], [[], []]);
  });

  it('keep-last alone, keep-days alone, and expire-immutable', async () => {
    await pushBuilds(REPO, 50, new Date(T.getTime() - 50 * HOUR));
    now = T;
    await setPolicy({ pattern: 'ci/**', keepLast: 5, immutableTags: ['build-1', 'build-2'] });
    const last = await registry.applyRetention({ dryRun: true });
    assert.deepEqual(sorted(last.tags.map((t) => t.tag)), sorted(builds(3, 45)), 'the immutable build-1 and build-2 stay');

    await setPolicy({ pattern: 'ci/**', keepLast: 5, immutableTags: ['build-1', 'build-2'], expireImmutable: true });
    const expiring = await registry.applyRetention({ dryRun: true });
    assert.deepEqual(sorted(expiring.tags.map((t) => t.tag)), sorted(builds(1, 45)));

    await setPolicy({ pattern: 'ci/**', keepDays: 1 });
    const days = await registry.applyRetention({ dryRun: true });
    assert.equal(days.tags.length, 50 - 23, 'tags pushed within the last 24 hours are kept (build-28…build-50)');
    now = new Date(T.getTime() + 2 * DAY);
    assert.equal((await registry.applyRetention({ dryRun: true })).tags.length, 50);
  });

  it('only repositories a retention policy governs are touched, longest pattern first', async () => {
    await pushBuilds('ci/app', 3, new Date(T.getTime() - 3 * HOUR));
    await pushBuilds('ci/keep/app', 3, new Date(T.getTime() - 3 * HOUR));
    await pushBuilds('other/app', 3, new Date(T.getTime() - 3 * HOUR));
    now = T;
    await setPolicy({ pattern: 'ci/**', keepLast: 1 });
    await setPolicy({ pattern: 'ci/keep/**', immutableTags: ['v*'] });
    const report = await registry.applyRetention({ dryRun: false });
    assert.equal(report.repositories, 1);
    assert.deepEqual(await tags('ci/app'), ['build-3']);
    assert.equal((await tags('ci/keep/app')).length, 3, 'its own policy has no retention rule');
    assert.equal((await tags('other/app')).length, 3);
  });

  it('a tag pushed again after the listing is spared', async () => {
    const digests = await pushBuilds(REPO, 3, new Date(T.getTime() - 3 * DAY));
    now = T;
    await setPolicy({ pattern: 'ci/**', keepLast: 1 });
    // The plan deletes build-1 and build-2; build-1 is pushed again between the plan and its
    // delete (on the second read of its record: the first was the listing's).
    const key = keyOf({ kind: 'tag', repo: REPO, tag: 'build-1' });
    let reads = 0;
    const realGet = store.get.bind(store);
    store.get = async (k, range) => {
      if (k === key && ++reads === 2) {
        now = new Date(T.getTime() + 1000);
        await tagDigest(REPO, 'build-1', digests[0]!);
        now = T;
      }
      return realGet(k, range);
    };
    const report = await registry.applyRetention({ dryRun: false });
    assert.deepEqual(report.tags.map((t) => t.tag), ['build-2']);
    assert.deepEqual(sorted(await tags(REPO)), ['build-1', 'build-3']);
  });
});

describe('the scheduled job', () => {
  it('applies retention before garbage collection, so one run frees the untagged image\'s layers', async () => {
    const config = registryConfigFromEnv({ BERTH_GC_ON_SCHEDULE: 'true', BERTH_GC_GRACE_SECONDS: '0' });
    registry = new Registry(store, config, { clock: () => now });
    const old = new Date(T.getTime() - 10 * DAY);
    now = old;
    const layer = await pushBlob(REPO, new Uint8Array(randomBytes(8192)));
    const body = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...layer },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    }));
    await registry.manifests.put(REPO, { kind: 'tag', tag: 'old' }, body, OCI_MANIFEST);
    await pushBuilds(REPO, 1, T);
    now = T;
    await setPolicy({ pattern: 'ci/**', keepLast: 1, deleteUntaggedAfterSeconds: 3600 });
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
    const later = new Date(Date.now() + 2 * HOUR);
    const result = await runScheduledJob(store, config, { logger, metrics: noMetrics, now: later });
    assert.deepEqual(result.retention?.tags.map((t) => t.tag), ['old']);
    assert.equal(result.retention?.manifests.length, 1);
    assert.equal(result.gc?.dataObjects.bytes, 8192, 'the old image\'s layer was freed in the same run');
    assert.ok(lines.some((l) => l.msg === 'retention'));
    assert.deepEqual(await tags(REPO), ['build-1']);
  });
});
