/**
 * End-to-end: `berth push` (the real CLI process) against real deployments, then the real docker
 * and skopeo pull what it pushed:
 *   - `node-s3`: the Node server on a local S3 server (direct uploads: parts straight to the bucket);
 *   - `lambda`:  `npm run dev:lambda` (the Lambda handler behind the Function URL bridge, 6 MB limit);
 *   - `worker`:  `npm run dev:worker` with BERTH_MAX_BODY_MB=100 (no presigning: chunked uploads).
 * Each gets the same image with a BERTH_PUSH_LAYER_MB (1024) incompressible layer, and shows the
 * deployment never received a request body over its limit. Node on S3 also takes a multi-arch OCI
 * layout, a docker-daemon image, and a push killed mid-way then run again.
 *
 * BERTH_PUSH_TARGETS picks targets (node-s3,lambda,worker); BERTH_E2E_REQUIRE=1 turns a missing
 * docker or skopeo into a failure (.ci/run sets it), otherwise those checks say why they skipped.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { Clients, clientsReady, credsArg, missingClients, pulledDigest, Timings, type Credentials } from '../support/clients.ts';
import { accessLines } from '../support/e2e-target.ts';
import { ensureTestImage, MiB, type TestImage } from '../support/images.ts';
import { testPort } from '../support/ports.ts';
import { spawnLogged, waitForHttp } from '../support/process.ts';
import { startS3Target } from '../support/target-s3.ts';
import { startWorkerTarget } from '../support/target-worker.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'worker/cli/berth.ts');
const LAYER_MB = Number(process.env.BERTH_PUSH_LAYER_MB ?? '1024');
const TARGETS = (process.env.BERTH_PUSH_TARGETS ?? 'node-s3,lambda,worker').split(',').map((s) => s.trim()).filter(Boolean);
const WORK = resolve('.tmp', 'e2e-push');
/** Ports 15270-15299: node-s3 (+1 S3), lambda (+1 S3), worker (+1 inspector). */
const PORTS: Record<string, number> = { 'node-s3': testPort(15270), lambda: testPort(15280), worker: testPort(15290) };
const ADMIN: Credentials = { username: 'admin', password: `push-${createHash('sha256').update(String(process.pid)).digest('hex').slice(0, 20)}` };
/**
 * docker never renews a token mid-pull: a 1 GiB pull streamed through a Worker on a busy machine
 * can outlast the default 300 s and then fail on its last request, so tokens live an hour here.
 */
const TARGET_ENV = { BERTH_ADMIN_PASSWORD: ADMIN.password, BERTH_ACCESS_LOG: 'true', BERTH_TOKEN_TTL_SECONDS: '3600' };
/** Every direct-upload request is a small JSON body. */
const SMALL_BODY = 64 * 1024;
const WORKER_LIMIT_MB = 100;

const missing = missingClients();
const clients = new Clients(join(WORK, 'clients'));
const timing = new Timings();
const timings = timing.lines;
const timed = timing.timed.bind(timing);

let big: TestImage;
let small: TestImage;
let multiArch: { layout: string; indexDigest: string; manifests: string[] };

interface Deployment {
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `berth <args>` as `npm run berth` does, with BERTH_* credentials in its environment. */
function berth(args: string[], env: Record<string, string> = {}, onStderr?: (text: string, kill: () => void) => void): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, NODE_OPTIONS: '', BERTH_CACHE_DIR: join(WORK, 'cache'), BERTH_PROGRESS_INTERVAL_MS: '300', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      onStderr?.(stderr, () => child.kill('SIGKILL'));
    });
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code: code ?? (signal ? -1 : 0), stdout, stderr }));
  });
}

/** The non-empty lines berth printed. */
const ownLines = (text: string): string[] => text.split('\n').filter((l) => l.trim() !== '');

const ready = (t: TestContext, ...needs: (keyof typeof missing)[]): boolean => clientsReady(t, missing, needs);

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Bytes of every file under `dir` (0 when it does not exist yet): a pull's progress. */
function treeBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      total += statSync(join(entry.parentPath, entry.name)).size;
    } catch {
      // renamed or removed while we looked (a temporary file becoming a blob)
    }
  }
  return total;
}

