/**
 * The container image (infra/docker/Dockerfile), built the way README says (`npm run image`)
 * and run with real docker: it runs as a non-root user and turns healthy, docker logs in,
 * pushes and pulls through it, a replaced container on the same volume still serves the
 * images, and HTTPS with a self-signed certificate that dockerd trusts through
 * /etc/docker/certs.d works for push and pull.
 *
 * The base image: BERTH_NODE_IMAGE if set; else the official node:20-bookworm-slim when it is
 * present or can be pulled; on a machine without a registry (CI), a local stand-in built by
 * infra/docker/local-base.sh when mmdebstrap is installed.
 * Skipped with the reason when there is no Docker daemon, unless BERTH_E2E_REQUIRE=1.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Clients, dockerUnavailable, hasBinary, run, type Credentials } from '../support/clients.ts';
import { ensureTestImage, type TestImage } from '../support/images.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15190);
const TLS_PORT = PORT + 1;
const IMAGE = 'berth:local';
const OFFICIAL_BASE = 'node:20-bookworm-slim';
const LOCAL_BASE = 'berth-node-base:20-bookworm';
const ADMIN: Credentials = { username: 'admin', password: 'image-admin-password-1234' };
const METRICS_TOKEN = 'image-metrics-token-0123456789';
const REQUIRE = process.env.BERTH_E2E_REQUIRE === '1';
const WORK = resolve('.tmp', 'e2e');
const NAME = `berth-e2e-image-${PORT}`;
const VOLUME = `berth-e2e-image-${PORT}`;
const TLS_NAME = `berth-e2e-image-tls-${TLS_PORT}`;

let skipReason: string | null = null;
let clients: Clients;
let testImage: TestImage;
const work = mkdtempSync(join(tmpdir(), 'berth-image-'));

function docker(args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}
const dockerOk = (args: string[]): boolean => spawnSync('docker', args, { stdio: 'ignore' }).status === 0;

/** The build arg for the base image, or undefined for the Dockerfile's default. */
function chooseBase(): string | undefined {
  if (process.env.BERTH_NODE_IMAGE?.trim()) return process.env.BERTH_NODE_IMAGE.trim();
  if (dockerOk(['image', 'inspect', OFFICIAL_BASE])) return undefined;
  if (!hasBinary('mmdebstrap')) return undefined; // docker pulls the official image, where it can
  execFileSync('bash', ['infra/docker/local-base.sh', LOCAL_BASE], { stdio: ['ignore', 'inherit', 'inherit'] });
  return LOCAL_BASE;
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const answers = (url: string) => async (): Promise<boolean> => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).status === 200;
  } catch {
    return false;
  }
};

function runContainer(name: string, env: Record<string, string>, extra: string[] = []): void {
  spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
  // --network host: this daemon has no bridge; a faster health interval keeps the test short.
  docker(['run', '-d', '--name', name, '--network', 'host', '--health-interval', '2s', '--health-start-period', '2s', ...envArgs, ...extra, IMAGE]);
}

before(async () => {
  skipReason = dockerUnavailable();
  if (skipReason) {
    if (REQUIRE) throw new Error(`BERTH_E2E_REQUIRE=1 but ${skipReason}`);
    return;
  }
  clients = new Clients(join(work, 'clients'));
  const base = chooseBase();
  const built = spawnSync(process.execPath, ['infra/docker/build-image.mjs'], {
    encoding: 'utf8',
    env: { ...process.env, BERTH_IMAGE: IMAGE, ...(base ? { BERTH_NODE_IMAGE: base } : {}) },
  });
  assert.equal(built.status, 0, `npm run image failed:\n${built.stdout.slice(-3000)}\n${built.stderr.slice(-3000)}`);
  testImage = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: 8 });
  spawnSync('docker', ['volume', 'rm', '-f', VOLUME], { stdio: 'ignore' });
});

