/**
 * The observe seam through the real app (`app.request()`): request ids, the access-log line,
 * body bytes counted both ways, metrics samples, health probes and the guarded /metrics route.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRegistry } from '../../worker/app.ts';
import { registryConfigFromEnv } from '../../worker/config.ts';
import { createLogger, errorFields, lineSink, logLevelFromEnv } from '../../worker/observe/logger.ts';
import type { Metrics, RequestSample } from '../../worker/observe/metrics.ts';
import { createPrometheusMetrics } from '../../worker/observe/prometheus.ts';
import { routeOf } from '../../worker/observe/route-family.ts';
import { clientAddress, type Platform } from '../../worker/platform.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { openAuthorizer } from '../../worker/auth/open-authorizer.ts';
import { createFsStore } from '../../worker/storage/fs.ts';
import type { ObjectStore } from '../../worker/storage/types.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real filesystem store in a fresh directory (uploads need multipart). */
const freshStore = (): ObjectStore => createFsStore({ root: mkdtempSync(join(tmpdir(), 'berth-observe-')) });

const TOKEN = 'metrics-token-0123456789';

function recordingMetrics(): Metrics & { samples: RequestSample[]; store: string[]; inFlight: number; uploads: number } {
  const m = {
    samples: [] as RequestSample[],
    store: [] as string[],
    inFlight: 0,
    uploads: 0,
    requestStarted: () => {
      m.inFlight++;
      return () => void m.inFlight--;
    },
    uploadStarted: () => {
      m.uploads++;
      return () => void m.uploads--;
    },
    request: (s: RequestSample) => void m.samples.push(s),
    storeCall: (op: string, _s: number, outcome: string) => void m.store.push(`${op}:${outcome}`),
    gcRun: () => {},
  };
  return m;
}

function setup(options: { store?: ObjectStore; metrics?: Metrics; draining?: () => boolean; trustProxy?: boolean; platform?: Platform } = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  const metrics = options.metrics ?? recordingMetrics();
  const inner = options.store ?? freshStore();
  const store = checkedStore(inner, metrics.storeCall.bind(metrics));
  const config = registryConfigFromEnv({ BERTH_TRUST_PROXY: options.trustProxy ? 'true' : 'false' });
  const app = createRegistry({
    config,
    store,
    authorizer: openAuthorizer(),
    logger,
    accessLog: true,
    metrics,
    metricsToken: TOKEN,
    platform: options.platform ?? { name: 'test', clientAddress: () => '192.0.2.7', requestTarget: () => undefined, waitUntil: () => {} },
    draining: options.draining,
  });
  return { app, lines, metrics };
}

