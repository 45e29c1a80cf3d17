#!/usr/bin/env node
/**
 * `npm run image`: builds infra/docker/Dockerfile as berth:local (BERTH_IMAGE overrides the
 * name). BERTH_NODE_IMAGE picks the base (default: the official node:20-bookworm-slim); a
 * machine that cannot pull it builds one with infra/docker/local-base.sh first.
 *
 * Uses BuildKit when the docker CLI has buildx, the classic builder otherwise. The build runs
 * on the host network so `npm ci` reaches the registry even where Docker has no bridge, and
 * trusts the CAs in NODE_EXTRA_CA_CERTS (copied into the build context) behind a TLS proxy.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const image = process.env.BERTH_IMAGE?.trim() || 'berth:local';
const base = process.env.BERTH_NODE_IMAGE?.trim();

// Extra CAs (a TLS-intercepting proxy) reach the build's npm through the context.
const caCopy = join(root, '.tmp/image-ca.pem');
rmSync(caCopy, { force: true });
if (process.env.NODE_EXTRA_CA_CERTS?.trim()) {
  mkdirSync(dirname(caCopy), { recursive: true });
  copyFileSync(process.env.NODE_EXTRA_CA_CERTS.trim(), caCopy);
}

const buildx = spawnSync('docker', ['buildx', 'version'], { stdio: 'ignore' }).status === 0;
const args = ['build', '--network', 'host', '-f', 'infra/docker/Dockerfile', '-t', image];
if (base) args.push('--build-arg', `NODE_IMAGE=${base}`);
args.push('.');
console.log(`docker ${args.join(' ')}${buildx ? '' : '   (classic builder: no buildx)'}`);
const run = spawnSync('docker', args, {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, DOCKER_BUILDKIT: buildx ? '1' : '0' },
});
if (run.error) {
  console.error(`npm run image: cannot run docker: ${run.error.message}`);
  process.exit(1);
}
process.exit(run.status ?? 1);
