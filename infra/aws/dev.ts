/**
 * `npm run dev:lambda`: Berth's Lambda handler on this machine, as a Function URL would run it,
 * for trying the AWS deployment without an account: the Function URL bridge
 * (test/support/lambda-bridge.ts: the 6 MB request limit, base64 bodies, the streaming response
 * protocol) around worker/runtime/lambda.ts, on a local S3-compatible server that presigns.
 *
 *   HOST, PORT            where the function URL listens (127.0.0.1:3000)
 *   BERTH_S3_PORT         the S3 server's port (PORT + 1)
 *   BERTH_DATA_DIR        objects are kept under $BERTH_DATA_DIR/lambda-s3 (./data/lambda-s3)
 *   BERTH_ADMIN_PASSWORD  password of `admin` on first start (else generated and printed once)
 *
 * Presigned URLs name the S3 server as `localhost` (BERTH_S3_PUBLIC_URL overrides it) while
 * Berth answers on 127.0.0.1: Go clients (docker, skopeo) keep the Authorization header on a
 * redirect to the same host name, which S3 refuses next to a signature. Every other BERTH_*
 * variable reaches the function unchanged. Ctrl-C stops both processes.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3Server } from '../../test/support/s3-server.ts';
import { berthS3Env } from '../../test/support/target-s3.ts';
import { waitForHttp } from '../../test/support/process.ts';
import { envPort, stopTogether } from '../../test/support/dev-command.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BRIDGE = fileURLToPath(new URL('../../test/support/lambda-bridge.ts', import.meta.url));


const host = process.env.HOST?.trim() || '127.0.0.1';
const functionPort = envPort('PORT', 3000);
const s3Port = envPort('BERTH_S3_PORT', functionPort + 1);
const dataDir = resolve(ROOT, process.env.BERTH_DATA_DIR?.trim() || 'data', 'lambda-s3');
const shownHost = host.includes(':') ? `[${host}]` : host;
const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : shownHost;
const url = `http://${reachable}:${functionPort}`;

const s3 = await startS3Server({ port: s3Port, dir: dataDir, conditionalWrites: true });
const bridge = spawn(process.execPath, ['--import', 'tsx', BRIDGE], {
  cwd: ROOT,
  env: {
    ...process.env,
    NODE_OPTIONS: '',
    AWS_REGION: s3.region,
    AWS_LAMBDA_FUNCTION_NAME: 'berth-dev',
    BRIDGE_HOST: host,
    BRIDGE_PORT: String(functionPort),
    ...berthS3Env(s3, true),
    BERTH_S3_PUBLIC_URL: process.env.BERTH_S3_PUBLIC_URL?.trim() || `http://localhost:${s3Port}`,
    BERTH_PUBLIC_URL: process.env.BERTH_PUBLIC_URL?.trim() || url,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});

waitForHttp(`${url}/v2/`, bridge, () => '').then(
  () => {
    console.log(`S3 server: ${s3.endpoint} (presigned as ${process.env.BERTH_S3_PUBLIC_URL?.trim() || `http://localhost:${s3Port}`}, data in ${dataDir})`);
    console.log(`Berth on the Lambda handler: ${url} (Function URL limits: 6 MB per request)  Ctrl-C stops both`);
    console.log(`  layers over 4 MiB: npm run berth -- --url ${url} push docker-daemon:IMAGE:TAG REPO:TAG`);
  },
  () => {}, // the bridge's own output says why it did not start; the exit handler cleans up
);

stopTogether(bridge, s3, 'the Lambda bridge');
