/**
 * The mirror's lifetimes, with time moved instead of waited for: the registry domain runs in
 * this process (real filesystem store) with an injected clock, against real upstream processes
 * (Debian's docker-registry with htpasswd, a Berth with token auth) behind recording proxies.
 * - a cached tag is not asked about before BERTH_MIRROR_TTL_SECONDS, even when it moved upstream;
 * - after it, one HEAD revalidates it (no GET when unchanged, a GET when it moved);
 * - an upstream token is reused for its scope until shortly before `expires_in`, then renewed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rmSync } from 'node:fs';
import { registryConfigFromEnv } from '../../worker/config.ts';
import { parseReference } from '../../worker/oci/reference.ts';
import { Registry } from '../../worker/registry/registry.ts';
import { createLogger } from '../../worker/observe/logger.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { createFsStore } from '../../worker/storage/fs.ts';
import { startDistribution, type Distribution } from '../support/target-reference.ts';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { RecordingProxy } from '../support/recording-proxy.ts';
import { BerthAdmin } from '../support/e2e-target.ts';
import { RegistryClient, randomBlob } from '../support/registry-client.ts';
import { testPort } from '../support/ports.ts';

const BASE = testPort(15360);
const TTL_SECONDS = 300;
const WORK = resolve('.tmp', 'mirror-clock');
const TOK_ADMIN = { username: 'admin', password: 'clock-upstream-admin' };

describe('mirror lifetimes on an injected clock', { timeout: 180_000 }, () => {
  let hub: Distribution;
  let hubProxy: RecordingProxy;
  let berth: NodeTarget;
  let berthProxy: RecordingProxy;
  let hubClient: RegistryClient;
  let root: string;
  let now = Date.parse('2026-01-01T00:00:00Z');
  let registry: Registry;
  const lines: string[] = [];

  before(async () => {
    rmSync(WORK, { recursive: true, force: true });
    hub = await startDistribution({ port: BASE, dir: join(WORK, 'hub') });
    hubProxy = await RecordingProxy.start(BASE + 1, hub.url);
    berth = await startNodeTarget({ port: BASE + 2, env: { BERTH_ADMIN_PASSWORD: TOK_ADMIN.password } });
    berthProxy = await RecordingProxy.start(BASE + 3, berth.url);
    hubClient = new RegistryClient(hub.url, hub.credentials);
    await new RegistryClient(berth.url, TOK_ADMIN).pushImage('private/app', '1', [randomBlob(2048)]);
    const bot = await new BerthAdmin(berth.url, TOK_ADMIN).createPullOnlyUser('private/**');
    root = await mkdtemp(join(tmpdir(), 'berth-mirror-clock-'));
    const config = registryConfigFromEnv({
      BERTH_MIRRORS: `hub=${hubProxy.url},tok=${berthProxy.url}`,
      BERTH_MIRROR_HUB_USERNAME: hub.credentials.username,
      BERTH_MIRROR_HUB_PASSWORD: hub.credentials.password,
      BERTH_MIRROR_TOK_USERNAME: bot.username,
      BERTH_MIRROR_TOK_PASSWORD: bot.password,
      BERTH_MIRROR_TTL_SECONDS: String(TTL_SECONDS),
    });
    registry = new Registry(checkedStore(createFsStore({ root })), config, {
      clock: () => new Date(now),
      mirror: { logger: createLogger({ level: 'info', write: (line) => lines.push(line) }) },
    });
  });
  after(async () => {
    await berthProxy?.stop();
    await berth?.stop();
    await hubProxy?.stop();
    await hub?.stop();
    if (root) await rm(root, { recursive: true, force: true });
    rmSync(WORK, { recursive: true, force: true });
  });

  const pullTag = async (name: string, tag: string): Promise<string> => {
    const manifest = await registry.mirror.manifest(name, parseReference(tag), true);
    assert.ok(manifest, `${name} is mirrored`);
    return manifest.digest.digest;
  };
  const advance = (seconds: number): void => {
    now += seconds * 1000;
  };

  it('a cached tag is trusted for the TTL, then revalidated with one HEAD', async () => {
    const first = await hubClient.pushImage('library/clock', '1', [randomBlob(1024)]);
    assert.equal(await pullTag('hub/library/clock', '1'), first.digest);

    const moved = await hubClient.pushImage('library/clock', '1', [randomBlob(1024)]);
    hubProxy.reset();
    advance(TTL_SECONDS - 1);
    assert.equal(await pullTag('hub/library/clock', '1'), first.digest, 'within the TTL the cached digest is served');
    assert.deepEqual(hubProxy.requests, [], 'and the upstream is not asked at all');

    advance(2);
    assert.equal(await pullTag('hub/library/clock', '1'), moved.digest, 'past the TTL the moved tag is seen');
    assert.equal(hubProxy.manifestRequests('HEAD', 'library/clock').length, 1);
    assert.equal(hubProxy.manifestRequests('GET', 'library/clock').length, 1);

    hubProxy.reset();
    advance(TTL_SECONDS + 1);
    assert.equal(await pullTag('hub/library/clock', '1'), moved.digest);
    assert.equal(hubProxy.manifestRequests('HEAD', 'library/clock').length, 1, 'an unchanged tag costs one HEAD');
    assert.deepEqual(hubProxy.manifestRequests('GET', 'library/clock'), [], 'and no GET');

    hubProxy.reset();
    advance(TTL_SECONDS - 1);
    await pullTag('hub/library/clock', '1');
    assert.deepEqual(hubProxy.requests, [], 'the HEAD renewed the TTL');
  });

  it('upstream tokens are reused for their scope until they are about to expire', async () => {
    berthProxy.reset();
    await pullTag('tok/private/app', '1');
    assert.equal(berthProxy.tokenRequests().length, 1, JSON.stringify(berthProxy.requests));

    berthProxy.reset();
    advance(TTL_SECONDS + 1);
    await pullTag('tok/private/app', '1');
    // The expired token is not sent: a HEAD answered 401, a token, the HEAD again.
    assert.deepEqual(berthProxy.manifestRequests('HEAD', 'private/app').map((r) => r.status), [401, 200]);
    // Berth's tokens live 300 s; one is not used within its last 10 s: renewed by now.
    assert.equal(berthProxy.tokenRequests().length, 1, `a new token after expiry: ${JSON.stringify(berthProxy.requests)}`);

    berthProxy.reset();
    advance(TTL_SECONDS + 1);
    await pullTag('tok/private/app', '1');
    assert.equal(berthProxy.tokenRequests().length, 1, JSON.stringify(berthProxy.requests));
    berthProxy.reset();
    advance(TTL_SECONDS / 2);
    await registry.mirror.manifest('tok/private/app', parseReference('2'), true).catch(() => null);
    assert.equal(berthProxy.tokenRequests().length, 0, 'another request within the lifetime reuses the token');
  });

  it('a stale tag served while the upstream is down is logged', async () => {
    await pullTag('hub/library/clock', '1');
    await hubProxy.stop();
    try {
      advance(TTL_SECONDS + 1);
      await pullTag('hub/library/clock', '1');
      const stale = lines.filter((line) => line.includes('"event":"stale-tag"'));
      assert.equal(stale.length, 1, lines.join('\n'));
      assert.match(stale[0]!, /"repository":"hub\/library\/clock"/);
      assert.match(stale[0]!, /"level":"warn"/);
    } finally {
      hubProxy = await RecordingProxy.start(BASE + 1, hub.url);
    }
  });
});