/** Runs `step`; a failure carries the deployment's last log lines (its view of the transfer). */
async function withDeploymentLog<T>(deployment: Deployment, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const lines = deployment.logs().split('\n').filter((l) => l.trim() !== '').slice(-30);
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- the deployment's last ${lines.length} log lines ---\n${lines.join('\n')}`);
  }
}

const sha256 = (data: Uint8Array | string): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** A two-platform OCI layout (image index → amd64 and arm64 manifests), tagged v1. */
function writeMultiArchLayout(dir: string): { layout: string; indexDigest: string; manifests: string[] } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const put = (bytes: Uint8Array | string): { digest: string; size: number } => {
    const digest = sha256(bytes);
    writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
    return { digest, size: Buffer.byteLength(bytes) };
  };
  const manifests = ['amd64', 'arm64'].map((architecture) => {
    const layer = put(gzipSync(Buffer.from(`berth push multi-arch test layer for ${architecture}\n`.repeat(100))));
    const config = put(JSON.stringify({ architecture, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [sha256(Buffer.from(`x${architecture}`))] } }));
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    });
    return { ...put(manifest), architecture };
  });
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: manifests.map((m) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m.digest, size: m.size, platform: { architecture: m.architecture, os: 'linux' },
    })),
  });
  const stored = put(index);
  writeFileSync(join(dir, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', ...stored, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }],
  }));
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  return { layout: dir, indexDigest: stored.digest, manifests: manifests.map((m) => m.digest) };
}

