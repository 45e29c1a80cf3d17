/**
 * Runs the real registry clients (docker, podman, skopeo) for the end-to-end tests.
 *
 * Each client gets its own config under a work directory so a test run never reads or writes
 * the machine's ~/.docker, /var/lib/containers or auth files:
 *   - docker: DOCKER_CONFIG=<work>/docker-config (logins land there);
 *   - podman: --root under <work>/podman, auth file <work>/containers-auth.json; its --runroot
 *     lives under the system temp directory instead, named after the work directory, because
 *     podman refuses a runroot path longer than 50 characters (a clone in a deep directory would
 *     otherwise fail every podman step);
 *   - skopeo: the same auth file, though the tests pass --src-creds/--dest-creds explicitly.
 * Podman flags are the ones that run rootful podman inside a CI container.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  /**
   * Kills the client when `probe()` (bytes it has written so far, say) has not grown for
   * `afterMs`: a stalled transfer then fails in minutes, saying how far it got, not at timeoutMs.
   */
  stall?: { probe: () => number; afterMs: number };
}

/** Keeps the tail of long client output (progress bars) so failures stay readable. */
const tail = (text: string, max = 4000): string => (text.length > max ? `…${text.slice(-max)}` : text);

export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout = tail(stdout + chunk, 64_000)));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = tail(stderr + chunk, 64_000)));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${options.timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 300_000);
    const watchdog = options.stall ? watchProgress(options.stall, (why) => {
      stderr += `\n[killed: ${why}]`;
      child.kill('SIGKILL');
    }) : undefined;
    const stop = (): void => {
      clearTimeout(timer);
      clearInterval(watchdog);
    };
    child.on('error', (err) => {
      stop();
      reject(err);
    });
    child.on('close', (code) => {
      stop();
      resolve({ code: code ?? -1, stdout, stderr, ms: Math.round(performance.now() - started) });
    });
    // A client that exits before reading its input (a failed login) must surface as its exit
    // code and stderr, not as an EPIPE that crashes the test file.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

function watchProgress(stall: NonNullable<RunOptions['stall']>, kill: (why: string) => void): NodeJS.Timeout {
  let last = stall.probe();
  let lastGrew = performance.now();
  const timer = setInterval(() => {
    const now = stall.probe();
    if (now !== last) {
      last = now;
      lastGrew = performance.now();
    } else if (performance.now() - lastGrew >= stall.afterMs) {
      clearInterval(timer);
      kill(`no progress for ${stall.afterMs} ms, stalled at ${now} bytes`);
    }
  }, Math.min(5_000, stall.afterMs / 4));
  return timer;
}

