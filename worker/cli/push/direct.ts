/**
 * One blob through Berth's direct upload extension (worker/routes/direct-uploads.ts): parts go
 * from the local file straight to presigned store URLs, `concurrency` at a time, each streamed
 * from the file (memory: a few stream buffers per part in flight, not the part). A session left
 * by an interrupted run is picked up: its status lists the parts the store already holds, and
 * only the others are sent. Answers `unsupported` when the deployment cannot presign.
 */
import { CliError } from '../args.ts';
import { errorSummary } from '../admin-client.ts';
import { sendFileRange } from './http.ts';
import type { LocalBlob } from './image.ts';
import type { Progress } from './progress.ts';
import type { RegistryClient } from './registry-client.ts';
import type { PushState } from './state.ts';

interface Session {
  id: string;
  location: string;
  digest: string;
  size: number;
  partSize: number;
  partCount: number;
  parts?: { partNumber: number; size: number }[];
}

export interface BlobUpload {
  client: RegistryClient;
  state: PushState;
  progress: Progress;
  concurrency: number;
}

const PART_ATTEMPTS = 3;

export async function uploadDirect(blob: LocalBlob, up: BlobUpload): Promise<'uploaded' | 'exists' | 'unsupported'> {
  const { client, state } = up;
  const repo = client.repository;
  let session: Session | null = null;
  const saved = await state.upload(repo, blob.digest);
  if (saved?.kind === 'direct') {
    const status = await client.send('GET', saved.location);
    if (status.status === 200) {
      const previous = JSON.parse(status.text) as Session;
      if (previous.digest === blob.digest && previous.size === blob.size) session = previous;
    }
    if (!session) await state.forgetUpload(repo, blob.digest);
  }
  if (!session) {
    const res = await client.send('POST', `/v2/${repo}/_berth/uploads/`, {
      body: JSON.stringify({ digest: blob.digest, size: blob.size }),
      headers: { 'Content-Type': 'application/json' },
    });
    if (res.status === 201) return 'exists';
    if (res.status === 404 || res.status === 405) return 'unsupported';
    if (res.status !== 202) throw new CliError(`starting a direct upload of ${blob.digest}: HTTP ${res.status} ${errorSummary(res.text)}`, 1);
    session = JSON.parse(res.text) as Session;
    await state.saveUpload(repo, blob.digest, { kind: 'direct', location: session.location });
  }

  const held = new Map((session.parts ?? []).map((p) => [p.partNumber, p.size]));
  const missing: number[] = [];
  for (let n = 1; n <= session.partCount; n++) if (!held.has(n)) missing.push(n);
  const id = blob.digest;
  const resumed = session.partCount - missing.length;
  up.progress.start(id, `${blob.digest.slice(7, 19)} (direct, ${session.partCount} parts${resumed ? `, ${resumed} already stored` : ''})`, partBytes(session, missing));
  await sendParts(session, blob, missing, up);
  await finish(session, blob, up);
  up.progress.done(id, 'verified and published');
  await state.forgetUpload(repo, blob.digest);
  return 'uploaded';
}

function partLength(session: Session, n: number): number {
  return n < session.partCount ? session.partSize : session.size - session.partSize * (session.partCount - 1);
}

function partBytes(session: Session, numbers: number[]): number {
  return numbers.reduce((sum, n) => sum + partLength(session, n), 0);
}

/** Windows of part URLs (asked for just before use: they expire), sent `concurrency` at a time. */
async function sendParts(session: Session, blob: LocalBlob, missing: number[], up: BlobUpload): Promise<void> {
  const window = Math.min(100, Math.max(up.concurrency * 4, 8));
  for (let i = 0; i < missing.length; i += window) {
    const numbers = missing.slice(i, i + window);
    const res = await up.client.send('POST', `${session.location}/parts`, {
      body: JSON.stringify({ parts: numbers }),
      headers: { 'Content-Type': 'application/json' },
    });
    if (res.status !== 200) throw new CliError(`asking for part URLs of ${blob.digest}: HTTP ${res.status} ${errorSummary(res.text)}`, 1);
    const urls = (JSON.parse(res.text) as { parts: { partNumber: number; url: string }[] }).parts;
    const queue = [...urls];
    const workers = Array.from({ length: Math.min(up.concurrency, queue.length) }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await sendPart(session, blob, next, up);
    });
    await Promise.all(workers);
  }
}

async function sendPart(session: Session, blob: LocalBlob, part: { partNumber: number; url: string }, up: BlobUpload): Promise<void> {
  const length = partLength(session, part.partNumber);
  const range = { file: blob.file, offset: blob.offset + (part.partNumber - 1) * session.partSize, length };
  for (let attempt = 1; ; attempt++) {
    let sent = 0;
    try {
      const res = await sendFileRange('PUT', part.url, range, {}, (n) => {
        sent += n;
        up.progress.advance(blob.digest, n);
      });
      if (res.status === 200) return;
      if (res.status < 500 || attempt >= PART_ATTEMPTS) {
        throw new CliError(`part ${part.partNumber} of ${blob.digest}: the store answered ${res.status} ${res.body.slice(0, 200)}`, 1);
      }
    } catch (error) {
      if (error instanceof CliError || attempt >= PART_ATTEMPTS) throw error;
    }
    up.progress.advance(blob.digest, -sent);
  }
}

/** A failed finish is retried: finishing is idempotent, and a slow store may outlast one request. */
const FINISH_RETRIES = 5;

/** PUT ?digest= until Berth has read the object back and published it (202 while verifying). */
async function finish(session: Session, blob: LocalBlob, up: BlobUpload): Promise<void> {
  for (let failures = 0; ; ) {
    const res = await up.client.send('PUT', `${session.location}?digest=${blob.digest}`);
    if (res.status === 201) return;
    if (res.status === 202) continue;
    if (res.status >= 500 && ++failures <= FINISH_RETRIES) {
      up.progress.info(`${blob.digest.slice(7, 19)}: finishing answered ${res.status}; trying again (${failures}/${FINISH_RETRIES})`);
      await new Promise((resolve) => setTimeout(resolve, 1000 * 2 ** failures));
      continue;
    }
    if (res.status === 400 && /DIGEST_INVALID/.test(res.text)) {
      await up.state.forgetUpload(up.client.repository, blob.digest);
      throw new CliError(`${blob.digest}: the registry found other bytes in the store than the digest says (DIGEST_INVALID); nothing was published, push again`, 1);
    }
    throw new CliError(`finishing ${blob.digest}: HTTP ${res.status} ${errorSummary(res.text)}`, 1);
  }
}
