/**
 * The deployments the conformance replays run against: the Node server on its filesystem store,
 * and the `npm run dev:s3` set-up (the S3 driver on a local S3 server, blob pulls redirected to
 * presigned URLs), so the suites' blob GETs also pass through a redirect the way the suite's Go
 * client follows it.
 */
import assert from 'node:assert/strict';
import { BASE_ENV } from './targets.ts';
import { startNodeTarget } from './target-node.ts';
import { startS3Target } from './target-s3.ts';
import { accessLines } from './e2e-target.ts';

export interface Deployed {
  url: string;
  logs(): string;
  stop(): Promise<void>;
}

export interface ConformanceDeployment {
  title: string;
  /** Blob GETs must be redirects to the store (and still pass the suite's checks). */
  redirects: boolean;
  start(port: number): Promise<Deployed>;
}

export const CONFORMANCE_DEPLOYMENTS: ConformanceDeployment[] = [
  {
    title: 'Node server, filesystem store',
    redirects: false,
    start: (port) => startNodeTarget({ port, env: { ...BASE_ENV } }),
  },
  {
    // The suite's client keeps Authorization on a redirect to the same host name; the set-up
    // presigns for `localhost` while the suite talks to 127.0.0.1 (target-s3.ts berthS3Env).
    title: 'the `npm run dev:s3` set-up: S3 driver, local S3 server, pulls redirected',
    redirects: true,
    start: (port) => startS3Target({ port, env: { ...BASE_ENV } }),
  },
];

/** Every blob GET in `logs` that found its blob was a 307 to the store, and there was one. */
export function assertBlobGetsRedirected(logs: string): void {
  const blobGets = accessLines(logs).filter((l) => l.method === 'GET' && /\/blobs\/sha(256|512):[0-9a-f]+$/.test(l.path));
  const served = blobGets.filter((l) => l.status >= 200 && l.status < 300);
  assert.ok(blobGets.some((l) => l.status === 307), 'blob GETs were redirected to the store');
  assert.deepEqual(served, [], 'no blob GET was served by Berth itself');
}
