/**
 * Webhooks over HTTP: a real Node server process (filesystem store) and real local HTTP receivers.
 * A signed, Distribution-shaped push event arrives and its signature checks out over the raw body;
 * pull and delete events when asked for; a receiver that fails twice gets the event on the third
 * attempt and the log shows all three; a dead receiver (one that never answers, one that refuses
 * connections) holds up no push; a queued delivery survives a restart of the server; URLs are
 * checked (internal targets only with --allow-internal); the secret never comes back out.
 * Push latency with and without hooks is printed as a diagnostic (never asserted: timings live
 * in `npm run bench`).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { ADMIN, BASE_ENV, selectedTargets } from '../support/targets.ts';
import { OCI_MANIFEST, RegistryClient, describe as show, errorCode, randomBlob } from '../support/registry-client.ts';
import { adminCall, berth } from '../support/berth-cli.ts';
import { closedPort, eventually, startReceiver, type Receiver } from '../support/webhook-receiver.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15952);
const RESTART_PORT = testPort(15953);
/** The Worker target uses this port and the next (its inspector). */
const WORKER_PORT = testPort(15954);
const SECRET = 'a-webhook-secret-of-some-length';

interface Delivery {
  state: string;
  attempts: number;
  summary: string;
  last: { status?: number; error?: string }[];
}

interface EventBody {
  events: {
    id: string;
    timestamp: string;
    action: string;
    target: { mediaType?: string; digest?: string; size?: number; length?: number; repository: string; url?: string; tag?: string };
    request: { id: string; addr?: string; host: string; method: string; useragent?: string };
    actor: { name?: string };
    source: { addr: string; instanceID: string };
  }[];
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

describe('webhooks over HTTP (node-fs)', () => {
  let target: NodeTarget;
  let client: RegistryClient;
  const receivers: Receiver[] = [];
  const cli = (args: string[], url = target.url) => berth(url, ADMIN, args);
  const api = (method: string, path: string, body?: unknown, url = target.url) => adminCall(url, ADMIN, method, path, body);

  /** Adds a hook through the admin API (the CLI's own `add` is tested once, below). */
  async function addHookAt(registry: string, url: string, options: Record<string, unknown> = {}): Promise<string> {
    const res = await api('POST', '/admin/webhooks', { url, allowInternal: true, ...options }, registry);
    assert.equal(res.status, 201, await show(res));
    const { id } = (await res.json()) as { id: string };
    assert.match(id, /^wh_[0-9a-f]{16}$/);
    return id;
  }
  const addHook = (url: string, options: Record<string, unknown> = {}): Promise<string> => addHookAt(target.url, url, options);

  async function deliveries(id: string, url = target.url): Promise<Delivery[]> {
    const res = await api('GET', `/admin/webhooks/${id}/deliveries`, undefined, url);
    assert.equal(res.status, 200, await show(res));
    return ((await res.json()) as { deliveries: Delivery[] }).deliveries;
  }

  async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const rx = await startReceiver(answer);
    receivers.push(rx);
    return rx;
  }

  before(async () => {
    target = await startNodeTarget({ port: PORT, env: BASE_ENV });
    client = new RegistryClient(target.url, ADMIN);
  });
  after(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await target?.stop();
  });

