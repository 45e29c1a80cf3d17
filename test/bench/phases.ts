/**
 * The bench phases. Big transfers run in interleaved rounds (round 1 of every system, then
 * round 2 …, system order rotated each round) so drift on a shared machine spreads over all
 * systems alike. Big files are deleted from the stores after each system's round.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { payload } from './data.ts';
import { ask, expectStatus, type Framing } from './http.ts';
import { runLoad, type LoadResult } from './load.ts';
import { LOAD_REPO, MANIFEST_ACCEPT, prepareLoad } from './load-setup.ts';
import type { RawS3 } from './raw-s3.ts';
import { cpuSeconds, MB, type RssWatch } from './rss.ts';
import { add, type Table } from './stats.ts';
import type { RawHttp, RegistrySystem } from './systems.ts';
import { finishPutMs, pullBlob, pushBlob, smallUploads } from './transfers.ts';

const MiB = 1024 * 1024;
const RECLAIM_MIN_BYTES = 4 * MiB;

export interface Tables {
  pushChunked: Table;
  pushLength: Table;
  pull: Table;
  finish1g: Table;
  finish1m: Table;
  smallSerial: Table;
  smallParallel: Table;
  cpuPush: Table;
  cpuPull: Table;
}

export function newTables(sizeMb: number): Tables {
  const raw = { berth_s3: 'raw_s3_multipart', berth_fs: 'raw_http' };
  const t = (id: string, title: string, unit: string, better: 'higher' | 'lower', extra: Partial<Table> = {}): Table => ({ id, title, unit, better, samples: {}, ...extra });
  return {
    pushChunked: t('push_chunked', `Push ${sizeMb} MiB, docker framing (one PATCH, chunked, no length)`, 'MiB/s', 'higher', { raw }),
    pushLength: t('push_length', `Push ${sizeMb} MiB, skopeo framing (one PATCH with Content-Length)`, 'MiB/s', 'higher', { raw }),
    pull: t('pull', `Pull ${sizeMb} MiB (Berth on S3 follows the 307 to the presigned URL)`, 'MiB/s', 'higher', { raw: { berth_s3: 'raw_s3_get', berth_fs: 'raw_http' } }),
    finish1g: t('finish_put_1g', `Finishing PUT ?digest= after a ${sizeMb} MiB upload`, 'ms', 'lower', {
      raw: { berth_s3: 'raw_s3_complete' },
      note: 'raw_s3_complete: CompleteMultipartUpload of the same size on the same S3 server',
    }),
    finish1m: t('finish_put_1m', 'Finishing PUT ?digest= after a 1 MiB upload', 'ms', 'lower'),
    smallSerial: t('small_uploads_serial', '200 uploads of 4 KiB, one at a time (POST, PATCH, PUT each)', 's', 'lower'),
    smallParallel: t('small_uploads_c8', '200 uploads of 4 KiB, 8 at a time', 's', 'lower'),
    cpuPush: t('cpu_per_gib_pushed', `Server CPU per GiB pushed (${sizeMb} MiB pushes, both framings)`, 'cpu-s/GiB', 'lower', {
      note: 'CPU time of the registry process alone (Berth on S3: not the S3 server\'s).',
    }),
    cpuPull: t('cpu_per_gib_pulled', `Server CPU per GiB pulled (${sizeMb} MiB pulls)`, 'cpu-s/GiB', 'lower', {
      note: 'Berth on S3 answers 307: its CPU per GiB is that of one redirect.',
    }),
  };
}

/** Deletes every file of at least 4 MiB under `dir` (spent blobs, parts), keeping metadata. */
export async function reclaim(dir: string): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const info = await stat(file).catch(() => null);
    if (info && info.size >= RECLAIM_MIN_BYTES) await unlink(file).catch(() => {});
  }
}

const mibps = (bytes: number, ms: number): number => bytes / MiB / (ms / 1000);

export interface TransferContext {
  size: number;
  registries: RegistrySystem[];
  raw: RawS3;
  rawHttp: RawHttp;
  tables: Tables;
  /** Body bytes Berth on S3 itself sent for blob GETs (0 when every pull was redirected). */
  servedByBerthS3: number[];
  log(line: string): void;
}

/** Runs `step` and adds the server's CPU seconds per GiB moved to `table`. */
async function withCpu<T>(table: Table, sys: RegistrySystem, bytes: number, step: () => Promise<T>): Promise<T> {
  const before = cpuSeconds(sys.pid);
  const result = await step();
  add(table, sys.id, (cpuSeconds(sys.pid) - before) / (bytes / (1024 * MiB)));
  return result;
}