after(() => {
  if (skipReason) return;
  for (const name of [NAME, TLS_NAME]) spawnSync('docker', ['rm', '-f', name], { stdio: 'ignore' });
  spawnSync('docker', ['volume', 'rm', '-f', VOLUME], { stdio: 'ignore' });
  for (const ref of [`127.0.0.1:${PORT}/ops/app:v1`, testImage?.localTag]) if (ref) spawnSync('docker', ['rmi', '-f', ref], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

function skipped(t: TestContext): boolean {
  if (skipReason) t.skip(skipReason);
  return skipReason !== null;
}

async function loadTestImage(): Promise<void> {
  if (!dockerOk(['image', 'inspect', testImage.localTag])) await clients.docker(['load', '-i', testImage.dockerArchive]);
}

describe('container image', () => {
  const host = `127.0.0.1:${PORT}`;
  const ref = `${host}/ops/app:v1`;
  const env = { HOST: '127.0.0.1', PORT: String(PORT), BERTH_ADMIN_PASSWORD: ADMIN.password, BERTH_METRICS_TOKEN: METRICS_TOKEN };

  it('runs as uid 10001 with its data on the /data volume, turns healthy, answers /readyz and /metrics', async (t) => {
    if (skipped(t)) return;
    runContainer(NAME, env, ['-v', `${VOLUME}:/data`]);
    await waitFor('/healthz', answers(`http://${host}/healthz`));
    assert.equal(docker(['exec', NAME, 'id', '-u']), '10001');
    assert.equal(docker(['inspect', '-f', '{{.Config.User}}', IMAGE]), '10001:10001');
    assert.deepEqual(Object.keys(JSON.parse(docker(['inspect', '-f', '{{json .Config.Volumes}}', IMAGE])) as object), ['/data']);
    await waitFor('health status healthy', () => docker(['inspect', '-f', '{{.State.Health.Status}}', NAME]) === 'healthy');
    assert.equal((await fetch(`http://${host}/readyz`)).status, 200);
    const metrics = await fetch(`http://${host}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /berth_http_requests_total\{family="health"/);
    const lines = docker(['logs', NAME]).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
    assert.ok(lines.some((l) => l.msg === 'request'), 'the access log is on in the container');
    // Figures for the closing note (not asserted: they depend on the machine).
    const size = Number(docker(['image', 'inspect', '-f', '{{.Size}}', IMAGE]));
    const pid = docker(['inspect', '-f', '{{.State.Pid}}', NAME]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    t.diagnostic(`image ${IMAGE}: ${(size / 1e6).toFixed(0)} MB; idle RSS of the server in the container: ${rss ? (Number(rss) / 1024).toFixed(0) : '?'} MiB`);
  });

  it('docker logs in, pushes and pulls through it', async (t) => {
    if (skipped(t)) return;
    await loadTestImage();
    await clients.dockerLogin(host, ADMIN);
    await clients.docker(['tag', testImage.localTag, ref]);
    await clients.docker(['push', ref]);
    await clients.docker(['rmi', ref]);
    await clients.docker(['pull', ref]);
    assert.equal(docker(['image', 'inspect', '-f', '{{.Id}}', ref]), testImage.imageId);
  });

  it('a replaced container on the same volume still serves the images', async (t) => {
    if (skipped(t)) return;
    // `docker stop` sends SIGTERM: the server drains and exits by itself within the grace time.
    const stop = await run('docker', ['stop', '-t', '20', NAME]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(docker(['inspect', '-f', '{{.State.ExitCode}}', NAME]), '0', 'exited on SIGTERM, not killed');
    runContainer(NAME, env, ['-v', `${VOLUME}:/data`]);
    await waitFor('/healthz after the replacement', answers(`http://${host}/healthz`));
    await clients.docker(['rmi', '-f', ref]);
    await clients.docker(['pull', ref]);
    assert.equal(docker(['image', 'inspect', '-f', '{{.Id}}', ref]), testImage.imageId);
  });

  it('serves HTTPS with a certificate dockerd trusts through /etc/docker/certs.d: push and pull', async (t) => {
    if (skipped(t)) return;
    // A non-loopback address: dockerd treats 127.0.0.0/8 as insecure and would not need TLS there.
    const address = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
    if (!address) return t.skip('no non-loopback IPv4 address on this machine');
    const tlsHost = `${address}:${TLS_PORT}`;
    const certs = join(work, 'certs');
    mkdirSync(certs, { recursive: true });
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=berth-e2e',
      '-addext', `subjectAltName=IP:${address}`, '-keyout', join(certs, 'tls.key'), '-out', join(certs, 'tls.crt'),
    ], { stdio: 'ignore' });
    // The container's user reads the mounted pair; a throwaway test key only.
    chmodSync(work, 0o755);
    chmodSync(certs, 0o755);
    chmodSync(join(certs, 'tls.key'), 0o644);
    const trustDir = `/etc/docker/certs.d/${tlsHost}`;
    mkdirSync(trustDir, { recursive: true });
    execFileSync('cp', [join(certs, 'tls.crt'), join(trustDir, 'ca.crt')]);
    try {
      runContainer(TLS_NAME, { ...env, HOST: address, PORT: String(TLS_PORT), BERTH_TLS_CERT: '/certs/tls.crt', BERTH_TLS_KEY: '/certs/tls.key' }, ['-v', `${certs}:/certs:ro`]);
      const ca = readFileSync(join(certs, 'tls.crt'), 'utf8');
      await waitFor('HTTPS /healthz', () => new Promise<boolean>((done) => {
        const req = httpsRequest(`https://${tlsHost}/healthz`, { ca, agent: false, timeout: 2000 }, (res) => {
          res.resume();
          done(res.statusCode === 200);
        });
        req.on('error', () => done(false));
        req.end();
      }));
      await waitFor('health status healthy over HTTPS', () => docker(['inspect', '-f', '{{.State.Health.Status}}', TLS_NAME]) === 'healthy');
      const tlsRef = `${tlsHost}/ops/app:tls`;
      await loadTestImage();
      await clients.dockerLogin(tlsHost, ADMIN);
      await clients.docker(['tag', testImage.localTag, tlsRef]);
      try {
        await clients.docker(['push', tlsRef]);
        await clients.docker(['rmi', tlsRef]);
        await clients.docker(['pull', tlsRef]);
        assert.equal(docker(['image', 'inspect', '-f', '{{.Id}}', tlsRef]), testImage.imageId);
      } finally {
        spawnSync('docker', ['rmi', '-f', tlsRef], { stdio: 'ignore' });
      }
    } finally {
      rmSync(trustDir, { recursive: true, force: true });
      spawnSync('docker', ['rm', '-f', TLS_NAME], { stdio: 'ignore' });
    }
  });
});