  it('a push reaches the receiver as a signed, Distribution-shaped envelope', async () => {
    const rx = await receiver();
    const added = await cli(['webhooks', 'add', rx.url, '--allow-internal', '--secret', SECRET, '--repos', 'hooks/app']);
    assert.equal(added.status, 0, added.stderr);
    const id = added.stdout.split('\t')[0]!;
    assert.match(id, /^wh_[0-9a-f]{16}$/);
    await client.pushImage('hooks/other', 'v1'); // the repository glob leaves it out
    const pushed = await client.pushImage('hooks/app', 'v1');
    const [got] = await rx.waitFor(1);
    assert.ok(got);
    assert.equal(got.headers['content-type'], 'application/vnd.docker.distribution.events.v1+json');
    const expected = `sha256=${createHmac('sha256', SECRET).update(got.body).digest('hex')}`;
    assert.equal(got.headers['x-berth-signature-256'], expected, 'HMAC-SHA256 of the raw body with the secret');
    assert.equal(got.headers['x-berth-event'], 'push');
    assert.match(String(got.headers['x-berth-delivery']), new RegExp(`^${id}/`));

    const body = JSON.parse(got.body) as EventBody;
    assert.equal(body.events.length, 1);
    const event = body.events[0]!;
    assert.match(event.id, /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(Date.parse(event.timestamp) - Date.now()) < 60_000);
    assert.equal(event.action, 'push');
    assert.deepEqual(event.target, {
      mediaType: OCI_MANIFEST,
      digest: pushed.digest,
      size: Buffer.byteLength(pushed.body),
      length: Buffer.byteLength(pushed.body),
      repository: 'hooks/app',
      url: `${target.url}/v2/hooks/app/manifests/${pushed.digest}`,
      tag: 'v1',
    });
    assert.equal(event.request.method, 'PUT');
    assert.equal(event.request.host, new URL(target.url).host);
    assert.equal(event.request.addr, '127.0.0.1');
    assert.match(event.request.id, /.+/);
    assert.deepEqual(event.actor, { name: ADMIN.username });
    assert.equal(event.source.addr, new URL(target.url).host);
    assert.match(event.source.instanceID, /.+/);

    // Only hooks/app: a second push there is the second request, nothing from hooks/other came.
    await client.pushImage('hooks/app', 'v2');
    const all = await rx.waitFor(2);
    assert.equal(all.length, 2);
    assert.equal((JSON.parse(all[1]!.body) as EventBody).events[0]!.target.tag, 'v2');

    // The secret never comes back out, nor lands in the log.
    const list = await api('GET', '/admin/webhooks');
    const text = await list.text();
    assert.ok(!text.includes(SECRET));
    assert.equal((JSON.parse(text) as { webhooks: { id: string; hasSecret: boolean }[] }).webhooks.find((h) => h.id === id)?.hasSecret, true);
    assert.ok(!target.logs().includes(SECRET), 'the secret appears in the server output');
    await eventually(async () => ((await deliveries(id)).filter((d) => d.state === 'delivered').length === 2 ? true : undefined), 10_000, 'both deliveries logged');
    const listed = await cli(['webhooks', 'list']);
    assert.match(listed.stdout, new RegExp(`${id}\\t${rx.url}\\tevents=push\\trepos=hooks/app\\tsigned=yes\\tinternal allowed\\tlast: delivered push hooks/app:v2 \\(HTTP 200`));
  });

  it('pull and delete events, when the hook asks for them', async () => {
    const rx = await receiver();
    await addHook(rx.url, { events: ['pull', 'delete'], repos: 'hooks/pd' });
    const image = await client.pushImage('hooks/pd', 'v1');
    const head = await client.fetch('/v2/hooks/pd/manifests/v1', { method: 'HEAD', headers: { Accept: OCI_MANIFEST } });
    assert.equal(head.status, 200);
    const get = await client.fetch('/v2/hooks/pd/manifests/v1', { headers: { Accept: OCI_MANIFEST } });
    assert.equal(get.status, 200);
    await rx.waitFor(1);
    const del = await client.fetch(`/v2/hooks/pd/manifests/${image.digest}`, { method: 'DELETE' });
    assert.equal(del.status, 202);
    const got = await rx.waitFor(2);
    const events = got.map((r) => (JSON.parse(r.body) as EventBody).events[0]!);
    assert.deepEqual(events.map((e) => e.action), ['pull', 'delete'], 'no event for the push or the HEAD');
    assert.equal(events[0]!.target.tag, 'v1');
    assert.equal(events[0]!.request.method, 'GET');
    assert.equal(events[1]!.target.digest, image.digest);
    assert.equal(events[1]!.request.method, 'DELETE');
    assert.equal(rx.received.length, 2);
  });

  it('a receiver that fails twice then succeeds gets the same delivery a third time; the log shows all three', async () => {
    const rx = await receiver((i) => (i < 2 ? 500 : 200));
    const id = await addHook(rx.url, { repos: 'hooks/retry', secret: SECRET });
    const push = await client.pushImage('hooks/retry', 'v1');
    const got = await rx.waitFor(3, 30_000);
    assert.equal(new Set(got.map((r) => r.body)).size, 1, 'every attempt sends the same bytes');
    assert.equal(new Set(got.map((r) => r.headers['x-berth-delivery'])).size, 1);
    assert.equal(new Set(got.map((r) => r.headers['x-berth-signature-256'])).size, 1);
    assert.ok(got[1]!.at > got[0]!.at && got[2]!.at > got[1]!.at);
    const [logged] = await eventually(async () => {
      const log = await deliveries(id);
      return log[0]?.state === 'delivered' ? log : undefined;
    }, 10_000, 'delivered');
    assert.equal(logged!.attempts, 3);
    assert.deepEqual(logged!.last.map((a) => a.status), [500, 500, 200]);
    const printed = await cli(['webhooks', 'log', id]);
    assert.match(printed.stdout, /delivered\tpush hooks\/retry:v1\t3 attempt\(s\), last: HTTP 200/);
    assert.ok(push.digest);
  });