async function registryRound(ctx: TransferContext, sys: RegistrySystem): Promise<void> {
  const { size, tables } = ctx;
  const chunked = await withCpu(tables.cpuPush, sys, size, () => pushBlob(sys, 'bench/big', payload(size), 'chunked'));
  add(tables.pushChunked, sys.id, mibps(size, chunked.totalMs));
  add(tables.finish1g, sys.id, chunked.putMs);
  const pulled = await withCpu(tables.cpuPull, sys, size, () => pullBlob(sys, 'bench/big', chunked.digest, size));
  add(tables.pull, sys.id, mibps(size, pulled.ms));
  if (sys.id === 'berth_s3') ctx.servedByBerthS3.push(pulled.servedByRegistry);
  const length = await withCpu(tables.cpuPush, sys, size, () => pushBlob(sys, 'bench/big', payload(size), 'length'));
  add(tables.pushLength, sys.id, mibps(size, length.totalMs));
  add(tables.finish1g, sys.id, length.putMs);
  for (let i = 0; i < 3; i++) add(tables.finish1m, sys.id, await finishPutMs(sys, 'bench/finish', MiB));
  ctx.log(`  ${sys.id}: push chunked ${mibps(size, chunked.totalMs).toFixed(0)} MiB/s, length ${mibps(size, length.totalMs).toFixed(0)} MiB/s, pull ${mibps(size, pulled.ms).toFixed(0)} MiB/s${pulled.redirected ? ` (307, registry sent ${pulled.servedByRegistry} B)` : ''}`);
  for (const dir of sys.dataDirs) await reclaim(dir);
}

async function rawS3Round(ctx: TransferContext, round: number): Promise<void> {
  const { size, tables, raw } = ctx;
  const multipart = await raw.multipart(`raw/multipart-${round}`, payload(size));
  const multipartMs = multipart.ms;
  add(tables.pushChunked, 'raw_s3_multipart', mibps(size, multipartMs));
  add(tables.pushLength, 'raw_s3_multipart', mibps(size, multipartMs));
  // The store's own cost of finishing: what Berth on S3's PUT ?digest= cannot go below.
  add(tables.finish1g, 'raw_s3_complete', multipart.completeMs);
  await raw.remove(`raw/multipart-${round}`);
  const putMs = await raw.put(`raw/put-${round}`, payload(size));
  add(tables.pushLength, 'raw_s3_put', mibps(size, putMs));
  const getMs = await raw.get(`raw/put-${round}`, size);
  add(tables.pull, 'raw_s3_get', mibps(size, getMs));
  await raw.remove(`raw/put-${round}`);
  ctx.log(`  raw_s3: multipart ${mibps(size, multipartMs).toFixed(0)} MiB/s, put ${mibps(size, putMs).toFixed(0)} MiB/s, get ${mibps(size, getMs).toFixed(0)} MiB/s`);
}

async function rawHttpRound(ctx: TransferContext): Promise<void> {
  const { size, tables, rawHttp } = ctx;
  const send = async (framing: Framing): Promise<number> =>
    expectStatus(await ask({ url: `${rawHttp.url}/sink`, method: 'PUT', body: payload(size), framing }), [201], 'raw http PUT').ms;
  add(tables.pushChunked, 'raw_http', mibps(size, await send('chunked')));
  add(tables.pushLength, 'raw_http', mibps(size, await send('length')));
  const got = expectStatus(await ask({ url: `${rawHttp.url}/bytes/${size}`, method: 'GET' }), [200], 'raw http GET');
  if (got.bytes !== size) throw new Error(`raw http GET: ${got.bytes} bytes`);
  add(tables.pull, 'raw_http', mibps(size, got.ms));
}

export async function transferRounds(ctx: TransferContext, rounds: number): Promise<void> {
  type Step = { name: string; run(round: number): Promise<void> };
  const steps: Step[] = [
    ...ctx.registries.map((sys) => ({ name: sys.id, run: () => registryRound(ctx, sys) })),
    { name: 'raw_s3', run: (round: number) => rawS3Round(ctx, round) },
    { name: 'raw_http', run: () => rawHttpRound(ctx) },
  ];
  for (let round = 1; round <= rounds; round++) {
    ctx.log(`round ${round}/${rounds}`);
    const shift = (round - 1) % steps.length;
    for (const step of [...steps.slice(shift), ...steps.slice(0, shift)]) await step.run(round);
  }
}

