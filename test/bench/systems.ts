/**
 * The systems under test, each a real process on loopback: Berth on the filesystem store (with
 * token auth and with BERTH_AUTH=none), Berth on a local S3 server, and Debian's docker-registry
 * (CNCF Distribution 2.8.2) on its filesystem driver without auth. Every process is stopped by
 * PID and every temporary directory removed by `stop()`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnLogged, waitForHttp, type Spawned } from '../support/process.ts';
import { bearerToken } from '../support/registry-client.ts';
import { startS3Server, type S3Server } from '../support/s3-server.ts';
import { berthS3Env } from '../support/target-s3.ts';
import { buildNode } from '../../infra/node/build.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const COUNTED_SERVER = fileURLToPath(new URL('./counted-server.ts', import.meta.url));
export const BENCH_ADMIN = { username: 'admin', password: 'bench-admin-password-1' };
/** Every repository the bench touches: one token covers the whole run. */
export const BENCH_REPOS = ['bench/big', 'bench/small', 'bench/load', 'bench/finish', 'bench/ops', 'bench/tags', 'bench/layers', 'bench/hooks'];

export interface RegistrySystem {
  id: string;
  url: string;
  /** The server process whose memory is watched. */
  pid: number;
  /** Headers every request carries (a Bearer token, or nothing without auth). */
  headers: Record<string, string>;
  /** Directories holding stored bytes, emptied of big files between rounds. */
  dataDirs: string[];
  /** The environment the server runs with (a counting twin reuses it, see counted-server.ts). */
  env?: Record<string, string>;
  logs(): string;
  stop(): Promise<void>;
}

export interface BerthOptions {
  id: string;
  port: number;
  auth: boolean;
  /** Extra environment (the S3 settings), applied last. */
  env?: Record<string, string>;
  /** Write a V8 CPU profile of the Berth process into this directory. */
  cpuProfDir?: string;
  dataDirs?: string[];
  /** Serve this existing store directory (left in place at stop) instead of a fresh one. */
  sharedDataDir?: string;
  /** Run the store-call counting twin (counted-server.ts) instead of the bundle. */
  countedControlPort?: number;
}

let bundled: Promise<string> | undefined;
const nodeBundle = (): Promise<string> => (bundled ??= buildNode());

export async function startBerth(opts: BerthOptions): Promise<RegistrySystem> {
  const dataDir = opts.sharedDataDir ?? (await mkdtemp(path.join(os.tmpdir(), `berth-bench-${opts.id}-`)));
  const profile = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${opts.cpuProfDir}`] : [];
  // The bundle `npm start` runs (infra/node/build.ts), so memory figures are the users' own.
  const args = opts.countedControlPort === undefined ? [...profile, await nodeBundle()] : ['--import', 'tsx', COUNTED_SERVER];
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(opts.port),
    BERTH_STORAGE: 'fs',
    BERTH_DATA_DIR: dataDir,
    BERTH_AUTH: opts.auth ? 'token' : 'none',
    BERTH_ADMIN_PASSWORD: BENCH_ADMIN.password,
    // One token for the whole run (the default 300 s would expire mid-bench).
    BERTH_TOKEN_TTL_SECONDS: '7200',
    ...opts.env,
  };
  if (opts.countedControlPort !== undefined) env.BERTH_BENCH_CONTROL_PORT = String(opts.countedControlPort);
  const spawned = spawnLogged(process.execPath, args, { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env } });
  const url = `http://127.0.0.1:${opts.port}`;
  const stop = async (): Promise<void> => {
    await spawned.stop();
    if (!opts.sharedDataDir) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/v2/`, spawned.child, spawned.output, 30_000);
    const headers: Record<string, string> = {};
    if (opts.auth) {
      const scopes = [...BENCH_REPOS.map((repo) => `repository:${repo}:push,pull,delete`), 'registry:catalog:*'];
      headers.Authorization = `Bearer ${await bearerToken(url, BENCH_ADMIN, scopes)}`;
    }
    return { id: opts.id, url, pid: pidOf(spawned), headers, dataDirs: opts.dataDirs ?? [dataDir], env, logs: spawned.output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface CountedTwin extends RegistrySystem {
  /** Store calls by ObjectStore method since the last read (reading resets them). */
  calls(): Promise<Record<string, number>>;
}

/**
 * A store-call counting twin of a started Berth: the same app and settings on the same store
 * (directory or bucket), without auth (bearer checks make no store call, so counts are equal).
 */
export async function startCountedTwin(of: RegistrySystem, port: number, controlPort: number): Promise<CountedTwin> {
  const { PORT: _port, ...settings } = of.env ?? {};
  const env: Record<string, string> = { ...settings, BERTH_AUTH: 'none' };
  const sys = await startBerth({ id: `${of.id}_counted`, port, auth: false, env, sharedDataDir: env.BERTH_DATA_DIR, countedControlPort: controlPort });
  const calls = async (): Promise<Record<string, number>> => (await (await fetch(`http://127.0.0.1:${controlPort}/calls`)).json()) as Record<string, number>;
  return { ...sys, dataDirs: of.dataDirs, calls };
}

/** Berth on S3: a local S3 server process (also the raw store rows' server) plus Berth. */
export async function startBerthS3(opts: { id: string; port: number; s3: S3Server; auth: boolean; cpuProfDir?: string }): Promise<RegistrySystem> {
  return startBerth({ ...opts, env: berthS3Env(opts.s3, true), dataDirs: [opts.s3.dir] });
}

export async function startS3(port: number): Promise<S3Server> {
  return startS3Server({ port, conditionalWrites: true });
}

/** CNCF Distribution 2.8.2, filesystem storage, no auth (Berth checks a JWT on every request). */
export async function startReference(id: string, port: number): Promise<RegistrySystem> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-bench-ref-'));
  const config = [
    'version: 0.1',
    'log: { level: error, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${path.join(dir, 'data')} }, delete: { enabled: true } }`,
    `http: { addr: 127.0.0.1:${port}, secret: berth-bench-reference }`,
    '',
  ].join('\n');
  await writeFile(path.join(dir, 'config.yml'), config);
  const spawned = spawnLogged('docker-registry', ['serve', path.join(dir, 'config.yml')], { env: process.env });
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await spawned.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${url}/v2/`, spawned.child, spawned.output, 15_000);
    return { id, url, pid: pidOf(spawned), headers: {}, dataDirs: [dir], logs: spawned.output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface RawHttp {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The ceiling: a trivial node:http server in its own process (raw-http-server.ts). */
export async function startRawHttp(port: number): Promise<RawHttp> {
  const script = fileURLToPath(new URL('./raw-http-server.ts', import.meta.url));
  const spawned = spawnLogged(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', PORT: String(port) },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, spawned.child, spawned.output, 15_000);
  return { url, pid: pidOf(spawned), stop: () => spawned.stop() };
}

function pidOf(spawned: Spawned): number {
  if (spawned.child.pid === undefined) throw new Error('process has no pid');
  return spawned.child.pid;
}