  it('a dead receiver holds up no push: every push answers while its deliveries hang or are refused', async (t) => {
    const timings = async (repo: string): Promise<number[]> => {
      const config = JSON.stringify({ os: 'linux' });
      const layer = randomBlob(1024);
      const configDigest = await client.pushBlob(repo, config);
      const layerDigest = await client.pushBlob(repo, layer);
      const ms: number[] = [];
      for (let i = 0; i < 20; i++) {
        const manifest = JSON.stringify({
          schemaVersion: 2, mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: Buffer.byteLength(config) },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.byteLength }],
          annotations: { n: String(i) },
        });
        const started = performance.now();
        const res = await client.putManifest(repo, `v${i}`, manifest);
        ms.push(performance.now() - started);
        assert.equal(res.status, 201, await show(res));
      }
      return ms;
    };
    const without = await timings('hooks/quiet');

    const hung = await receiver(() => 'hang');
    const hangId = await addHook(hung.url, { repos: 'hooks/dead' });
    const refused = await addHook(`http://127.0.0.1:${await closedPort()}/nobody-listens`, { repos: 'hooks/dead' });
    const withHooks = await timings('hooks/dead');
    // All 20 pushes answered 201 while the receiver still held requests it never answered.
    assert.ok(hung.open() >= 1, `the hanging receiver holds ${hung.open()} requests`);
    assert.ok(hung.received.length >= 1);
    const log = await eventually(async () => {
      const entries = await deliveries(refused);
      return entries.length === 20 && entries.every((d) => d.attempts >= 1) ? entries : undefined;
    }, 20_000, 'refused deliveries attempted');
    assert.ok(log.every((d) => d.state === 'pending' && d.last[0]?.error === 'ECONNREFUSED'), JSON.stringify(log[0]));
    t.diagnostic(`manifest PUT median: ${median(without).toFixed(1)} ms without hooks, ${median(withHooks).toFixed(1)} ms with a hanging and a refusing hook (20 each; not asserted)`);
    assert.equal((await api('DELETE', `/admin/webhooks/${hangId}`)).status, 204);
    assert.equal((await api('DELETE', `/admin/webhooks/${refused}`)).status, 204);
  });

  it('a queued delivery survives a restart of the server', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-webhook-restart-'));
    const rx = await receiver(() => 503);
    let server: NodeTarget | undefined;
    try {
      server = await startNodeTarget({ port: RESTART_PORT, env: BASE_ENV, dataDir, keepData: true });
      const url = server.url;
      const id = await addHookAt(url, rx.url, { repos: 'hooks/restart' });
      await new RegistryClient(url, ADMIN).pushImage('hooks/restart', 'v1');
      await eventually(async () => {
        const [d] = await deliveries(id, url);
        return d && d.attempts >= 1 && d.state === 'pending' ? d : undefined;
      }, 10_000, 'first attempt failed');
      await server.stop();
      const before = rx.received.length;
      rx.answer(() => 200);
      server = await startNodeTarget({ port: RESTART_PORT, env: BASE_ENV, dataDir, keepData: true });
      const [d] = await eventually(async () => {
        const log = await deliveries(id, url);
        return log[0]?.state === 'delivered' ? log : undefined;
      }, 30_000, 'delivered after the restart');
      assert.ok(rx.received.length > before);
      assert.equal(d!.last.at(-1)?.status, 200);
      const bodies = new Set(rx.received.map((r) => r.body));
      assert.equal(bodies.size, 1, 'the restarted server sent the queued envelope, not a new one');
    } finally {
      await server?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('targets are checked: http(s) only, no credentials, internal addresses only with --allow-internal', async () => {
    const scheme = await cli(['webhooks', 'add', 'ftp://example.com/x']);
    assert.equal(scheme.status, 2);
    assert.match(scheme.stderr, /must start with http:\/\/ or https:\/\//);
    for (const [url, message] of [
      ['http://169.254.169.254/latest/meta-data', /169\.254\.169\.254 is an internal address.*--allow-internal/],
      ['http://localhost:8080/', /internal address/],
      ['http://[::1]/', /internal address/],
      ['http://10.1.2.3/', /internal address/],
      ['http://2130706433/', /127\.0\.0\.1 is an internal address/],
      ['http://metadata.google.internal/', /internal address/],
      ['http://user:secret@hooks.example.com/', /must not carry credentials/],
    ] as const) {
      const res = await api('POST', '/admin/webhooks', { url });
      assert.equal(res.status, 400, url);
      assert.equal(await errorCode(res.clone()), 'INVALID_REQUEST');
      assert.match(((await res.json()) as { errors: { message: string }[] }).errors[0]!.message, message, url);
    }
    const bad = await cli(['webhooks', 'add', 'https://hooks.example.com/x', '--events', 'push,fly']);
    assert.equal(bad.status, 1);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, /events must be a non-empty list of push, delete, pull/);
    const short = await api('POST', '/admin/webhooks', { url: 'https://hooks.example.com/x', secret: 'short' });
    assert.match(await short.text(), /secret must be 16 to 256/);
    const publicHook = await api('POST', '/admin/webhooks', { url: 'https://hooks.example.com/berth', repos: 'nothing/matches' });
    assert.equal(publicHook.status, 201, await show(publicHook));
    const created = (await publicHook.json()) as { id: string; allowInternal: boolean; hasSecret: boolean };
    assert.deepEqual([created.allowInternal, created.hasSecret], [false, false]);
    assert.equal((await api('DELETE', `/admin/webhooks/${created.id}`)).status, 204);

    await api('POST', '/admin/users', { account: 'hookless', password: 'hookless-password' });
    const notAdmin = await adminCall(target.url, { username: 'hookless', password: 'hookless-password' }, 'GET', '/admin/webhooks');
    assert.equal(notAdmin.status, 403);
  });

  it('webhooks test sends one signed test event now; remove takes the hook, its queue and its log', async () => {
    const rx = await receiver((i) => (i === 0 ? 200 : 502));
    const id = await addHook(rx.url, { repos: 'nothing/here', secret: SECRET });
    const ok = await cli(['webhooks', 'test', id]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /^delivered: HTTP 200/);
    const [sent] = await rx.waitFor(1);
    const event = (JSON.parse(sent!.body) as EventBody).events[0]!;
    assert.equal(event.action, 'test');
    assert.equal(sent!.headers['x-berth-signature-256'], `sha256=${createHmac('sha256', SECRET).update(sent!.body).digest('hex')}`);
    const failed = await cli(['webhooks', 'test', id]);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /^berth: webhooks test: not delivered: HTTP 502/);
    assert.deepEqual((await deliveries(id)).map((d) => d.state), ['failed', 'delivered'], 'tests are logged, never retried');

    const removed = await cli(['webhooks', 'remove', id]);
    assert.equal(removed.status, 0, removed.stderr);
    const gone = await cli(['webhooks', 'log', id]);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, /WEBHOOK_UNKNOWN/);
    const unknown = await api('POST', '/admin/webhooks/wh_0000000000000000/test');
    assert.equal(unknown.status, 404);
    assert.equal((await api('GET', '/admin/webhooks/not-an-id/deliveries')).status, 404);
  });
});

