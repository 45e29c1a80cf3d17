/**
 * `npm run size`: how big the deployable Worker is. Cloudflare caps a Worker at 3 MiB gzip
 * (Free) / 10 MiB (Paid) and bigger bundles start slower; Berth's own target is 250 KiB gzip.
 *
 * Measures the esbuild bundle of worker/runtime/cloudflare.ts (wrangler-like settings, see
 * worker-bundle.ts), raw and minified, with gzip sizes; `--wrangler` also runs
 * `wrangler deploy --dry-run --outdir` (offline) and measures what wrangler would upload.
 * Exits 1 when the minified gzip size is over the target.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { bundleWorker } from './worker-bundle.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = join(ROOT, 'worker/runtime/cloudflare.ts');
const TARGET_GZIP_KIB = 250;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
const gzipSize = (data: Uint8Array | string) => gzipSync(data, { level: 9 }).byteLength;

function row(label: string, data: Uint8Array | string): number {
  const raw = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  const gz = gzipSize(data);
  console.log(`${label.padEnd(34)} ${kib(raw).padStart(11)}   gzip ${kib(gz).padStart(10)}`);
  return gz;
}

function wranglerDryRun(): void {
  const outdir = join(ROOT, '.tmp/wrangler-dry-run');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(join(ROOT, '.tmp/xdg'), { recursive: true });
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules/wrangler/bin/wrangler.js'), 'deploy', '--dry-run', '--outdir', outdir, '--minify'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: {
      ...process.env,
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_HIDE_BANNER: 'true',
      XDG_CONFIG_HOME: join(ROOT, '.tmp/xdg'),
    },
  });
  if (result.status !== 0) {
    console.log(`wrangler deploy --dry-run failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
    return;
  }
  const reported = /Total Upload: .*/.exec(result.stdout + result.stderr)?.[0];
  for (const file of readdirSync(outdir)) {
    const path = join(outdir, file);
    if (statSync(path).isFile() && file.endsWith('.js')) row(`wrangler --dry-run --minify ${file}`, readFileSync(path));
  }
  if (reported) console.log(`wrangler says: ${reported}`);
}

const plain = await bundleWorker(ENTRY);
const minified = await bundleWorker(ENTRY, { minify: true });
console.log(`Worker bundle of ${ENTRY.slice(ROOT.length)}`);
row('esbuild', plain.code);
const gz = row('esbuild --minify', minified.code);
if (process.argv.includes('--wrangler')) wranglerDryRun();

const verdict = gz <= TARGET_GZIP_KIB * 1024 ? 'within' : 'OVER';
console.log(`minified gzip ${kib(gz)}: ${verdict} the ${TARGET_GZIP_KIB} KiB target`);
process.exitCode = verdict === 'OVER' ? 1 : 0;
