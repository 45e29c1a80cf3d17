/**
 * One blob through the standard upload API where the deployment cannot presign (the R2 binding
 * without S3 keys, the filesystem store): distribution-spec "Pushing a blob in chunks", PATCH
 * requests with `Content-Range`, each at most `OCI-Chunk-Max-Length` bytes (the deployment's
 * body limit) and at least `OCI-Chunk-Min-Length`; without a maximum, one PATCH carries the
 * whole blob. An interrupted upload resumes from the offset the session's status reports.
 */
import { CliError } from '../args.ts';
import { errorSummary } from '../admin-client.ts';
import type { BlobUpload } from './direct.ts';
import { sendFileRange } from './http.ts';
import type { LocalBlob } from './image.ts';

/** Chunks are streamed from the file; a cap keeps each request short enough to retry cheaply. */
const MAX_CHUNK = 512 * 1024 * 1024;

function withDigest(location: string, digest: string): string {
  return `${location}${location.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
}

/** Bytes the session holds, from its `Range: 0-<last>` header (0-0 may mean nothing yet). */
function heldBytes(range: string | null): number {
  const match = /^0-(\d+)$/.exec(range?.trim() ?? '');
  const last = match ? Number(match[1]) : 0;
  return last > 0 ? last + 1 : 0;
}

export async function uploadChunked(blob: LocalBlob, up: BlobUpload): Promise<'uploaded'> {
  const { client, state } = up;
  const repo = client.repository;
  let location: string | undefined;
  let offset = 0;
  let maxChunk: number | undefined;
  let minChunk = 0;
  const saved = await state.upload(repo, blob.digest);
  if (saved?.kind === 'chunked') {
    const status = await client.send('GET', saved.location);
    if (status.status === 204) {
      location = status.headers.get('location') ?? saved.location;
      offset = heldBytes(status.headers.get('range'));
      maxChunk = Number(status.headers.get('oci-chunk-max-length')) || undefined;
    } else {
      await state.forgetUpload(repo, blob.digest);
    }
  }
  if (!location) {
    const res = await client.send('POST', `/v2/${repo}/blobs/uploads/`);
    if (res.status !== 202) throw new CliError(`starting an upload of ${blob.digest}: HTTP ${res.status} ${errorSummary(res.text)}`, 1);
    location = res.headers.get('location') ?? undefined;
    if (!location) throw new CliError(`${client.baseUrl} started an upload without a Location`, 1);
    maxChunk = Number(res.headers.get('oci-chunk-max-length')) || undefined;
    minChunk = Number(res.headers.get('oci-chunk-min-length')) || 0;
    await state.saveUpload(repo, blob.digest, { kind: 'chunked', location });
  }
  const chunk = Math.max(Math.min(maxChunk ?? blob.size, MAX_CHUNK), minChunk, 1);
  const id = blob.digest;
  up.progress.start(id, `${blob.digest.slice(7, 19)} (chunks of ${Math.ceil(chunk / 1024 / 1024)} MiB${offset ? `, resuming at ${offset}` : ''})`, blob.size - offset);
  while (offset < blob.size) {
    const length = Math.min(chunk, blob.size - offset);
    const res = await sendFileRange('PATCH', client.resolve(location), { file: blob.file, offset: blob.offset + offset, length }, {
      ...client.authHeaders(),
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${offset}-${offset + length - 1}`,
    }, (n) => up.progress.advance(id, n));
    if (res.status === 416) {
      // The session holds another amount than we thought (an earlier request did land): go on from there.
      const held = heldBytes(String(res.headers.range ?? ''));
      up.progress.advance(id, held - offset - length);
      offset = held;
      continue;
    }
    if (res.status !== 202) throw new CliError(`uploading ${blob.digest} at ${offset}: HTTP ${res.status} ${errorSummary(res.body)}`, 1);
    location = String(res.headers.location ?? location);
    offset += length;
    await state.saveUpload(repo, blob.digest, { kind: 'chunked', location });
  }
  const done = await client.send('PUT', withDigest(location, blob.digest));
  if (done.status !== 201) throw new CliError(`finishing ${blob.digest}: HTTP ${done.status} ${errorSummary(done.text)}`, 1);
  up.progress.done(id, 'uploaded');
  await state.forgetUpload(repo, blob.digest);
  return 'uploaded';
}
