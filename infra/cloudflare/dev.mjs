#!/usr/bin/env node
/**
 * `npm run dev:worker`: runs Berth's Worker locally in workerd through `wrangler dev`, offline.
 *
 * - Sets wrangler's no-phone-home switches itself (metrics, request.cf fetch, update check) and
 *   a project-local XDG_CONFIG_HOME, so users need not know them.
 * - Local R2 lives in $BERTH_DATA_DIR (or .wrangler/state); listens on 127.0.0.1:$PORT (8787).
 * - Every BERTH_* and R2_* variable of this process (BERTH_ADMIN_PASSWORD, …) reaches the Worker
 *   through a generated env file readable only by the user, never on the command line.
 * - BERTH_R2_READ_SLICE_MB defaults to 16 here (reads of big objects in slices: see below).
 * - Extra arguments go to wrangler (`npm run dev:worker -- --test-scheduled`).
 *
 * - PORT is served by a small front (plain-http-front.mjs) that refuses TLS at once, so docker,
 *   podman and skopeo fall back to HTTP without waiting ~10 s on every command; wrangler itself
 *   listens on a free port behind it. BERTH_DEV_TLS_FRONT=false lets wrangler take PORT directly.
 *
 * Environment: PORT, BERTH_DATA_DIR, BERTH_INSPECTOR_PORT (devtools; wrangler's default 9229).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startPlainHttpFront } from './plain-http-front.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const port = process.env.PORT?.trim() || '8787';
const persistTo = resolve(process.env.BERTH_DATA_DIR?.trim() || join(root, '.wrangler/state'));
const forwarded = /^(BERTH_|R2_)/;

const runDir = join(root, '.tmp/wrangler-dev');
mkdirSync(runDir, { recursive: true });
mkdirSync(join(root, '.tmp/xdg'), { recursive: true });
mkdirSync(persistTo, { recursive: true });

/**
 * dotenv has no escapes for the quote itself, so quote with a character the value lacks;
 * single quotes first because they keep `\n` literal. Newlines (PEM keys) may sit inside quotes.
 */
function dotenvLine(name, value) {
  const quote = ["'", '`', '"'].find((q) => !value.includes(q));
  if (!quote) throw new Error(`dev:worker: ${name} contains all of ' \` and ", which an env file cannot carry`);
  // wrangler expands `$NAME` in env files (dotenv-expand) even inside quotes; `\$` stays literal.
  return `${name}=${quote}${value.replace(/\$/g, '\\$')}${quote}`;
}

/**
 * The local R2 simulator holds each object read whole and serves the bucket's other reads
 * behind it (a small layer waits for a big one beside it, sometimes for good): read in 16 MiB
 * slices here unless told otherwise. Deployed Workers read R2 objects in one go.
 */
const defaults = { BERTH_R2_READ_SLICE_MB: '16' };
const lines = Object.entries({ ...defaults, ...process.env })
  .filter(([name, value]) => forwarded.test(name) && name !== 'BERTH_DATA_DIR' && name !== 'BERTH_INSPECTOR_PORT' && value !== undefined)
  .map(([name, value]) => dotenvLine(name, String(value)));
const envFile = join(runDir, `vars-${port}-${process.pid}.env`);
writeFileSync(envFile, lines.join('\n') + '\n', { mode: 0o600 });

const useFront = !/^(0|false|no|off)$/i.test(process.env.BERTH_DEV_TLS_FRONT?.trim() ?? '');
const wranglerPort = useFront ? String(await freePort('127.0.0.1')) : port;

const wrangler = createRequire(import.meta.url).resolve('wrangler/bin/wrangler.js', { paths: [root] });
const args = [
  wrangler, 'dev',
  '--ip', '127.0.0.1',
  '--port', wranglerPort,
  '--persist-to', persistTo,
  '--env-file', envFile,
  '--show-interactive-dev-session=false',
];
if (process.env.BERTH_INSPECTOR_PORT?.trim()) args.push('--inspector-port', process.env.BERTH_INSPECTOR_PORT.trim());
args.push(...process.argv.slice(2));

const child = spawn(process.execPath, args, {
  cwd: root,
  stdio: 'inherit',
  env: {
    ...process.env,
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    WRANGLER_HIDE_BANNER: 'true',
    XDG_CONFIG_HOME: join(root, '.tmp/xdg'),
  },
});

const stopFront = useFront ? await startPlainHttpFront({ host: '127.0.0.1', port: Number(port), innerPort: Number(wranglerPort) }) : async () => {};
if (useFront) console.log(`dev:worker: Berth on http://127.0.0.1:${port} (wrangler behind it on ${wranglerPort}; TLS probes refused at once)`);

const cleanup = () => rmSync(envFile, { force: true });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', async (code, signal) => {
  cleanup();
  await stopFront();
  process.exit(code ?? (signal ? 1 : 0));
});
