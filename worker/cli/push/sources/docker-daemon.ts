/**
 * `docker-daemon:IMAGE[:TAG]`: an image in the local Docker daemon, exported through the Docker
 * Engine API (`GET /images/{name}/get`, the stream `docker save` writes) over the daemon's socket
 * (DOCKER_HOST=unix://… or the default /var/run/docker.sock), into a temporary file read as a
 * docker-archive. The export is streamed to disk, never held in memory.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CliError } from '../../args.ts';
import type { LocalImage } from '../image.ts';
import { readDockerArchive, type ArchiveOptions } from './docker-archive.ts';

const DEFAULT_SOCKET = '/var/run/docker.sock';

export function dockerSocket(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return DEFAULT_SOCKET;
  if (host.startsWith('unix://')) return host.slice('unix://'.length);
  throw new CliError(`docker-daemon: DOCKER_HOST=${host} is not a unix socket (only unix:// is supported)`);
}

function get(socketPath: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', headers: { Host: 'docker' } }, resolve);
    req.on('error', (error: NodeJS.ErrnoException) => {
      reject(new CliError(`docker-daemon: cannot reach the Docker daemon at ${socketPath} (${error.code ?? error.message})`, 1));
    });
    req.end();
  });
}

async function text(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function readDockerDaemon(image: string, options: ArchiveOptions): Promise<LocalImage> {
  const socketPath = dockerSocket();
  const name = encodeURIComponent(image);
  // Asked first so a missing image is named plainly, not as a broken export.
  const inspect = await get(socketPath, `/images/${name}/json`);
  const body = await text(inspect);
  if (inspect.statusCode === 404) throw new CliError(`docker-daemon: no image "${image}" in the Docker daemon (docker images lists them)`);
  if (inspect.statusCode !== 200) throw new CliError(`docker-daemon: the daemon answered ${inspect.statusCode} for ${image}: ${body.trim().slice(0, 200)}`, 1);

  const dir = join(options.cacheDir, 'exports');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${Date.now()}.tar`);
  const exported = await get(socketPath, `/images/${name}/get`);
  if (exported.statusCode !== 200) throw new CliError(`docker-daemon: exporting ${image} failed (${exported.statusCode}): ${(await text(exported)).slice(0, 200)}`, 1);
  try {
    await pipeline(exported, createWriteStream(file, { mode: 0o600 }));
    const local = await readDockerArchive(file, options);
    return { ...local, cleanup: () => rm(file, { force: true }) };
  } finally {
    // The archive is only needed while layers are compressed into the cache.
    await rm(file, { force: true });
  }
}
