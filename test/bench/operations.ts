/**
 * Registry operations as clients make them, for the per-operation costs: a docker-style layer
 * upload (HEAD miss, POST, one chunked PATCH, PUT ?digest=, HEAD), an image push (config, N
 * layers, manifest) and pull (manifest by tag, then every blob), manifests naming many layers,
 * and the seeding of big tag lists and catalogs. Every request is checked for its status.
 */
import { randomBytes } from 'node:crypto';
import { bytesPayload, payload, type Payload } from './data.ts';
import { ask, expectStatus, type Answer } from './http.ts';
import type { RegistrySystem } from './systems.ts';
import { pullBlob, pushBlob } from './transfers.ts';

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const LAYER_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
const CONFIG_TYPE = 'application/vnd.docker.container.image.v1+json';
const TIMEOUT_MS = 120_000;

export interface Blob {
  digest: string;
  size: number;
}

async function call(sys: RegistrySystem, method: string, path: string, ok: number[], extra: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  const answer = await ask({ url: `${sys.url}${path}`, method, headers: { ...sys.headers, ...extra.headers }, body: extra.body, timeoutMs: TIMEOUT_MS });
  return expectStatus(answer, ok, `${sys.id} ${method} ${path}`);
}

export function headBlob(sys: RegistrySystem, repo: string, digest: string, ok = [200]): Promise<Answer> {
  return call(sys, 'HEAD', `/v2/${repo}/blobs/${digest}`, ok);
}

/** docker's sequence for one new layer: HEAD (absent), POST, PATCH, PUT ?digest=, HEAD. */
export async function uploadLayer(sys: RegistrySystem, repo: string, body: Payload): Promise<Blob> {
  await headBlob(sys, repo, body.digest, [404]);
  await pushBlob(sys, repo, body, 'chunked');
  await headBlob(sys, repo, body.digest);
  return { digest: body.digest, size: body.size };
}

/** A small blob in two requests (POST, then PUT ?digest= with the body): the cheapest way to seed many. */
export async function putBlob(sys: RegistrySystem, repo: string, bytes: Buffer): Promise<Blob> {
  const body = bytesPayload(bytes);
  const started = await call(sys, 'POST', `/v2/${repo}/blobs/uploads/`, [202]);
  const location = new URL(String(started.headers.location), sys.url);
  location.searchParams.set('digest', body.digest);
  const answer = await ask({ url: location.toString(), method: 'PUT', headers: { ...sys.headers, 'Content-Type': 'application/octet-stream' }, body, timeoutMs: TIMEOUT_MS });
  expectStatus(answer, [201], `${sys.id} PUT ?digest= with the body`);
  return { digest: body.digest, size: bytes.length };
}

export function manifestOf(config: Blob, layers: Blob[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: CONFIG_TYPE, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: LAYER_TYPE, size: l.size, digest: l.digest })),
  });
}

export function putManifest(sys: RegistrySystem, repo: string, reference: string, body: string, ok = [201]): Promise<Answer> {
  return call(sys, 'PUT', `/v2/${repo}/manifests/${reference}`, ok, { headers: { 'Content-Type': DOCKER_MANIFEST }, body });
}

export function getManifest(sys: RegistrySystem, repo: string, reference: string, method: 'GET' | 'HEAD' = 'GET'): Promise<Answer> {
  return call(sys, method, `/v2/${repo}/manifests/${reference}`, [200], { headers: { Accept: DOCKER_MANIFEST } });
}

export function getPath(sys: RegistrySystem, path: string): Promise<Answer> {
  return call(sys, 'GET', path, [200]);
}

export interface PushedImage {
  config: Blob;
  layers: Blob[];
  manifest: string;
}

/** A new image: a fresh config and `layerCount` fresh layers of `layerBytes`, tagged `tag`. */
export async function pushImage(sys: RegistrySystem, repo: string, tag: string, layerCount: number, layerBytes: number): Promise<PushedImage> {
  const config = await uploadLayer(sys, repo, bytesPayload(Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', nonce: randomBytes(8).toString('hex') }))));
  const layers: Blob[] = [];
  for (let i = 0; i < layerCount; i++) layers.push(await uploadLayer(sys, repo, payload(layerBytes)));
  const manifest = manifestOf(config, layers);
  await putManifest(sys, repo, tag, manifest);
  return { config, layers, manifest };
}

/** docker pull of `tag`: the manifest, then the config and every layer (following redirects). */
export async function pullImage(sys: RegistrySystem, repo: string, tag: string, image: PushedImage): Promise<void> {
  await getManifest(sys, repo, tag);
  for (const blob of [image.config, ...image.layers]) await pullBlob(sys, repo, blob.digest, blob.size);
}

/** Runs `task` for 0..count-1, `concurrency` at a time. */
export async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Tag names t00000 … in byte order, so "a late page" is a known name. */
export const tagName = (i: number): string => `t${String(i).padStart(5, '0')}`;
export const repoName = (prefix: string, i: number): string => `${prefix}/r${String(i).padStart(5, '0')}`;
