/**
 * Cold start of the built Lambda bundle, measured locally: `npx tsx infra/aws/measure-cold-start.ts`
 * after `npm run build:aws`. Each run is a fresh Node process that imports dist/aws/index.mjs
 * (as the Lambda runtime does) and invokes `handler` with a Function URL event for `GET /v2/`,
 * against a local S3 server; it reports module import time and import-to-first-answer time
 * (config, S3 client, authorizer, admin bootstrap, app). Median of RUNS (default 5).
 * Lambda's own init (runtime boot, downloading the zip) is not included.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startS3Server } from '../../test/support/s3-server.ts';

const bundle = fileURLToPath(new URL('../../dist/aws/index.mjs', import.meta.url));
const runs = Number(process.env.RUNS ?? 5);
const port = Number(process.env.PORT ?? 15530);

// Runs in the child: a stand-in for the runtime's `awslambda` global, then import and invoke.
const driver = `
const { PassThrough } = await import('node:stream');
globalThis.awslambda = {
  streamifyResponse: (f) => f,
  HttpResponseStream: { from(s, m) { s.meta = m; return s; } },
};
const t0 = performance.now();
const mod = await import(process.env.BUNDLE);
const t1 = performance.now();
const stream = new PassThrough();
stream.resume();
const event = {
  version: '2.0', routeKey: '$default', rawPath: '/v2/', rawQueryString: '',
  headers: { host: 'abc.lambda-url.us-east-1.on.aws', 'user-agent': 'measure' },
  requestContext: { domainName: 'abc.lambda-url.us-east-1.on.aws', http: { method: 'GET', path: '/v2/', sourceIp: '127.0.0.1' } },
  isBase64Encoded: false,
};
await mod.handler(event, stream, {});
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, firstAnswerMs: t2 - t0, status: stream.meta?.statusCode }));
`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

if (!existsSync(bundle)) {
  console.error('run `npm run build:aws` first');
  process.exit(1);
}
const s3 = await startS3Server({ port, conditionalWrites: true });
try {
  const results: { importMs: number; firstAnswerMs: number; status: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', driver], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        BUNDLE: bundle,
        AWS_REGION: s3.region,
        BERTH_S3_ENDPOINT: s3.endpoint,
        BERTH_S3_BUCKET: s3.bucket,
        BERTH_S3_ACCESS_KEY_ID: s3.accessKeyId,
        BERTH_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
        BERTH_ADMIN_PASSWORD: 'cold-start-password',
      },
    });
    const line = run.stdout.trim().split('\n').pop() ?? '';
    if (run.status !== 0 || !line.startsWith('{')) throw new Error(`run ${i} failed: ${run.stderr}`);
    results.push(JSON.parse(line));
  }
  const fmt = (ms: number): string => `${ms.toFixed(0)} ms`;
  console.log(`runs: ${results.map((r) => `${fmt(r.importMs)}/${fmt(r.firstAnswerMs)} (${r.status})`).join(', ')}`);
  console.log(`median import ${fmt(median(results.map((r) => r.importMs)))}, import to first answer ${fmt(median(results.map((r) => r.firstAnswerMs)))}`);
} finally {
  await s3.stop();
}
