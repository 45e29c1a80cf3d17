/**
 * The S3 target of the API suite: a real local S3 server on `port + 1` and the Berth Node server
 * (worker/runtime/node.ts, BERTH_STORAGE=s3) on `port`, each in its own process, so every request
 * crosses the S3 driver over HTTP exactly as in a deployment on S3/MinIO.
 */
import { spawnLogged, waitForHttp } from './process.ts';
import { fileURLToPath } from 'node:url';
import { startS3Server, type S3Server } from './s3-server.ts';
import { startFaultProxy, type FaultProxy } from './fault-proxy.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_ENTRY = fileURLToPath(new URL('../../worker/runtime/node.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface S3TargetOptions {
  port: number;
  /** Extra environment for Berth (BERTH_*), applied last. */
  env?: Record<string, string>;
  /**
   * Let the S3 server honour `If-None-Match: *` (default true, as AWS and R2 do); false runs
   * the driver's HEAD-then-PUT emulation with BERTH_S3_CONDITIONAL_WRITES=false.
   */
  conditionalWrites?: boolean;
  /** Put the fault-injecting proxy (fault-proxy.ts) on `port + 2` between Berth and the S3 server. */
  faults?: boolean;
}

export interface S3Target {
  url: string;
  s3: S3Server;
  /** The S3 driver's environment (BERTH_S3_*), to open the same bucket from a test. */
  storeEnv: Record<string, string>;
  /** The fault proxy Berth's S3 driver talks through, when asked for. */
  faults?: FaultProxy;
  /** Everything Berth printed (the access log when BERTH_ACCESS_LOG is on). */
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Environment that points Berth's S3 driver at a started S3 server. Presigned URLs name the
 * server `localhost` while Berth is reached at 127.0.0.1: Go clients keep `Authorization` on a
 * redirect to the same host name whatever the port, and the store refuses a presigned request
 * that carries it (worker/oci/redirect-credentials.ts), so the store must have a host name of
 * its own, as a deployment's would.
 */
export function berthS3Env(s3: S3Server, conditionalWrites: boolean): Record<string, string> {
  const endpoint = new URL(s3.endpoint);
  const presignFor: Record<string, string> = endpoint.hostname === '127.0.0.1' ? { BERTH_S3_PUBLIC_URL: `http://localhost:${endpoint.port}` } : {};
  return {
    BERTH_STORAGE: 's3',
    BERTH_S3_ENDPOINT: s3.endpoint,
    ...presignFor,
    BERTH_S3_BUCKET: s3.bucket,
    BERTH_S3_REGION: s3.region,
    BERTH_S3_FORCE_PATH_STYLE: 'true',
    BERTH_S3_ACCESS_KEY_ID: s3.accessKeyId,
    BERTH_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    BERTH_S3_CONDITIONAL_WRITES: String(conditionalWrites),
  };
}

export async function startS3Target(opts: S3TargetOptions): Promise<S3Target> {
  const conditionalWrites = opts.conditionalWrites ?? true;
  const s3 = await startS3Server({ port: opts.port + 1, conditionalWrites });
  let faults: FaultProxy | undefined;
  try {
    if (opts.faults) faults = await startFaultProxy({ port: opts.port + 2, upstream: s3.endpoint, bucket: s3.bucket });
  } catch (error) {
    await s3.stop();
    throw error;
  }
  const url = `http://127.0.0.1:${opts.port}`;
  const berth = spawnLogged(process.execPath, ['--import', 'tsx', NODE_ENTRY], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      ...berthS3Env(s3, conditionalWrites),
      ...(faults ? { BERTH_S3_ENDPOINT: faults.url } : {}),
      HOST: '127.0.0.1',
      PORT: String(opts.port),
      ...opts.env,
    },
  });
  try {
    await waitForHttp(`${url}/v2/`, berth.child, berth.output, START_TIMEOUT_MS);
  } catch (error) {
    await berth.stop();
    await faults?.stop();
    await s3.stop();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    s3,
    storeEnv: berthS3Env(s3, conditionalWrites),
    ...(faults ? { faults } : {}),
    logs: berth.output,
    stop() {
      stopped ??= berth.stop().then(() => faults?.stop()).then(() => s3.stop());
      return stopped;
    },
  };
}
