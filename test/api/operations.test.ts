/**
 * Running the Node server as an operator does, against real processes: graceful shutdown
 * (in-flight requests finish, new connections are refused, a body cut off by the shutdown bound
 * publishes nothing), HTTPS with certificates reloaded on change and on SIGHUP, the metrics
 * endpoint and the JSON log of a real process, and /readyz when the store goes away.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth } from '../support/berth-process.ts';
import { startS3Server } from '../support/s3-server.ts';
import { berthS3Env } from '../support/target-s3.ts';
import { testPort } from '../support/ports.ts';
import { ADMIN } from '../support/targets.ts';
import { RegistryClient, randomBlob, sha256 } from '../support/registry-client.ts';

const PORT = testPort(15150);
const AUTH = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
const ENV = { BERTH_ADMIN_PASSWORD: ADMIN.password };
const MiB = 1024 * 1024;

const tempDir = (name: string): string => mkdtempSync(join(tmpdir(), `berth-ops-${name}-`));

/** Starts a raw chunked PATCH and returns a handle to feed it and read its answer. */
function openPatch(url: string): { write(bytes: Buffer): Promise<void>; end(): Promise<IncomingMessage>; response: Promise<IncomingMessage> } {
  const target = new URL(url);
  let resolveResponse!: (res: IncomingMessage) => void;
  let rejectResponse!: (error: Error) => void;
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'PATCH', agent: false, headers: { Authorization: AUTH, 'Content-Type': 'application/octet-stream', 'Transfer-Encoding': 'chunked' } }, resolveResponse);
  req.on('error', rejectResponse);
  response.catch(() => undefined);
  return {
    write: (bytes) => new Promise((resolve, reject) => req.write(bytes, (error) => (error ? reject(error) : resolve()))),
    end: () => {
      req.end();
      return response;
    },
    response,
  };
}