/**
 * The same delivery from the Worker in workerd: the background task lives on in `waitUntil`
 * after the push's answer, including an in-task retry. Runs when the API suite's worker-r2
 * target is selected (BERTH_TEST_TARGETS), else says why it is skipped.
 */
describe('webhooks from the Worker (worker-r2, waitUntil)', () => {
  const selected = selectedTargets().some((t) => t.name === 'worker-r2');
  it('delivers a signed push event, retrying once after a failure', { skip: selected ? false : 'worker-r2 is not in BERTH_TEST_TARGETS' }, async () => {
    const rx = await startReceiver((i) => (i === 0 ? 500 : 200));
    const { startWorkerTarget } = await import('../support/target-worker.ts');
    const worker = await startWorkerTarget({ port: WORKER_PORT, env: BASE_ENV });
    try {
      const res = await adminCall(worker.url, ADMIN, 'POST', '/admin/webhooks', { url: rx.url, allowInternal: true, secret: SECRET });
      assert.equal(res.status, 201, await show(res));
      const { id } = (await res.json()) as { id: string };
      const pushed = await new RegistryClient(worker.url, ADMIN).pushImage('hooks/worker', 'v1');
      const got = await rx.waitFor(2, 30_000);
      for (const r of got) assert.equal(r.headers['x-berth-signature-256'], `sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
      assert.equal((JSON.parse(got[1]!.body) as EventBody).events[0]!.target.digest, pushed.digest);
      const log = await eventually(async () => {
        const entries = ((await (await adminCall(worker.url, ADMIN, 'GET', `/admin/webhooks/${id}/deliveries`)).json()) as { deliveries: Delivery[] }).deliveries;
        return entries[0]?.state === 'delivered' ? entries : undefined;
      }, 10_000, 'delivered');
      assert.deepEqual(log[0]!.last.map((a) => a.status), [500, 200]);
    } finally {
      await worker.stop();
      await rx.close();
    }
  });
});