/** Like `run`, but a non-zero exit throws with the command and its output. */
export async function must(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${result.code}\n${tail(result.stderr)}\n${tail(result.stdout)}`);
  }
  return result;
}

export function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Why docker cannot be used here, or null when the CLI and a daemon both answer. */
export function dockerUnavailable(): string | null {
  if (!hasBinary('docker')) return 'docker CLI not installed (apt-get install docker.io)';
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 20_000 });
  if (info.status !== 0) return 'no Docker daemon answers `docker info` (start one: bash test/support/dockerd.sh start)';
  return null;
}

export interface Credentials {
  username: string;
  password: string;
}

/** `sha256:…` from the last `digest: sha256:… size:` line `docker push` prints. */
export function pushedDigest(output: string): string {
  const match = /digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(output);
  if (!match?.[1]) throw new Error(`no digest in docker push output:\n${tail(output)}`);
  return match[1];
}

/** `sha256:…` from the `Digest: sha256:…` line `docker pull` prints. */
export function pulledDigest(output: string): string {
  const match = /Digest: (sha256:[0-9a-f]{64})/.exec(output);
  if (!match?.[1]) throw new Error(`no digest in docker pull output:\n${tail(output)}`);
  return match[1];
}

/** The three clients, each isolated under `workDir`. */
export class Clients {
  readonly dockerEnv: Record<string, string>;
  readonly authFile: string;
  private readonly podmanRoot: string;
  private readonly podmanRunRoot: string;

  constructor(readonly workDir: string) {
    const dockerConfig = join(workDir, 'docker-config');
    this.podmanRoot = join(workDir, 'podman');
    // The same work directory always maps to the same runroot: podman records the runroot in
    // the database under --root and refuses a different one on the next run.
    const id = createHash('sha256').update(resolve(workDir)).digest('hex').slice(0, 12);
    this.podmanRunRoot = join(tmpdir(), `berth-podman-${id}`);
    mkdirSync(this.podmanRunRoot, { recursive: true, mode: 0o700 });
    mkdirSync(dockerConfig, { recursive: true });
    mkdirSync(this.podmanRoot, { recursive: true });
    this.dockerEnv = { DOCKER_CONFIG: dockerConfig };
    this.authFile = join(workDir, 'containers-auth.json');
  }

  docker(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return must('docker', args, { ...options, env: { ...this.dockerEnv, ...options.env } });
  }

  dockerTry(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return run('docker', args, { ...options, env: { ...this.dockerEnv, ...options.env } });
  }

  dockerLogin(host: string, creds: Credentials): Promise<RunResult> {
    return this.docker(['login', host, '--username', creds.username, '--password-stdin'], { input: creds.password });
  }

  /** Global flags first: podman as root with vfs storage, no systemd, file events. */
  private podmanArgs(args: string[]): string[] {
    return [
      '--root', join(this.podmanRoot, 'root'),
      '--runroot', this.podmanRunRoot,
      '--storage-driver', 'vfs',
      '--cgroup-manager', 'cgroupfs',
      '--events-backend', 'file',
      ...args,
    ];
  }

  podman(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return must('podman', this.podmanArgs(args), { ...options, env: { REGISTRY_AUTH_FILE: this.authFile, ...options.env } });
  }

  podmanTry(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return run('podman', this.podmanArgs(args), { ...options, env: { REGISTRY_AUTH_FILE: this.authFile, ...options.env } });
  }

  skopeo(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return must('skopeo', args, { ...options, env: { REGISTRY_AUTH_FILE: this.authFile, ...options.env } });
  }
}

/** `user:password` for skopeo's --src-creds / --dest-creds. */
export const credsArg = (creds: Credentials): string => `${creds.username}:${creds.password}`;

/** Keeps how long each labelled step took, for a suite's closing summary and its diagnostics. */
export class Timings {
  readonly lines: string[] = [];

  async timed<T>(t: { diagnostic(message: string): void }, label: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await fn();
    const ms = Math.round(performance.now() - started);
    t.diagnostic(`${label}: ${ms} ms`);
    this.lines.push(`${label}: ${ms} ms`);
    return result;
  }
}

/** Why each client cannot run here (null when it can), looked up once per suite. */
export function missingClients(): Record<'docker' | 'skopeo' | 'podman', string | null> {
  return {
    docker: dockerUnavailable(),
    skopeo: hasBinary('skopeo') ? null : 'skopeo not installed (apt-get install skopeo)',
    podman: hasBinary('podman') ? null : 'podman not installed (apt-get install podman)',
  };
}

/**
 * False (after recording a skip) when one of `needs` is missing; with BERTH_E2E_REQUIRE=1 (CI
 * installs every client) a missing one throws instead.
 */
export function clientsReady(
  t: { skip(message?: string): void },
  missing: Record<string, string | null>,
  needs: readonly string[],
): boolean {
  for (const client of needs) {
    const why = missing[client];
    if (!why) continue;
    if (process.env.BERTH_E2E_REQUIRE === '1') throw new Error(`${why} (BERTH_E2E_REQUIRE=1)`);
    t.skip(why);
    return false;
  }
  return true;
}
