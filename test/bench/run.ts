/**
 * `npm run bench`: Berth against CNCF Distribution 2.8.2 and the raw stores, side by side in one
 * run on this machine, loopback only. Prints a table per measurement and a final RATIOS line,
 * writes .tmp/bench-results.json and test/bench/RESULTS.md.
 *
 * Env: BERTH_BENCH_SIZE_MB (1024), BERTH_BENCH_ROUNDS (3, big transfers, mirror pulls and pushes),
 * BERTH_BENCH_LOAD_SECONDS (3 per cell), BERTH_BENCH_LOAD_ROUNDS (1), BERTH_BENCH_SMALL_ROUNDS (3),
 * BERTH_BENCH_MIRROR_MB (100, the image pulled through the mirror), BERTH_BENCH_PORT
 * (15600: uses the next 16 ports, and +20/+21 for the verify phase), BERTH_BENCH_PHASES
 * (transfers,small,load,rss,mirror,push,verify,costs,worker,webhooks: a subset; push is berth push vs
 * skopeo copy and raw multipart, verify the hashing and read-back rates behind direct-upload
 * verification, costs the server CPU and store calls per operation, worker the Worker's CPU per
 * request in workerd; costs and worker feed the cost model; webhooks manifest PUT latency with
 * no hook, a healthy receiver and a dead one, on ports +30…+34), BERTH_BENCH_WORKER_REQUESTS (300
 * per request kind in workerd), BERTH_BENCH_LIST_SIZE (10000 tags and
 * repositories), BERTH_BENCH_MANIFEST_LAYERS (10000), BERTH_BENCH_COST_CPU_MS (500: server CPU
 * gathered per operation before dividing), BERTH_BENCH_COST_OPS (a comma-separated subset of the
 * operations, by id: costs.ts),
 * BERTH_BENCH_PROFILE=<dir> (V8 CPU profiles of the Berth processes), BERTH_BENCH_NO_RESULTS=1
 * (do not rewrite RESULTS.md, for trial runs).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { payload } from './data.ts';
import { bigPushRss, loadCells, newTables, smallUploadRounds, transferRounds, type LoadRow } from './phases.ts';
import { rawS3 } from './raw-s3.ts';
import { newPushTables, pushRounds } from './push-phase.ts';
import { measureHashRates, type HashRates } from './hash-rates.ts';
import { loadMarkdown, loadText, ratiosLine } from './summary.ts';
import { MIRROR_PREFIX, mirrorRounds, mirrorTable } from './mirror.ts';
import { markdownTable, textTable } from './report.ts';
import { MB, RssWatch } from './rss.ts';
import { rows, type Table } from './stats.ts';
import { BENCH_ADMIN, startBerth, startBerthS3, startCountedTwin, startRawHttp, startReference, startS3, type CountedTwin, type RawHttp, type RegistrySystem } from './systems.ts';
import { operationCosts, type CostResult } from './costs.ts';
import { costsMarkdown, costsText } from './cost-report.ts';
import { costModel, costModelMarkdown, type CallsByOp } from './cost-model.ts';
import { workerCpu, workerCpuMarkdown, workerCpuText, type WorkerCpu } from './worker-report.ts';
import { spacedWebhookTable, webhookRounds, webhookTable } from './webhook-phase.ts';
import type { S3Server } from '../support/s3-server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MiB = 1024 * 1024;

function envInt(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be an integer in ${min}..${max}, got "${raw}"`);
  return value;
}

const settings = {
  sizeMb: envInt('BERTH_BENCH_SIZE_MB', 1024, 1, 16 * 1024),
  rounds: envInt('BERTH_BENCH_ROUNDS', 3, 1, 20),
  loadSeconds: envInt('BERTH_BENCH_LOAD_SECONDS', 3, 1, 60),
  loadRounds: envInt('BERTH_BENCH_LOAD_ROUNDS', 1, 1, 10),
  smallRounds: envInt('BERTH_BENCH_SMALL_ROUNDS', 3, 1, 10),
  mirrorMb: envInt('BERTH_BENCH_MIRROR_MB', 100, 1, 4096),
  port: envInt('BERTH_BENCH_PORT', 15600, 1024, 65000),
  phases: new Set((process.env.BERTH_BENCH_PHASES ?? 'transfers,small,load,rss,mirror,push,verify,costs,worker,webhooks').split(',').map((p) => p.trim())),
  listSize: envInt('BERTH_BENCH_LIST_SIZE', 10_000, 10, 100_000),
  manifestLayers: envInt('BERTH_BENCH_MANIFEST_LAYERS', 10_000, 10, 100_000),
  costCpuMs: envInt('BERTH_BENCH_COST_CPU_MS', 500, 10, 60_000),
  profileDir: process.env.BERTH_BENCH_PROFILE ? path.resolve(process.env.BERTH_BENCH_PROFILE) : undefined,
  concurrencies: [16, 64],
};

const log = (line: string): void => console.log(line);

function machine(): Record<string, string | number> {
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    node: process.version,
    reference: (() => {
      try {
        return execFileSync('docker-registry', ['--version'], { encoding: 'utf8' }).trim();
      } catch {
        return 'docker-registry (version unknown)';
      }
    })(),
    loadavgAtStart: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  };
}

async function main(): Promise<void> {
  const size = settings.sizeMb * MiB;
  const info = machine();
  log(`Berth bench ${info.date}: ${info.nproc} cores (${info.cpu}), ${info.memoryGiB} GiB, node ${info.node}, ${info.reference}`);
  log(`size ${settings.sizeMb} MiB, ${settings.rounds} rounds, load ${settings.loadSeconds} s per cell, load average ${info.loadavgAtStart}`);

  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stoppers.splice(0).reverse()) await stop().catch((e: unknown) => log(`stop failed: ${String(e)}`));
  };
  const onSignal = (): void => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const p = settings.port;
  const prof = settings.profileDir;
  if (prof) mkdirSync(prof, { recursive: true });
  let s3: S3Server | undefined;
  let rawHttp: RawHttp | undefined;
  const registries: RegistrySystem[] = [];
  const tables = newTables(settings.sizeMb);
  const mirrorPulls = mirrorTable(settings.mirrorMb);
  const pushTables = newPushTables(settings.sizeMb);
  const webhookLatency = webhookTable(50);
  const webhookSpaced = spacedWebhookTable(50);
  let hashRates: HashRates | undefined;
  const servedByBerthS3: number[] = [];
  let loadRows: LoadRow[] = [];
  let push2gRss: Record<string, number> = {};
  const runPeak: Record<string, number> = {};
  const idleRss: Record<string, number> = {};
  let rss: RssWatch | undefined;
  let costs: CostResult | undefined;
  let worker: WorkerCpu | undefined;
  try {
    s3 = await startS3(p + 4);
    stoppers.push(() => s3!.stop());
    const start = async (sys: Promise<RegistrySystem>): Promise<RegistrySystem> => {
      const started = await sys;
      stoppers.push(() => started.stop());
      return started;
    };
    const berthFs = await start(startBerth({ id: 'berth_fs', port: p + 1, auth: true, cpuProfDir: prof }));
    const berthS3 = await start(startBerthS3({ id: 'berth_s3', port: p + 3, s3, auth: true, cpuProfDir: prof }));
    const reference = await start(startReference('reference', p + 5));
    const berthFsOpen = await start(startBerth({ id: 'berth_fs_noauth', port: p + 2, auth: false, cpuProfDir: prof }));
    registries.push(berthFs, berthS3, reference);
    rawHttp = await startRawHttp(p + 6);
    stoppers.push(() => rawHttp!.stop());
    const pids: Record<string, number> = { berth_fs: berthFs.pid, berth_fs_noauth: berthFsOpen.pid, berth_s3: berthS3.pid, reference: reference.pid, s3_server: s3.pid };
    rss = new RssWatch(Object.values(pids));

    const hashStarted = performance.now();
    payload(size);
    payload(2 * size);
    log(`SHA-256 of the common prefixes (${settings.sizeMb} and ${2 * settings.sizeMb} MiB) in ${((performance.now() - hashStarted) / 1000).toFixed(1)} s, once per run`);

    for (const [id, pid] of Object.entries(pids)) idleRss[id] = rss.peak(pid) / MB;
    log(`RSS after start (MB): ${Object.entries(idleRss).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' ')}`);
    // First, on fresh processes: a heap grown by earlier phases would hide what one push needs.
    if (settings.phases.has('rss')) {
      log(`\n== peak RSS during one ${2 * settings.sizeMb} MiB push (fresh processes)`);
      push2gRss = await bigPushRss([berthFs, berthS3, reference], rss, 2 * size, log);
    }
    if (settings.phases.has('transfers')) {
      log(`\n== big transfers: ${settings.rounds} interleaved rounds`);
      await transferRounds({ size, registries, raw: rawS3(s3), rawHttp, tables, servedByBerthS3, log }, settings.rounds);
    }
    if (settings.phases.has('small')) {
      log('\n== 200 small uploads');
      await smallUploadRounds([berthFs, berthFsOpen, berthS3, reference], tables, settings.smallRounds, log);
    }
    if (settings.phases.has('load')) {
      log(`\n== request load: ${settings.concurrencies.join(' and ')} connections, ${settings.loadSeconds} s per cell`);
      loadRows = await loadCells([berthFs, berthFsOpen, berthS3, reference], rawHttp, settings.concurrencies, settings.loadSeconds * 1000, settings.loadRounds, log);
    }
    if (settings.phases.has('mirror')) {
      log(`\n== ${settings.mirrorMb} MiB image pulled through the mirror: ${settings.rounds} rounds`);
      const mirror = await start(startBerth({ id: 'berth_mirror', port: p + 7, auth: false, cpuProfDir: prof, env: { BERTH_MIRRORS: `${MIRROR_PREFIX}=${reference.url}` } }));
      await mirrorRounds({ upstream: reference, mirror, sizeMb: settings.mirrorMb, table: mirrorPulls, log }, settings.rounds);
    }
    if (settings.phases.has('push')) {
      log(`\n== berth push vs skopeo copy and raw multipart: ${settings.rounds} interleaved rounds`);
      await pushRounds({ berthS3, raw: rawS3(s3), credentials: BENCH_ADMIN, sizeMb: settings.sizeMb, rounds: settings.rounds, tables: pushTables, log });
    }
    if (settings.phases.has('costs')) {
      log(`\n== per-operation costs: server CPU and store calls (${settings.listSize} tags and repositories, ${settings.manifestLayers}-layer manifest)`);
      const twins = new Map<string, CountedTwin>();
      for (const [sys, port] of [[berthFs, p + 8], [berthS3, p + 10]] as const) {
        const twin = await startCountedTwin(sys, port, port + 1);
        stoppers.push(() => twin.stop());
        twins.set(sys.id, twin);
      }
      costs = await withLogsOnFailure([...twins.values()], () => operationCosts([berthFs, berthS3, reference], twins, {
        listSize: settings.listSize,
        manifestLayers: settings.manifestLayers,
        imageLayers: 8,
        imageLayerBytes: 256 * 1024,
        partBytes: 8 * MiB,
        minCpuSeconds: settings.costCpuMs / 1000,
        maxSeconds: 20,
        only: (process.env.BERTH_BENCH_COST_OPS ?? '').split(',').map((o) => o.trim()).filter(Boolean),
      }, log));
    }
    for (const [id, pid] of Object.entries(pids)) runPeak[id] = rss.peak(pid) / MB;
    if (settings.phases.has('webhooks')) {
      log(`\n== manifest PUT latency with and without a webhook: ${settings.rounds} interleaved rounds`);
      await webhookRounds({ port: p + 30, rounds: settings.rounds, perRound: 50, table: webhookLatency, spaced: webhookSpaced, log });
    }
    if (settings.phases.has('worker')) {
      log('\n== the Worker in workerd (wrangler dev, local R2): CPU per request from the isolate\'s CPU profile');
      worker = await workerCpu(p, log);
    }
    if (settings.phases.has('verify')) {
      log('\n== hashing and read-back rates (direct-upload verification)');
      hashRates = await measureHashRates(Math.min(settings.sizeMb, 512), p + 20);
      log(Object.entries(hashRates).map(([k, v]) => `${k}=${Math.round(v)}`).join(' '));
    }
  } finally {
    rss?.stop();
    await stopAll();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  const allTables: Table[] = [...Object.values(tables), mirrorPulls, ...Object.values(pushTables), webhookLatency, webhookSpaced].filter((t) => Object.keys(t.samples).length > 0);
  for (const table of allTables) log(textTable(table));
  if (loadRows.length) log(loadText(loadRows));
  if (costs) log(costsText(costs));
  if (worker) log(workerCpuText(worker));
  const s3Calls: CallsByOp = Object.fromEntries((costs?.calls ?? []).filter((c) => c.system === 'berth_s3').map((c) => [c.op, c.calls]));
  const model = costs ? costModel(s3Calls, Object.fromEntries((worker?.results ?? []).map((r) => [r.op, r.cpuMs]))) : undefined;
  log(`\nRSS after start (MB): ${Object.entries(idleRss).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' ')}`);
  log('Peak RSS (MB, VmHWM): whole run ' + Object.entries(runPeak).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' '));
  if (Object.keys(push2gRss).length) log(`Peak RSS during the ${2 * settings.sizeMb} MiB push: ` + Object.entries(push2gRss).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' '));
  if (servedByBerthS3.length) log(`Bytes Berth on S3 served itself on blob GETs: ${servedByBerthS3.join(', ')} (0 expected: 307 to the store)`);
  const ratios = ratiosLine(tables, loadRows, push2gRss, runPeak, pushTables);
  info.loadavgAtEnd = os.loadavg().map((v) => v.toFixed(2)).join(' ');

  const json = {
    machine: info,
    settings: { ...settings, phases: [...settings.phases] },
    tables: allTables.map((t) => ({ id: t.id, title: t.title, unit: t.unit, better: t.better, samples: t.samples, rows: rows(t) })),
    load: loadRows,
    peakRssMb: { afterStart: idleRss, wholeRun: runPeak, duringBigPush: push2gRss },
    servedByBerthS3,
    hashRates,
    costs,
    worker,
    costModel: model,
    ratios,
  };
  mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  writeFileSync(path.join(ROOT, '.tmp', 'bench-results.json'), `${JSON.stringify(json, null, 2)}\n`);
  if (!process.env.BERTH_BENCH_NO_RESULTS) {
    const md = [
      '# Berth benchmark results',
      '',
      `Generated by \`npm run bench\` (test/bench/run.ts) on ${info.date}.`,
      `Machine: ${info.nproc} cores (${info.cpu}), ${info.memoryGiB} GiB RAM, Node ${info.node}; reference: ${info.reference}.`,
      `Load average at start ${info.loadavgAtStart}, at end ${info.loadavgAtEnd} (the cores are shared with other work: absolute figures are noisy, ratios from interleaved rounds less so).`,
      `Payload ${settings.sizeMb} MiB of incompressible bytes (AES-CTR keystream), ${settings.rounds} interleaved rounds; load cells ${settings.loadSeconds} s each.`,
      'Every process (registries, S3 server, load generator, this client) runs on the same 2 cores over loopback.',
      'The reference registry runs without auth; berth_fs and berth_s3 verify an ES256 JWT on every request; berth_fs_noauth is Berth with BERTH_AUTH=none.',
      'Ratios: > 1 means Berth did better (throughput berth/other, time other/berth).',
      '',
      ...allTables.map(markdownTable),
      loadRows.length ? loadMarkdown(loadRows) : '',
      costs ? costsMarkdown(costs) : '',
      worker ? workerCpuMarkdown(worker) : '',
      model ? costModelMarkdown(model) : '',
      '### Peak RSS (MB)',
      '',
      `After start: ${Object.entries(idleRss).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}. Whole run: ${Object.entries(runPeak).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}.`,
      Object.keys(push2gRss).length ? `During one ${2 * settings.sizeMb} MiB push: ${Object.entries(push2gRss).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} (goal for Berth: < 128, idle < 60).` : '',
      servedByBerthS3.length ? `\nBlob bytes Berth on S3 served itself on pulls: ${servedByBerthS3.join(', ')} (0 expected).` : '',
      hashRates ? `\n### Direct-upload verification rates (MiB/s, ${hashRates.sizeMb} MiB)\n\nSHA-256 native: Node ${Math.round(hashRates.nodeNativeMiBps)}, workerd ${Math.round(hashRates.workerdNativeMiBps)}; resumable (@noble/hashes): Node ${Math.round(hashRates.nodeNobleMiBps)}, workerd ${Math.round(hashRates.workerdNobleMiBps)}; read back from the local S3 server and hashed: ${Math.round(hashRates.s3ReadAndHashMiBps)}. README "How large a layer each runtime verifies" computes its limits from these.` : '',
      '',
      '```',
      ratios,
      '```',
      '',
    ];
    writeFileSync(path.join(ROOT, 'test', 'bench', 'RESULTS.md'), md.join('\n'));
  }
  log(`\n${ratios}`);
}

/** Runs `phase`; when it fails, prints the end of each system's own output before failing. */
async function withLogsOnFailure<T>(systems: RegistrySystem[], phase: () => Promise<T>): Promise<T> {
  try {
    return await phase();
  } catch (error) {
    for (const sys of systems) console.error(`--- last output of ${sys.id}:\n${sys.logs().slice(-4000)}`);
    throw error;
  }
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
