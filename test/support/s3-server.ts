/**
 * Starts a real S3-compatible server (@20minutes/s3rver, patched by `s3rver-child.cjs`) as a
 * separate process, for the S3 contract suite, the API suite's S3 target and `npm run dev:s3`.
 * A child process keeps it a real server on a real socket: the driver under test talks HTTP to
 * it exactly as it would to S3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface S3ServerOptions {
  port: number;
  /** Data directory; a fresh temporary one (removed at stop) when omitted. */
  dir?: string;
  bucket?: string;
  /** Make the server honour `If-None-Match: *` on PutObject (see s3rver-child.cjs, patch 4). */
  conditionalWrites?: boolean;
  /** Bind address; 127.0.0.1 unless told otherwise. */
  address?: string;
  /** Print s3rver's request log to this process's stderr. */
  log?: boolean;
}

export interface S3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  region: string;
  dir: string;
  pid: number;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./s3rver-child.cjs', import.meta.url));
const START_TIMEOUT_MS = 15_000;

export async function startS3Server(opts: S3ServerOptions): Promise<S3Server> {
  const temporary = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'berth-s3-'));
  const bucket = opts.bucket ?? 'berth';
  const address = opts.address ?? '127.0.0.1';
  const accessKeyId = 'S3RVER';
  const secretAccessKey = 'S3RVER';
  // s3rver's continuation tokens use DES, only available on Node 20 (OpenSSL 3) with this flag.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', CHILD], {
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      S3RVER_PORT: String(opts.port),
      S3RVER_ADDRESS: address,
      S3RVER_DIR: dir,
      S3RVER_BUCKET: bucket,
      S3RVER_ACCESS_KEY_ID: accessKeyId,
      S3RVER_SECRET_ACCESS_KEY: secretAccessKey,
      S3RVER_CONDITIONAL_WRITES: opts.conditionalWrites ? '1' : '0',
      S3RVER_LOG: opts.log ? '1' : '0',
    },
    // stdin stays open as a lifeline: the child exits when this process goes away.
    stdio: ['pipe', 'pipe', opts.log ? 'inherit' : 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });

  try {
    await waitUntilReady(child, () => stderr);
  } catch (error) {
    child.kill('SIGKILL');
    if (temporary) rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${opts.port}`,
    accessKeyId,
    secretAccessKey,
    bucket,
    region: 'us-east-1',
    dir,
    pid: child.pid ?? -1,
    stop() {
      stopped ??= stopChild(child).then(() => {
        if (temporary) rmSync(dir, { recursive: true, force: true });
      });
      return stopped;
    },
  };
}

function waitUntilReady(child: ChildProcess, stderr: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`s3rver did not start within ${START_TIMEOUT_MS} ms: ${stderr()}`)), START_TIMEOUT_MS);
    const lines = createInterface({ input: child.stdout! });
    const onExit = (code: number | null) => fail(new Error(`s3rver exited with ${code} before it was ready: ${stderr()}`));
    function fail(error: Error) {
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      reject(error);
    }
    child.once('exit', onExit);
    lines.on('line', (line) => {
      if (!line.includes('"ready":true')) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      // Keep draining stdout so the child never blocks on a full pipe.
      child.stdout?.resume();
      resolve();
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