/** `npm run dev:lambda` on a fresh data directory, its invocation log on. */
async function startDevLambda(port: number): Promise<Deployment> {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-dev-lambda-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!/^(BERTH_|R2_)/.test(name)) env[name] = value;
  Object.assign(env, {
    NODE_OPTIONS: '',
    PORT: String(port),
    BERTH_DATA_DIR: dataDir,
    ...TARGET_ENV,
    BRIDGE_LOG_INVOCATIONS: '1',
  });
  const spawned = spawnLogged(process.execPath, ['--import', 'tsx', join(ROOT, 'infra/aws/dev.ts')], { cwd: ROOT, env });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/v2/`, spawned.child, spawned.output, 60_000);
  } catch (error) {
    await spawned.stop();
    throw error;
  }
  return {
    url,
    logs: spawned.output,
    stop: async () => {
      await spawned.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const STARTERS: Record<string, (port: number) => Promise<Deployment>> = {
  'node-s3': async (port) => {
    const target = await startS3Target({ port, env: TARGET_ENV });
    return { url: target.url, logs: target.logs, stop: () => target.stop() };
  },
  lambda: startDevLambda,
  worker: async (port) => {
    const target = await startWorkerTarget({
      port,
      env: { ...TARGET_ENV, BERTH_MAX_BODY_MB: String(WORKER_LIMIT_MB) },
    });
    return target;
  },
};

before(async () => {
  const started = performance.now();
  big = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: LAYER_MB });
  small = await ensureTestImage({ dir: join(WORK, 'images'), layerMb: 1 });
  multiArch = writeMultiArchLayout(join(WORK, 'multi-arch'));
  rmSync(join(WORK, 'cache'), { recursive: true, force: true });
  timings.push(`images ready (${LAYER_MB} MiB layer): ${Math.round(performance.now() - started)} ms`);
});

after(() => {
  process.stderr.write(`\nberth push e2e timings:\n${timings.map((line) => `  ${line}`).join('\n')}\n`);
});

describe('berth push: a mistake is one line naming it, and a non-zero exit', () => {
  const env = { BERTH_PASSWORD: 'irrelevant', BERTH_URL: 'http://127.0.0.1:9' };
  const cases: [string, string[], RegExp][] = [
    ['unknown transport', ['push', 'docker://busybox', 'team/app:v1'], /unknown transport in "docker:\/\/busybox" \(use docker-daemon:, oci:, docker-archive:\)/],
    ['an image reference docker would refuse', ['push', 'oci:/nowhere:v1', 'Team/App:v1'], /invalid repository name "Team\/App"/],
    ['a bad tag', ['push', 'oci:/nowhere:v1', 'team/app:-v1'], /invalid tag "-v1"/],
    ['a missing OCI layout', ['push', 'oci:/nowhere/at/all:v1', 'team/app:v1'], /oci:\/nowhere\/at\/all: no OCI layout there/],
    ['a missing archive', ['push', 'docker-archive:/nowhere.tar', 'team/app:v1'], /docker-archive:\/nowhere\.tar: not a readable tar archive/],
    ['no target', ['push', 'oci:/nowhere:v1'], /push: missing REPO:TAG/],
    ['a bad --concurrency', ['push', '--concurrency', '0', 'oci:/nowhere:v1', 'team/app:v1'], /--concurrency must be a whole number from 1 to 32/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const result = await berth(args, env);
      const lines = ownLines(result.stderr);
      assert.notEqual(result.code, 0, `exit code for ${what}`);
      assert.equal(lines.length, 1, `one line for ${what}, got:\n${result.stderr}`);
      assert.match(lines[0]!, /^berth: /);
      assert.match(lines[0]!, message);
    });
  }

  it('a missing docker-daemon image', async (t) => {
    if (!ready(t, 'docker')) return;
    const result = await berth(['push', 'docker-daemon:berth-push-no-such-image:v0', 'team/app:v1'], env);
    assert.notEqual(result.code, 0);
    assert.deepEqual(ownLines(result.stderr), ['berth: docker-daemon: no image "berth-push-no-such-image:v0" in the Docker daemon (docker images lists them)']);
  });
});

for (const name of TARGETS) {
  describe(`berth push to ${name}`, { timeout: 900_000 }, () => {
    let deployment: Deployment;
    let host = '';
    const auth = { BERTH_USER: ADMIN.username, BERTH_PASSWORD: ADMIN.password };

    before(async () => {
      const start = STARTERS[name];
      assert.ok(start, `unknown target ${name} (known: ${Object.keys(STARTERS).join(', ')})`);
      deployment = await start(PORTS[name]!);
      host = new URL(deployment.url).host;
    });
    after(async () => {
      await clients.dockerTry(['rmi', `${host}/big/app:v1`, `${host}/daemon/app:v1`, `${host}/multi/app:v1`]);
      await clients.dockerTry(['logout', host]);
      await deployment?.stop();
      writeFileSync(join(WORK, `target-${name}.log`), deployment?.logs() ?? '');
    });

    it(`pushes a ${LAYER_MB} MiB layer image; docker and skopeo pull it back, every blob matching its digest`, async (t) => {
      const push = await timed(t, `${name}: berth push (${LAYER_MB} MiB layer)`, () =>
        berth(['--url', deployment.url, 'push', `oci:${big.ociLayout}:${big.ociTag}`, 'big/app:v1'], auth));
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, new RegExp(`v1: digest: ${big.ociManifestDigest} size: \\d+`));
      t.diagnostic(ownLines(push.stderr).filter((l) => /published|uploaded|pushed/.test(l)).join(' | '));
      if (name === 'worker') assert.match(push.stderr, /cannot take direct uploads here: sending chunks/, 'the Worker without S3 keys falls back to chunks');
      else assert.match(push.stderr, /\(direct, \d+ parts\)/);

      if (ready(t, 'skopeo')) {
        const back = join(WORK, `back-${name}`);
        rmSync(back, { recursive: true, force: true });
        await timed(t, `${name}: skopeo copy registry → oci`, () => withDeploymentLog(deployment, () => clients.skopeo([
          'copy', '--preserve-digests', '--src-tls-verify=false', '--src-creds', credsArg(ADMIN),
          `docker://${host}/big/app:v1`, `oci:${back}:v1`,
        ], { timeoutMs: 600_000, stall: { probe: () => treeBytes(back), afterMs: 120_000 } })));
        const manifest = JSON.parse(readFileSync(join(back, 'blobs', 'sha256', big.ociManifestDigest.slice(7)), 'utf8')) as { config: { digest: string }; layers: { digest: string; size: number }[] };
        for (const blob of [manifest.config, ...manifest.layers]) {
          const file = join(back, 'blobs', 'sha256', blob.digest.slice(7));
          assert.equal(await fileDigest(file), blob.digest, `blob ${blob.digest} pulled by skopeo`);
        }
        assert.equal(statSync(join(back, 'blobs', 'sha256', manifest.layers[1]!.digest.slice(7))).size, big.bigLayerBytes);
        rmSync(back, { recursive: true, force: true });
      }
      if (ready(t, 'docker')) {
        await clients.dockerLogin(host, ADMIN);
        const pull = await timed(t, `${name}: docker pull`, () => withDeploymentLog(deployment, () => clients.docker(['pull', `${host}/big/app:v1`], { timeoutMs: 600_000 })));
        assert.equal(pulledDigest(pull.stdout), big.ociManifestDigest);
        const id = (await clients.docker(['image', 'inspect', '--format', '{{.Id}}', `${host}/big/app:v1`])).stdout.trim();
        assert.equal(id, big.imageId, 'docker built the same image from the pulled layers');
        await clients.dockerTry(['rmi', `${host}/big/app:v1`]);
      }
    });

    it('re-pushing the unchanged image moves no layer bytes', async () => {
      const again = await berth(['--url', deployment.url, 'push', `oci:${big.ociLayout}:${big.ociTag}`, 'big/app:v1'], auth);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /pushed 0 blob\(s\) \(0 B\), 3 already there/);
    });

    it("the deployment never received a request body over its limit", () => {
      const logs = deployment.logs();
      if (name === 'lambda') {
        const invocations = logs.split('\n').filter((l) => l.startsWith('{"t":"invoke"')).map((l) => JSON.parse(l) as { bodyBytes: number });
        assert.ok(invocations.length > 0, 'the bridge logged its invocations');
        const largest = Math.max(...invocations.map((i) => i.bodyBytes));
        assert.ok(largest <= SMALL_BODY, `largest body the function received: ${largest} bytes`);
        return;
      }
      const lines = accessLines(logs);
      assert.ok(lines.length > 0, 'access log lines');
      const largest = Math.max(...lines.map((l) => l.received));
      const limit = name === 'worker' ? WORKER_LIMIT_MB * MiB : SMALL_BODY;
      assert.ok(largest <= limit, `largest request body: ${largest} bytes (limit ${limit})`);
      if (name === 'worker') assert.ok(largest > SMALL_BODY, 'chunks carried the layer through the Worker');
    });

    if (name !== 'node-s3') return;

    it('pushes a multi-arch OCI layout: the index and both platform manifests', async (t) => {
      const push = await berth(['--url', deployment.url, 'push', `oci:${multiArch.layout}:v1`, 'multi/app:v1'], auth);
      assert.equal(push.code, 0, push.stderr);
      assert.match(push.stdout, new RegExp(`v1: digest: ${multiArch.indexDigest}`));
      if (!ready(t, 'skopeo')) return;
      const raw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', credsArg(ADMIN), `docker://${host}/multi/app:v1`]);
      assert.equal(sha256(raw.stdout), multiArch.indexDigest);
      const back = join(WORK, 'back-multi');
      rmSync(back, { recursive: true, force: true });
      await clients.skopeo(['copy', '--all', '--preserve-digests', '--src-tls-verify=false', '--src-creds', credsArg(ADMIN), `docker://${host}/multi/app:v1`, `oci:${back}:v1`]);
      for (const digest of multiArch.manifests) assert.ok(existsSync(join(back, 'blobs', 'sha256', digest.slice(7))), `platform manifest ${digest} pulled`);
      rmSync(back, { recursive: true, force: true });
    });

    it('pushes a docker-daemon image (gzip-compressed like docker push); docker pulls the same image ID', async (t) => {
      if (!ready(t, 'docker')) return;
      const local = `berth-push-${PORTS[name]}/daemon:v1`;
      await clients.docker(['load', '-i', small.dockerArchive]);
      await clients.docker(['tag', small.localTag, local]);
      try {
        const push = await berth(['--url', deployment.url, 'push', `docker-daemon:${local}`, 'daemon/app:v1'], auth);
        assert.equal(push.code, 0, push.stderr);
        const digest = /v1: digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
        assert.ok(digest, push.stdout);
        await clients.dockerLogin(host, ADMIN);
        const pull = await clients.docker(['pull', `${host}/daemon/app:v1`]);
        assert.equal(pulledDigest(pull.stdout), digest);
        const id = (await clients.docker(['image', 'inspect', '--format', '{{.Id}}', `${host}/daemon/app:v1`])).stdout.trim();
        assert.equal(id, small.imageId);
        if (ready(t, 'skopeo')) {
          const raw = await clients.skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', credsArg(ADMIN), `docker://${host}/daemon/app:v1`]);
          const manifest = JSON.parse(raw.stdout) as { mediaType: string; layers: { mediaType: string }[] };
          assert.equal(manifest.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
          assert.ok(manifest.layers.every((l) => l.mediaType === 'application/vnd.docker.image.rootfs.diff.tar.gzip'));
        }
      } finally {
        await clients.dockerTry(['rmi', local, `${host}/daemon/app:v1`]);
      }
    });

    it('a push killed mid-way, run again, completes and uploads only what was missing', async (t) => {
      let killedAt = '';
      // A cache of its own: the shared one knows big/app holds these blobs and would mount them.
      const env = { ...auth, BERTH_CACHE_DIR: join(WORK, 'cache-resume') };
      rmSync(env.BERTH_CACHE_DIR, { recursive: true, force: true });
      const first = await berth(['--url', deployment.url, 'push', `oci:${big.ociLayout}:${big.ociTag}`, 'resume/app:v1'], env, (stderr, kill) => {
        // Kill once a good share of the big layer's parts is in the bucket.
        const sent = [...stderr.matchAll(/\(direct, \d+ parts\): ([\d.]+) MiB \//g)].map((m) => Number(m[1]));
        // Parts are 8 MiB, 4 in flight: past 48 MiB at least two are whole in the bucket.
        if (!killedAt && sent.some((mib) => mib >= Math.max(LAYER_MB / 4, 48))) {
          killedAt = `${Math.max(...sent)} MiB`;
          kill();
        }
      });
      assert.ok(killedAt, `the push finished before it could be killed:\n${first.stderr.slice(-2000)}`);
      assert.notEqual(first.code, 0);
      t.diagnostic(`killed after ${killedAt}`);
      const second = await berth(['--url', deployment.url, 'push', `oci:${big.ociLayout}:${big.ociTag}`, 'resume/app:v1'], env);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, new RegExp(`v1: digest: ${big.ociManifestDigest}`));
      const resumed = /\(direct, (\d+) parts, (\d+) already stored\): ([\d.]+) (MiB|GiB) to send/.exec(second.stderr);
      assert.ok(resumed, `the second run resumed the upload:\n${second.stderr.slice(-2000)}`);
      const toSend = Number(resumed[3]) * (resumed[4] === 'GiB' ? 1024 : 1);
      assert.ok(Number(resumed[2]) > 0 && toSend < LAYER_MB, `only the missing parts were sent (${resumed[0]})`);
      assert.match(second.stderr, /already in resume\/app/, 'small blobs done by the first run are not sent again');
    });

    it('without credentials, one line says how to give them', async () => {
      const result = await berth(['--url', deployment.url, 'push', `oci:${multiArch.layout}:v1`, 'multi/other:v1'], { DOCKER_CONFIG: join(WORK, 'no-docker-config') });
      assert.notEqual(result.code, 0);
      const lines = ownLines(result.stderr);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, new RegExp(`^berth: no credentials for ${host.replace(/\./g, '\\.')}: use --user with --password-stdin, BERTH_USER/BERTH_PASSWORD, or docker login`));
    });

    it('uses the login of a prior docker login', async (t) => {
      if (!ready(t, 'docker')) return;
      await clients.dockerLogin(host, ADMIN);
      const result = await berth(['--url', deployment.url, 'push', `oci:${multiArch.layout}:v1`, 'multi/from-docker:v1'], { ...clients.dockerEnv });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`v1: digest: ${multiArch.indexDigest}`));
    });
  });
}
