/**
 * The Lambda target of the API suite: a real local S3 server (port + 1) and, in its own process,
 * the Function URL bridge (test/support/lambda-bridge.ts) around worker/runtime/lambda.ts at
 * `port`. Requests therefore pass through everything the Lambda deployment has: the event
 * translation, base64 bodies, the 6 MB payload limit, the streaming response protocol, the
 * Lambda entry's defaults (4 MiB body limit) and the S3 driver over HTTP.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startS3Server } from './s3-server.ts';
import { berthS3Env } from './target-s3.ts';

const BRIDGE = fileURLToPath(new URL('./lambda-bridge.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface LambdaTargetOptions {
  port: number;
  /** Extra environment for the function (BERTH_*), e.g. BERTH_ADMIN_PASSWORD. */
  env?: Record<string, string>;
  /** `buffered` runs `bufferedHandler` (InvokeMode BUFFERED) instead of the streaming one. */
  mode?: 'streaming' | 'buffered';
  /** Path of a built bundle (dist/aws/index.mjs) to run instead of worker/runtime/lambda.ts. */
  entry?: string;
}

export interface LambdaTarget {
  url: string;
  /** The S3 server's data directory, to check what was (not) stored. */
  s3Dir: string;
  bucket: string;
  /** The function's environment (S3 settings included), to run other entries against the same store. */
  env: Record<string, string>;
  /** What the bridge and the function wrote to stderr (BRIDGE_LOG_INVOCATIONS=1 adds one line per invocation). */
  logs(): string;
  stop(): Promise<void>;
}

export async function startLambdaTarget(opts: LambdaTargetOptions): Promise<LambdaTarget> {
  const s3 = await startS3Server({ port: opts.port + 1, conditionalWrites: true });
  const url = `http://127.0.0.1:${opts.port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_OPTIONS: '',
    // What Lambda sets, minus credentials: the store gets static keys for the local server.
    AWS_REGION: s3.region,
    AWS_LAMBDA_FUNCTION_NAME: 'berth-bridge',
    BRIDGE_PORT: String(opts.port),
    BRIDGE_MODE: opts.mode ?? 'streaming',
    BRIDGE_ENTRY: opts.entry ?? '',
    ...berthS3Env(s3, true),
    // A Function URL is https; behind the bridge the public origin is this plain-HTTP one,
    // as it is a custom domain's in production (the template sets it from DomainName).
    BERTH_PUBLIC_URL: url,
    ...opts.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', BRIDGE], {
    env,
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  const output = (): string => chunks.join('');
  child.stderr.on('data', (chunk: Buffer) => {
    chunks.push(chunk.toString());
    if (process.env.BERTH_TEST_VERBOSE) process.stderr.write(chunk);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lambda bridge did not start: ${output().slice(-8000)}`)), START_TIMEOUT_MS);
      const lines = createInterface({ input: child.stdout });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`lambda bridge exited with ${code}: ${output().slice(-8000)}`));
      });
      lines.on('line', (line) => {
        if (process.env.BERTH_TEST_VERBOSE) console.error(`[bridge] ${line}`);
        if (!line.startsWith('listening ')) return;
        clearTimeout(timer);
        resolve();
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await s3.stop();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    url,
    s3Dir: s3.dir,
    bucket: s3.bucket,
    env,
    logs: output,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          await new Promise<void>((resolve) => {
            const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
            child.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            child.kill('SIGTERM');
          });
        }
        await s3.stop();
      })();
      return stopped;
    },
  };
}