async function startUpload(base: string, repo: string): Promise<string> {
  const res = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { Authorization: AUTH } });
  assert.equal(res.status, 202);
  return new URL(res.headers.get('location')!, base).toString();
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('graceful shutdown', () => {
  it('SIGTERM refuses new connections, lets the upload in flight finish, then exits 0', async () => {
    const dataDir = tempDir('drain');
    const berth = await startBerth({ port: PORT, env: { ...ENV, BERTH_DATA_DIR: dataDir, BERTH_SHUTDOWN_TIMEOUT_SECONDS: '30' } });
    try {
      const location = await startUpload(berth.url, 'ops/drain');
      const patch = openPatch(location);
      const first = randomBlob(MiB);
      await patch.write(Buffer.from(first));
      const exit = berth.signal('SIGTERM');
      // The listener closes at once; the request in flight keeps its connection.
      for (let i = 0; i < 50 && !(await connectionRefused(PORT)); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(await connectionRefused(PORT), 'new connections are refused while draining');
      const second = randomBlob(MiB);
      await patch.write(Buffer.from(second));
      const res = await patch.end();
      res.resume();
      assert.equal(res.statusCode, 202, 'the PATCH in flight is answered');
      assert.equal(res.headers.range, `0-${2 * MiB - 1}`);
      assert.equal(await exit, 0);
      const lines = berth.logLines().map((l) => l.msg);
      assert.ok(lines.includes('shutting down: no new connections, waiting for requests in flight'), lines.join('|'));
      assert.ok(lines.includes('shut down cleanly'));
    } finally {
      await berth.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a body cut off by the shutdown bound (or SIGKILL) publishes nothing; the same blob pushes again after restart', async () => {
    const dataDir = tempDir('cut');
    const env = { ...ENV, BERTH_DATA_DIR: dataDir, BERTH_SHUTDOWN_TIMEOUT_SECONDS: '1' };
    const blob = randomBlob(3 * MiB);
    const digest = sha256(blob);
    let berth = await startBerth({ port: PORT, env });
    try {
      const cut = openPatch(await startUpload(berth.url, 'ops/cut'));
      await cut.write(Buffer.from(blob.subarray(0, 2 * MiB)));
      const started = Date.now();
      assert.equal(await berth.signal('SIGTERM'), 0);
      assert.ok(Date.now() - started < 10_000, 'the bound holds');
      await assert.rejects(cut.response, 'the unfinished request was cut off');

      berth = await startBerth({ port: PORT, env });
      const client = new RegistryClient(berth.url, ADMIN);
      assert.equal((await client.fetch(`/v2/ops/cut/blobs/${digest}`, { method: 'HEAD' })).status, 404, 'nothing under the digest');
      // SIGKILL mid-body: no handler runs at all, and still nothing is published.
      const killed = openPatch(await startUpload(berth.url, 'ops/cut'));
      await killed.write(Buffer.from(blob.subarray(0, MiB)));
      await berth.signal('SIGKILL');
      await assert.rejects(killed.response);

      berth = await startBerth({ port: PORT, env });
      const again = new RegistryClient(berth.url, ADMIN);
      assert.equal((await again.fetch(`/v2/ops/cut/blobs/${digest}`, { method: 'HEAD' })).status, 404);
      assert.equal(await again.pushBlob('ops/cut', blob), digest);
      const got = await again.fetch(`/v2/ops/cut/blobs/${digest}`);
      assert.equal(got.status, 200);
      assert.equal(sha256(new Uint8Array(await got.arrayBuffer())), digest);
    } finally {
      await berth.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

interface Pem {
  cert: string;
  key: string;
  fingerprint: string;
}

function makeCertificate(dir: string, name: string): Pem {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  const der = execFileSync('openssl', ['x509', '-in', cert, '-outform', 'DER']);
  const fingerprint = createHash('sha256').update(der).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');
  return { cert, key, fingerprint };
}

/** GET over HTTPS trusting only `ca`; resolves with the status and the served certificate's fingerprint. */
function httpsGet(url: string, ca: string[]): Promise<{ status: number; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      const fingerprint = (res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTPS', () => {
  const dir = tempDir('tls');
  const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
  const first = makeCertificate(dir, 'first');
  const second = makeCertificate(dir, 'second');
  const install = (pem: Pem): void => {
    // Replace each file by rename, as certificate tools and mounted secrets do.
    writeFileSync(`${live.cert}.new`, readFileSync(pem.cert));
    writeFileSync(`${live.key}.new`, readFileSync(pem.key));
    renameSync(`${live.key}.new`, live.key);
    renameSync(`${live.cert}.new`, live.cert);
  };
  const cas = [readFileSync(first.cert, 'utf8'), readFileSync(second.cert, 'utf8')];
  let berth: Awaited<ReturnType<typeof startBerth>>;

  before(async () => {
    install(first);
    berth = await startBerth({
      port: PORT + 1,
      scheme: 'https',
      env: { ...ENV, BERTH_DATA_DIR: join(dir, 'data'), BERTH_TLS_CERT: live.cert, BERTH_TLS_KEY: live.key },
      ready: async (url) => {
        for (let i = 0; i < 300; i++) {
          try {
            await httpsGet(`${url}/healthz`, cas);
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
        throw new Error('no HTTPS answer');
      },
    });
  });
  after(async () => {
    await berth?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the registry on HTTPS with the configured certificate', async () => {
    const got = await httpsGet(`${berth.url}/v2/`, cas);
    assert.equal(got.status, 401, 'the registry answers (and asks for credentials)');
    assert.equal(got.fingerprint, first.fingerprint);
    await assert.rejects(httpsGet(`${berth.url}/v2/`, []), /self-signed|unable to verify|certificate/i, 'an untrusted client refuses it');
  });

  it('picks up a renewed certificate without a restart, keeps the old one when the new files are broken, and answers SIGHUP', async () => {
    install(second);
    let served = '';
    for (let i = 0; i < 100 && served !== second.fingerprint; i++) {
      await new Promise((r) => setTimeout(r, 100));
      served = (await httpsGet(`${berth.url}/healthz`, cas)).fingerprint;
    }
    assert.equal(served, second.fingerprint, 'the new certificate is served');

    writeFileSync(`${live.cert}.new`, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    renameSync(`${live.cert}.new`, live.cert);
    for (let i = 0; i < 60 && !berth.logLines().some((l) => l.level === 'warn' && String(l.msg).startsWith('tls certificate not reloaded')); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(berth.logLines().some((l) => String(l.msg).startsWith('tls certificate not reloaded')), 'the broken pair is reported');
    assert.equal((await httpsGet(`${berth.url}/healthz`, cas)).fingerprint, second.fingerprint, 'the previous pair stays in use');

    install(first);
    process.kill(berth.child.pid!, 'SIGHUP');
    let hup: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !hup; i++) {
      await new Promise((r) => setTimeout(r, 100));
      hup = berth.logLines().find((l) => l.msg === 'tls certificate loaded' && l.why === 'SIGHUP');
    }
    assert.ok(hup, 'SIGHUP reloads');
    assert.equal((await httpsGet(`${berth.url}/healthz`, cas)).fingerprint, first.fingerprint);
  });

  it('stops at start-up with one line when only one of the two files is given', () => {
    const run = (() => {
      try {
        execFileSync(process.execPath, ['--import', 'tsx', 'worker/runtime/node.ts'], {
          env: { ...process.env, PORT: String(PORT + 2), BERTH_DATA_DIR: join(dir, 'x'), BERTH_TLS_CERT: live.cert, BERTH_TLS_KEY: '' },
          stdio: 'pipe',
          timeout: 30_000,
        });
        return { status: 0, stderr: '' };
      } catch (error) {
        const e = error as { status: number; stderr: Buffer };
        return { status: e.status, stderr: e.stderr.toString() };
      }
    })();
    assert.equal(run.status, 1);
    assert.equal(run.stderr.trim(), 'berth: configuration error: BERTH_TLS_CERT and BERTH_TLS_KEY must be set together (PEM file paths)');
  });
});

describe('a real process: metrics, logs, readiness', () => {
  it('answers /metrics with the token, logs JSON lines, and turns /readyz to 503 when the store goes away', async () => {
    const s3 = await startS3Server({ port: PORT + 4, conditionalWrites: true });
    const token = 'ops-metrics-token-0123456789';
    const berth = await startBerth({ port: PORT + 3, env: { ...ENV, ...berthS3Env(s3, true), BERTH_METRICS_TOKEN: token, BERTH_S3_TIMEOUT_MS: '2000' } });
    try {
      const client = new RegistryClient(berth.url, ADMIN);
      await client.pushImage('ops/metrics', 'v1', [randomBlob(200 * 1024)]);
      assert.equal((await fetch(`${berth.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${berth.url}/metrics`)).status, 401);
      const scrape = await fetch(`${berth.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(scrape.status, 200);
      const text = await scrape.text();
      assert.match(text, /berth_http_requests_total\{family="manifest",method="PUT",status="201"\} 1/);
      assert.match(text, /berth_http_received_bytes_total\{family="upload"\} (\d+)/);
      assert.ok(Number(/berth_http_received_bytes_total\{family="upload"\} (\d+)/.exec(text)![1]) >= 200 * 1024);
      assert.match(text, /berth_store_operations_total\{operation="put",outcome="ok"\} \d+/);
      assert.match(text, /process_resident_memory_bytes \d+/);

      const lines = berth.logLines().filter((l) => l.msg === 'request');
      const put = lines.find((l) => l.method === 'PUT' && l.route === 'manifest');
      assert.ok(put, 'the manifest PUT was logged');
      assert.equal(put.repository, 'ops/metrics');
      assert.equal(put.account, 'admin');
      assert.equal(put.client, '127.0.0.1');
      assert.equal(put.status, 201);
      assert.ok(Number(put.bytesIn) > 0);
      assert.ok(!berth.output().includes(ADMIN.password), 'no password in the log');

      await s3.stop();
      const down = await fetch(`${berth.url}/readyz`);
      assert.equal(down.status, 503);
      const body = (await down.json()) as { errors: { code: string; message: string }[] };
      assert.equal(body.errors[0]!.code, 'UNAVAILABLE');
      assert.match(body.errors[0]!.message, /store/);
      assert.equal((await fetch(`${berth.url}/healthz`)).status, 200, 'liveness does not depend on the store');
    } finally {
      await berth.stop();
      await s3.stop();
    }
  });
});
