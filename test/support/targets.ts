/**
 * The registry deployments the HTTP API suite runs against (principle 8: one suite, every
 * runtime, every store). Each is a real process: the Node server on the filesystem store, the
 * Node server on a real local S3 server, the Worker in workerd (wrangler dev), and the Lambda
 * handler behind a Function URL bridge. BERTH_TEST_TARGETS picks some (comma-separated).
 */
export interface Target {
  url: string;
  /** What the registry process printed (access log lines included). */
  logs(): string;
  stop(): Promise<void>;
}

export interface TargetSpec {
  name: string;
  /** Blob GETs answer 307 to the store instead of streaming. */
  redirects: boolean;
  /** Largest request body the deployment accepts, when it has one. */
  maxBodyBytes?: number;
  start(port: number, env: Record<string, string>): Promise<Target>;
}

export const ADMIN = { username: 'admin', password: 'test-admin-password-1234' };

/** Environment every target gets: auth on with a known admin, access log on. */
export const BASE_ENV: Record<string, string> = {
  BERTH_ADMIN_PASSWORD: ADMIN.password,
  BERTH_ACCESS_LOG: 'true',
};

export const TARGET_SPECS: TargetSpec[] = [
  {
    name: 'node-fs',
    redirects: false,
    start: async (port, env) => {
      const { startNodeTarget } = await import('./target-node.ts');
      return startNodeTarget({ port, env });
    },
  },
  {
    name: 'node-s3',
    redirects: true,
    start: async (port, env) => {
      const { startS3Target } = await import('./target-s3.ts');
      const target = await startS3Target({ port, env });
      return { url: target.url, logs: () => logsOf(target), stop: () => target.stop() };
    },
  },
  {
    name: 'worker-r2',
    redirects: false,
    // A small limit keeps the over-the-limit test cheap; the e2e suite runs 100 MiB layers.
    maxBodyBytes: 32 * 1024 * 1024,
    start: async (port, env) => {
      const { startWorkerTarget } = await import('./target-worker.ts');
      const target = await startWorkerTarget({ port, env: { ...env, BERTH_MAX_BODY_MB: '32' } });
      return { url: target.url, logs: () => logsOf(target), stop: () => target.stop() };
    },
  },
  {
    name: 'lambda-s3',
    redirects: true,
    maxBodyBytes: 4 * 1024 * 1024,
    start: async (port, env) => {
      const { startLambdaTarget } = await import('./target-lambda.ts');
      const target = await startLambdaTarget({ port, env });
      return { url: target.url, logs: () => logsOf(target), stop: () => target.stop() };
    },
  },
];

function logsOf(target: object): string {
  const logs = (target as { logs?: () => string }).logs;
  return typeof logs === 'function' ? logs.call(target) : '';
}

export function selectedTargets(): TargetSpec[] {
  const wanted = process.env.BERTH_TEST_TARGETS?.split(',').map((s) => s.trim()).filter(Boolean);
  if (!wanted || wanted.length === 0) return TARGET_SPECS;
  return TARGET_SPECS.filter((spec) => wanted.includes(spec.name));
}
