/**
 * Client flows against a registry, timed: a blob push as docker (POST, one chunked PATCH, PUT
 * `?digest=`) or skopeo (same with Content-Length) sends it, a pull that follows a 307 the way
 * Go clients do (the Authorization header is not sent to another host:port), and batches of
 * small uploads.
 */
import { payload, smallPayload, type Payload } from './data.ts';
import { ask, expectStatus, type Framing } from './http.ts';
import type { RegistrySystem } from './systems.ts';

export interface PushTiming {
  totalMs: number;
  /** The finishing `PUT ?digest=` alone. */
  putMs: number;
  digest: string;
}

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

function locationOf(sys: RegistrySystem, headers: Record<string, unknown>, what: string): string {
  const location = headers.location;
  if (typeof location !== 'string') throw new Error(`${sys.id} ${what}: no Location header`);
  return new URL(location, sys.url).toString();
}

export async function pushBlob(sys: RegistrySystem, repo: string, body: Payload, framing: Framing): Promise<PushTiming> {
  const started = performance.now();
  const post = expectStatus(
    await ask({ url: `${sys.url}/v2/${repo}/blobs/uploads/`, method: 'POST', headers: sys.headers, timeoutMs: 30_000 }),
    [202],
    `${sys.id} POST upload`,
  );
  const patch = expectStatus(
    await ask({
      url: locationOf(sys, post.headers, 'POST'),
      method: 'PATCH',
      headers: { ...sys.headers, 'Content-Type': 'application/octet-stream' },
      body,
      framing,
    }),
    [202],
    `${sys.id} PATCH (${framing})`,
  );
  const put = expectStatus(
    await ask({ url: withDigest(locationOf(sys, patch.headers, 'PATCH'), body.digest), method: 'PUT', headers: sys.headers }),
    [201],
    `${sys.id} PUT ?digest=`,
  );
  return { totalMs: performance.now() - started, putMs: put.ms, digest: body.digest };
}

export interface PullTiming {
  ms: number;
  /** Body bytes the registry itself sent (0 when it redirected). */
  servedByRegistry: number;
  redirected: boolean;
}

export async function pullBlob(sys: RegistrySystem, repo: string, digest: string, size: number): Promise<PullTiming> {
  const started = performance.now();
  const first = expectStatus(
    await ask({ url: `${sys.url}/v2/${repo}/blobs/${digest}`, method: 'GET', headers: sys.headers }),
    [200, 307],
    `${sys.id} GET blob`,
  );
  let received = first.status === 200 ? first.bytes : 0;
  if (first.status === 307) {
    const target = locationOf(sys, first.headers, 'GET blob');
    const sameHost = new URL(target).host === new URL(sys.url).host;
    const second = expectStatus(
      await ask({ url: target, method: 'GET', headers: sameHost ? sys.headers : {} }),
      [200],
      `${sys.id} GET redirected blob`,
    );
    received = second.bytes;
  }
  if (received !== size) throw new Error(`${sys.id} pull: got ${received} bytes, expected ${size}`);
  return { ms: performance.now() - started, servedByRegistry: first.bytes, redirected: first.status === 307 };
}

/** `count` docker-style uploads of `size`-byte random blobs, `concurrency` at a time. Total ms. */
export async function smallUploads(sys: RegistrySystem, repo: string, count: number, size: number, concurrency: number): Promise<number> {
  const blobs = Array.from({ length: count }, () => smallPayload(size));
  let next = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next < blobs.length) {
      const blob = blobs[next++]!;
      await pushBlob(sys, repo, blob, 'chunked');
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - started;
}

/** Times the finishing PUT of a fresh `size`-byte push. */
export async function finishPutMs(sys: RegistrySystem, repo: string, size: number): Promise<number> {
  return (await pushBlob(sys, repo, payload(size), 'length')).putMs;
}