describe('request id and access log', () => {
  it('answers X-Request-Id, keeps a well-formed one from the caller, and logs one line per request', async () => {
    const { app, lines } = setup();
    const fresh = await app.request('/v2/');
    const id = fresh.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    const kept = await app.request('/v2/', { headers: { 'X-Request-Id': 'abc-123' } });
    assert.equal(kept.headers.get('x-request-id'), 'abc-123');
    const forged = await app.request('/v2/', { headers: { 'X-Request-Id': 'bad id"\n' } });
    assert.notEqual(forged.headers.get('x-request-id'), 'bad id"\n');
    const requests = lines.filter((l) => l.msg === 'request');
    assert.equal(requests.length, 3);
    assert.equal(requests[0]!.id, id);
    assert.equal(requests[1]!.id, 'abc-123');
    for (const line of requests) {
      assert.match(String(line.time), /^\d{4}-\d\d-\d\dT/);
      assert.equal(line.level, 'info');
      assert.equal(line.method, 'GET');
      assert.equal(line.route, 'base');
      assert.equal(line.status, 200);
      assert.equal(line.client, '192.0.2.7');
      assert.equal(typeof line.durationMs, 'number');
    }
  });

  it('counts body bytes in and out and names the repository', async () => {
    const { app, lines, metrics } = setup();
    const m = metrics as ReturnType<typeof recordingMetrics>;
    const start = await app.request('/v2/team/app/blobs/uploads/', { method: 'POST' });
    assert.equal(start.status, 202);
    const body = new Uint8Array(200_000).fill(7);
    const patch = await app.request(start.headers.get('location')!, { method: 'PATCH', body });
    assert.equal(patch.status, 202);
    const logged = lines.filter((l) => l.msg === 'request').at(-1)!;
    assert.equal(logged.route, 'upload');
    assert.equal(logged.repository, 'team/app');
    assert.equal(logged.bytesIn, 200_000);
    assert.equal(m.samples.at(-1)!.bytesIn, 200_000);
    assert.equal(m.uploads, 0, 'the upload gauge went back down');
    assert.equal(m.inFlight, 0);
    assert.ok(m.store.some((s) => s.startsWith('uploadPart:ok') || s.startsWith('put:ok')), m.store.join(','));
  });

  it('logs a streamed response when its body has been read, with the bytes sent', async () => {
    const { app, lines } = setup();
    const blob = new Uint8Array(300_000).fill(1);
    const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(blob).digest('hex')}`;
    const put = await app.request(`/v2/team/big/blobs/uploads/?digest=${digest}`, { method: 'POST', body: blob });
    assert.equal(put.status, 201);
    const get = await app.request(`/v2/team/big/blobs/${digest}`);
    assert.equal(get.status, 200);
    const before = lines.filter((l) => l.msg === 'request').length;
    const received = new Uint8Array(await get.arrayBuffer());
    assert.equal(received.byteLength, 300_000);
    const after = lines.filter((l) => l.msg === 'request');
    assert.equal(after.length, before + 1, 'the line is written once the body is sent');
    assert.equal(after.at(-1)!.bytesOut, 300_000);
  });

  it('hands bodies of known length to a runtime that relays them, and logs how the relay ended', async () => {
    const relayed: number[] = [];
    // Stands in for Workers' FixedLengthStream: a plain pipe whose end the runtime reports.
    const platform: Platform = {
      name: 'test',
      clientAddress: () => undefined,
      requestTarget: () => undefined,
      waitUntil: () => {},
      relayBody: (_c, body, length) => {
        relayed.push(length);
        const pipe = new TransformStream<Uint8Array, Uint8Array>();
        const ended = body.pipeTo(pipe.writable).then(() => 'done' as const, () => 'cancelled' as const);
        return { body: pipe.readable, ended };
      },
    };
    const { app, lines } = setup({ platform });
    const blob = new Uint8Array(300_000).fill(3);
    const digest = `sha256:${(await import('node:crypto')).createHash('sha256').update(blob).digest('hex')}`;
    assert.equal((await app.request(`/v2/team/big/blobs/uploads/?digest=${digest}`, { method: 'POST', body: blob })).status, 201);

    const whole = await app.request(`/v2/team/big/blobs/${digest}`);
    assert.equal(whole.headers.get('content-length'), '300000');
    assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), blob);
    await new Promise((done) => setImmediate(done));
    assert.deepEqual(relayed, [300_000]);
    const sent = lines.filter((l) => l.msg === 'request').at(-1)!;
    assert.equal(sent.bytesOut, 300_000);
    assert.equal(sent.outcome, undefined);

    const before = lines.length;
    const cut = await app.request(`/v2/team/big/blobs/${digest}`);
    await cut.body!.cancel();
    // The pipe notices the cancel on its next write, after a read from the store.
    for (let i = 0; i < 200 && lines.length === before; i++) await new Promise((done) => setTimeout(done, 5));
    const cancelled = lines.filter((l) => l.msg === 'request').at(-1)!;
    assert.equal(cancelled.outcome, 'cancelled');
    assert.equal(cancelled.bytesOut, 0);
  });

  it('reads the client from X-Forwarded-For only when the proxy is trusted', async () => {
    const headers = { 'X-Forwarded-For': '203.0.113.9, 198.51.100.4' };
    const trusted = setup({ trustProxy: true });
    await trusted.app.request('/v2/', { headers });
    assert.equal(trusted.lines.at(-1)!.client, '198.51.100.4');
    const plain = setup();
    await plain.app.request('/v2/', { headers });
    assert.equal(plain.lines.at(-1)!.client, '192.0.2.7');
  });

  it('logs unhandled errors with their cause and answers 500 INTERNAL_ERROR', async () => {
    const broken = freshStore();
    broken.head = broken.get = async () => {
      throw new Error('disk on fire', { cause: new Error('EIO') });
    };
    const { app, lines } = setup({ store: broken });
    const res = await app.request('/v2/team/app/manifests/latest', { method: 'HEAD' });
    assert.equal(res.status, 500);
    const error = lines.find((l) => l.msg === 'unhandled error') as { level: string; id: string; error: { message: string; cause: { cause: { message: string } } } };
    assert.ok(error, JSON.stringify(lines));
    assert.equal(error.level, 'error');
    assert.equal(error.id, res.headers.get('x-request-id'));
    assert.equal(error.error.cause.cause.message, 'EIO');
    assert.equal(lines.at(-1)!.level, 'error', 'a 5xx access line is an error line');
  });
});

describe('health probes', () => {
  it('/healthz answers without credentials; /readyz checks the store and the drain', async () => {
    let draining = false;
    const { app } = setup({ draining: () => draining });
    assert.equal((await app.request('/healthz')).status, 200);
    const ready = await app.request('/readyz');
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { status: string }).status, 'ready');
    draining = true;
    const leaving = await app.request('/readyz');
    assert.equal(leaving.status, 503);
    const body = (await leaving.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'UNAVAILABLE');
    assert.match(body.errors[0]!.message, /shutting down/);
  });

  it('/readyz answers 503 naming the store failure', async () => {
    const broken = freshStore();
    broken.list = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    };
    const { app } = setup({ store: broken });
    const res = await app.request('/readyz');
    assert.equal(res.status, 503);
    const body = (await res.json()) as { errors: { message: string }[] };
    assert.match(body.errors[0]!.message, /ECONNREFUSED/);
  });
});

describe('/metrics', () => {
  it('needs the bearer token and answers the Prometheus text format', async () => {
    const metrics = createPrometheusMetrics({ defaultMetrics: false });
    const { app } = setup({ metrics });
    await app.request('/v2/');
    await app.request('/readyz');
    const none = await app.request('/metrics');
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { errors: { code: string }[] }).errors[0]!.code, 'UNAUTHORIZED');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    const wrong = await app.request('/metrics', { headers: { Authorization: 'Bearer not-the-token-at-all' } });
    assert.equal(wrong.status, 401);
    await wrong.body?.cancel();
    const basic = await app.request('/metrics', { headers: { Authorization: 'Basic YTpi' } });
    assert.equal(basic.status, 401);
    await basic.text();
    const ok = await app.request('/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await ok.text();
    assert.match(text, /berth_http_requests_total\{family="base",method="GET",status="200"\} 1/);
    assert.match(text, /berth_http_requests_total\{family="metrics",method="GET",status="401"\} 3/);
    assert.match(text, /berth_auth_failures_total\{family="metrics"\} 2/, 'two 401s carried credentials');
    assert.match(text, /berth_store_operations_total\{operation="list",outcome="ok"\}/);
    assert.match(text, /berth_http_request_duration_seconds_bucket\{le="\+Inf",family="base",method="GET"\} 1/);
  });

  it('does not exist without a token', async () => {
    const app = createRegistry({
      config: registryConfigFromEnv({}),
      store: checkedStore(freshStore()),
      authorizer: openAuthorizer(),
      metrics: createPrometheusMetrics({ defaultMetrics: false }),
    });
    assert.equal((await app.request('/metrics', { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 404);
  });
});

describe('pure parts', () => {
  it('routeOf names the family and only valid repositories', () => {
    assert.deepEqual(routeOf('/v2/'), { family: 'base' });
    assert.deepEqual(routeOf('/v2/a/b/manifests/latest'), { family: 'manifest', repository: 'a/b' });
    assert.deepEqual(routeOf('/v2/A!/manifests/latest'), { family: 'manifest' });
    assert.deepEqual(routeOf('/token'), { family: 'token' });
    assert.deepEqual(routeOf('/admin/users/x'), { family: 'admin' });
    assert.deepEqual(routeOf('/readyz'), { family: 'health' });
    assert.deepEqual(routeOf('/nothing'), { family: 'other' });
  });

  it('clientAddress trusts only the last X-Forwarded-For hop, and only when told', () => {
    const req = new Request('http://x/', { headers: { 'X-Forwarded-For': '1.1.1.1, 2.2.2.2' } });
    assert.equal(clientAddress(req, true, '10.0.0.1'), '2.2.2.2');
    assert.equal(clientAddress(req, false, '10.0.0.1'), '10.0.0.1');
    assert.equal(clientAddress(new Request('http://x/'), true, undefined), null);
  });

  it('the logger honours the level and keeps JSON lines from older callers as fields', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'warn', write: (l) => lines.push(l), now: () => new Date(0) });
    logger.info('hidden');
    logger.warn('shown', { a: 1 });
    lineSink(logger, 'error')(JSON.stringify({ t: 'gc', freed: 3 }));
    lineSink(logger, 'error')('plain text');
    assert.deepEqual(lines.map((l) => JSON.parse(l)), [
      { time: '1970-01-01T00:00:00.000Z', level: 'warn', msg: 'shown', a: 1 },
      { time: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'gc', freed: 3 },
      { time: '1970-01-01T00:00:00.000Z', level: 'error', msg: 'plain text' },
    ]);
    assert.equal(logLevelFromEnv({}), 'info');
    assert.equal(logLevelFromEnv({ BERTH_LOG_LEVEL: 'OFF' }), null);
    assert.throws(() => logLevelFromEnv({ BERTH_LOG_LEVEL: 'loud' }), /BERTH_LOG_LEVEL/);
    const fields = errorFields(new Error('outer', { cause: new Error('inner') }));
    assert.equal((fields.cause as { message: string }).message, 'inner');
  });
});