/**
 * 200 uploads of 4 KiB per system and round, one at a time and 8 at a time. Each system first
 * does 400 unmeasured uploads (after 100, Berth's first round still measured 1.5x its later
 * ones): the first requests down a JavaScript path run in V8's interpreter until the JIT has
 * compiled them, a start-up cost a long-running registry pays once (the reference is compiled
 * ahead of time), so measuring it would compare warm-up, not serving.
 */
export async function smallUploadRounds(systems: RegistrySystem[], tables: Tables, rounds: number, log: (l: string) => void): Promise<void> {
  for (const sys of systems) {
    await smallUploads(sys, 'bench/small', 200, 4096, 1);
    await smallUploads(sys, 'bench/small', 200, 4096, 8);
  }
  log('  (warm-up: 400 unmeasured uploads per system)');
  for (let round = 1; round <= rounds; round++) {
    for (const sys of systems) {
      const serial = (await smallUploads(sys, 'bench/small', 200, 4096, 1)) / 1000;
      const parallel = (await smallUploads(sys, 'bench/small', 200, 4096, 8)) / 1000;
      add(tables.smallSerial, sys.id, serial);
      add(tables.smallParallel, sys.id, parallel);
      log(`  ${sys.id}: 200×4 KiB serial ${serial.toFixed(2)} s, 8-way ${parallel.toFixed(2)} s`);
    }
  }
}

export interface LoadRow extends LoadResult {
  endpoint: string;
  system: string;
  concurrency: number;
}

export const ENDPOINTS = ['base_get', 'manifest_head', 'manifest_get', 'blob_head', 'tags_list'] as const;

export async function loadCells(
  systems: RegistrySystem[],
  rawHttp: RawHttp,
  concurrencies: number[],
  durationMs: number,
  rounds: number,
  log: (l: string) => void,
): Promise<LoadRow[]> {
  const fixtures = new Map<string, Awaited<ReturnType<typeof prepareLoad>>>();
  for (const sys of systems) fixtures.set(sys.id, await prepareLoad(sys));
  const rows: LoadRow[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const concurrency of concurrencies) {
      // The generator's own ceiling: the same loop against a server that does nothing.
      const ceiling = await runLoad({ url: `${rawHttp.url}/`, method: 'GET', headers: {}, concurrency, durationMs }, rawHttp.pid);
      rows.push({ ...ceiling, endpoint: 'ceiling', system: 'raw_http', concurrency });
      for (const endpoint of ENDPOINTS) {
        for (const sys of systems) {
          const fx = fixtures.get(sys.id)!;
          const base = `${sys.url}/v2/`;
          const urls: Record<(typeof ENDPOINTS)[number], [string, 'GET' | 'HEAD']> = {
            base_get: [base, 'GET'],
            manifest_head: [`${base}${LOAD_REPO}/manifests/latest`, 'HEAD'],
            manifest_get: [`${base}${LOAD_REPO}/manifests/latest`, 'GET'],
            blob_head: [`${base}${LOAD_REPO}/blobs/${fx.layerDigest}`, 'HEAD'],
            tags_list: [`${base}${LOAD_REPO}/tags/list`, 'GET'],
          };
          const [url, method] = urls[endpoint];
          const headers = { ...sys.headers, Accept: MANIFEST_ACCEPT };
          const result = await runLoad({ url, method, headers, concurrency, durationMs }, sys.pid);
          rows.push({ ...result, endpoint, system: sys.id, concurrency });
          log(`  ${endpoint} c=${concurrency} ${sys.id}: ${result.rps.toFixed(0)} req/s p50 ${result.p50Ms.toFixed(2)} ms p99 ${result.p99Ms.toFixed(2)} ms server ${result.serverCpu.toFixed(2)} cores client ${result.clientCpu.toFixed(2)}${result.errors || result.ok !== result.requests ? ` non-2xx/errors ${JSON.stringify(result.statuses)} ${result.errors}` : ''}`);
        }
      }
    }
  }
  return rows;
}

/** Peak RSS of each process while it takes one push of `size` bytes. */
export async function bigPushRss(systems: RegistrySystem[], rss: RssWatch, size: number, log: (l: string) => void): Promise<Record<string, number>> {
  const peaks: Record<string, number> = {};
  for (const sys of systems) {
    rss.resetPeak(sys.pid);
    const push = await pushBlob(sys, 'bench/big', payload(size), 'chunked');
    peaks[sys.id] = rss.peak(sys.pid) / MB;
    log(`  ${sys.id}: ${(size / MiB).toFixed(0)} MiB push in ${(push.totalMs / 1000).toFixed(1)} s, peak RSS ${peaks[sys.id]!.toFixed(0)} MB`);
    for (const dir of sys.dataDirs) await reclaim(dir);
  }
  return peaks;
}
