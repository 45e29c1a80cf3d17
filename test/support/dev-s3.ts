/**
 * `npm run dev:s3`: Berth on the S3 driver against a local S3-compatible server, both on this
 * machine, for trying the S3 code path without a cloud account.
 *
 *   PORT           Berth's port (default 5000)
 *   BERTH_S3_PORT  the S3 server's port (default PORT + 1)
 *   BERTH_DATA_DIR objects are kept under $BERTH_DATA_DIR/s3 (default ./data/s3)
 *
 * Any other BERTH_* variable is passed to Berth unchanged (BERTH_S3_PUBLIC_URL too, which
 * otherwise names the S3 server `localhost` in presigned URLs: see berthS3Env). Ctrl-C stops
 * both processes.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3Server } from './s3-server.ts';
import { berthS3Env } from './target-s3.ts';
import { waitForHttp } from './process.ts';
import { envPort, stopTogether } from './dev-command.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_ENTRY = fileURLToPath(new URL('../../worker/runtime/node.ts', import.meta.url));

/** BERTH_S3_PUBLIC_URL as the user set it, which wins over the set-up's own. */
function userPresignUrl(): Record<string, string> {
  const url = process.env.BERTH_S3_PUBLIC_URL?.trim();
  return url ? { BERTH_S3_PUBLIC_URL: url } : {};
}

const berthPort = envPort('PORT', 5000);
const s3Port = envPort('BERTH_S3_PORT', berthPort + 1);
const dataDir = resolve(ROOT, process.env.BERTH_DATA_DIR?.trim() || 'data', 's3');

const s3 = await startS3Server({ port: s3Port, dir: dataDir, conditionalWrites: true });
const berth = spawn(process.execPath, ['--import', 'tsx', NODE_ENTRY], {
  cwd: ROOT,
  env: { ...process.env, ...berthS3Env(s3, true), ...userPresignUrl(), PORT: String(berthPort) },
  stdio: 'inherit',
});

const host = process.env.HOST?.trim() || '127.0.0.1';
const shownHost = host.includes(':') ? `[${host}]` : host;
waitForHttp(`http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : shownHost}:${berthPort}/v2/`, berth, () => '').then(
  () => {
    const presigned = userPresignUrl().BERTH_S3_PUBLIC_URL ?? berthS3Env(s3, true).BERTH_S3_PUBLIC_URL ?? s3.endpoint;
    console.log(`S3 server: ${s3.endpoint} (bucket "${s3.bucket}", key ${s3.accessKeyId}/${s3.secretAccessKey}, data in ${dataDir})`);
    console.log(`           pulls are redirected to ${presigned}`);
    console.log(`Berth:     http://${shownHost}:${berthPort} (storage: s3)  Ctrl-C stops both`);
  },
  () => {}, // Berth's own output already says why it did not start; the exit handler cleans up.
);

stopTogether(berth, s3, 'Berth');
