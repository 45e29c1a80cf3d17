/**
 * The monthly cost of a team registry, from the store calls Berth was measured to make per
 * operation (costs.ts) and the Worker's measured CPU per request (worker-cpu.ts), priced with the
 * providers' public price lists (dated below). Pure arithmetic: every input is in the output.
 *
 * The workload: `pushesPerDay` pushes and `pullsPerDay` pulls of an image of `imageBytes` in
 * `layers` equal layers, `sharedFraction` of them unchanged from one push to the next. A push
 * uploads the new layers and a new config and HEADs the shared layers (docker skips those); a pull
 * fetches the manifest, the config and the new layers (the client has the shared ones). What is
 * stored is what the last `retentionDays` of pushes added (GC frees the rest).
 */

export interface Workload {
  pushesPerDay: number;
  pullsPerDay: number;
  imageBytes: number;
  layers: number;
  sharedFraction: number;
  retentionDays: number;
  /** Berth's upload part size (BERTH_PART_SIZE_MB). */
  partBytes: number;
}

export const TEAM_REGISTRY: Workload = {
  pushesPerDay: 200,
  pullsPerDay: 20_000,
  imageBytes: 300e6,
  layers: 8,
  sharedFraction: 0.9,
  retentionDays: 30,
  partBytes: 8 * 1024 * 1024,
};

const DAYS = 30;
const GB = 1e9;
const MiB = 1024 * 1024;

/**
 * Public list prices in USD. R2: developers.cloudflare.com/r2/pricing (Standard storage; the same
 * figures in a transcription of that page dated 2026-06-13), read 2026-12-01. S3: Standard,
 * us-east-1, aws.amazon.com/s3/pricing, as quoted in March 2026 (the page renders its tables with
 * scripts). Workers: Paid plan, developers.cloudflare.com/workers/platform/pricing (Standard usage
 * model, identical on the Workflows pricing page), read 2026-12-01. Lambda: arm64 (Berth's
 * template), us-east-1, aws.amazon.com/lambda/pricing, as in the 2026 price tables.
 */
export const PRICES = {
  r2: { storageGbMonth: 0.015, classAPerMillion: 4.5, classBPerMillion: 0.36, egressPerGb: 0, freeStorageGb: 10, freeClassA: 1e6, freeClassB: 10e6 },
  // Egress tiers per month: first 10 TB, next 40 TB, next 100 TB, beyond.
  s3: { storageGbMonth: 0.023, classAPerMillion: 5.0, classBPerMillion: 0.4, egressTiers: [[10_000, 0.09], [40_000, 0.085], [100_000, 0.07], [Infinity, 0.05]], freeEgressGb: 100 },
  workers: { monthly: 5, includedRequests: 10e6, perMillionRequests: 0.3, includedCpuMs: 30e6, perMillionCpuMs: 0.02 },
  lambda: { perMillionRequests: 0.2, perGbSecond: 0.0000133334, memoryGb: 1, freeRequests: 1e6, freeGbSeconds: 400_000 },
} as const;

/** ObjectStore methods by the operation class they are billed as (S3 and R2 alike). */
const CLASS_A = new Set(['put', 'list', 'listKeys', 'createMultipart', 'uploadPart', 'completeMultipart']);
const CLASS_B = new Set(['get', 'head']);

export type Calls = Record<string, number>;

/** Store calls per operation (costs.ts ids) of one system. */
export type CallsByOp = Record<string, Calls>;

export interface Assumptions {
  /** Round trip of one S3 call from Lambda in the same region (not measured here). */
  s3CallMs: number;
  /** Berth's CPU per request on Lambda, when not measured (ms). */
  lambdaCpuMs: number;
}

export const ASSUMED: Assumptions = { s3CallMs: 20, lambdaCpuMs: 5 };

export interface Line {
  item: string;
  quantity: number;
  unit: string;
  usd: number;
  /** The same without free allowances or included usage (what it adds on an account that uses them up). */
  listUsd: number;
}

export interface Deployment {
  name: string;
  lines: Line[];
  total: number;
  listTotal: number;
}

export interface CostModel {
  workload: Workload;
  perPush: { classA: number; classB: number; requests: number };
  perPull: { classA: number; classB: number; requests: number; egressBytes: number };
  storedGb: number;
  deployments: Deployment[];
  missing: string[];
}

function classes(calls: Calls | undefined): { a: number; b: number } {
  let a = 0;
  let b = 0;
  for (const [method, n] of Object.entries(calls ?? {})) {
    if (CLASS_A.has(method)) a += n;
    else if (CLASS_B.has(method)) b += n;
  }
  return { a, b };
}

/** Store calls of one new layer of `bytes`, from the measured 3-parts-and-a-tail upload. */
function layerCalls(byOp: CallsByOp, bytes: number, partBytes: number): { a: number; b: number } {
  const measured = classes(byOp.layer_upload_parts);
  if (bytes < partBytes) return classes(byOp.layer_upload_1m);
  // Each further full part is one more UploadPart (class A).
  return { a: measured.a + (Math.floor(bytes / partBytes) - 3), b: measured.b };
}

export function costModel(byOp: CallsByOp, workerCpuMs: Record<string, number>, w: Workload = TEAM_REGISTRY, assumed: Assumptions = ASSUMED): CostModel {
  const missing = ['layer_upload_1m', 'layer_upload_parts', 'blob_head', 'manifest_put', 'manifest_get', 'blob_get'].filter((op) => !byOp[op]);
  const layerBytes = w.imageBytes / w.layers;
  const newLayers = w.layers * (1 - w.sharedFraction);
  const sharedLayers = w.layers - newLayers;

  const layer = layerCalls(byOp, layerBytes, w.partBytes);
  const config = classes(byOp.layer_upload_1m);
  const head = classes(byOp.blob_head);
  const manifestPut = classes(byOp.manifest_put);
  const perPush = {
    classA: config.a + newLayers * layer.a + sharedLayers * head.a + manifestPut.a,
    classB: config.b + newLayers * layer.b + sharedLayers * head.b + manifestPut.b,
    // GET /v2/, the token, 5 per new blob (HEAD, POST, PATCH, PUT, HEAD), a HEAD per shared layer, the manifest.
    requests: 2 + 5 * (1 + newLayers) + sharedLayers + 1,
  };
  const manifestGet = classes(byOp.manifest_get);
  const blobGet = classes(byOp.blob_get);
  const blobsPulled = 1 + newLayers;
  const perPull = {
    classA: manifestGet.a + blobsPulled * blobGet.a,
    // Each blob GET is answered with a 307; the client's GET of the presigned URL is one more read.
    classB: manifestGet.b + blobsPulled * (blobGet.b + 1),
    requests: 2 + 1 + blobsPulled,
    egressBytes: newLayers * layerBytes,
  };
  const month = (perDay: number): number => perDay * DAYS;
  const classA = month(w.pushesPerDay * perPush.classA + w.pullsPerDay * perPull.classA);
  const classB = month(w.pushesPerDay * perPush.classB + w.pullsPerDay * perPull.classB);
  const requests = month(w.pushesPerDay * perPush.requests + w.pullsPerDay * perPull.requests);
  const egressGb = month(w.pullsPerDay * perPull.egressBytes) / GB;
  const storedGb = (w.imageBytes + w.retentionDays * w.pushesPerDay * newLayers * layerBytes) / GB;

  const r2 = PRICES.r2;
  const workers = PRICES.workers;
  // Worker CPU: pulls are manifest GETs and blob GETs (a 307: measured as blob HEAD, the lookup is the same).
  const pullCpu = (workerCpuMs.manifest_get ?? NaN) + blobsPulled * (workerCpuMs.blob_head ?? NaN) + 2 * (workerCpuMs.base_get ?? NaN);
  // Pushes: uploads grow with size (per MiB from the 1 MiB and 16 MiB uploads), plus the HEADs.
  const upload1m = workerCpuMs.layer_upload_1m ?? NaN;
  const perMiB = ((workerCpuMs.layer_upload_16m ?? NaN) - upload1m) / 15;
  const uploadCpu = (bytes: number): number => upload1m + Math.max(0, bytes / MiB - 1) * perMiB;
  const heads = (workerCpuMs.blob_head ?? NaN) * (sharedLayers + 2 * (1 + newLayers));
  const pushCpu = uploadCpu(0) + newLayers * uploadCpu(layerBytes) + heads + 2 * (workerCpuMs.base_get ?? NaN) + (workerCpuMs.manifest_put ?? NaN);
  const cpuMs = month(w.pullsPerDay * pullCpu + w.pushesPerDay * pushCpu);
  const beyond = (quantity: number, free: number): number => Math.max(0, quantity - free);
  const line = (item: string, quantity: number, unit: string, price: (q: number) => number, free = 0): Line => ({
    item,
    quantity,
    unit,
    usd: price(beyond(quantity, free)),
    listUsd: price(quantity),
  });
  const cloudflare: Line[] = [
    line('R2 storage', storedGb, 'GB-month', (q) => q * r2.storageGbMonth, r2.freeStorageGb),
    line('R2 class A operations', classA, 'requests', (q) => (q / 1e6) * r2.classAPerMillion, r2.freeClassA),
    line('R2 class B operations', classB, 'requests', (q) => (q / 1e6) * r2.classBPerMillion, r2.freeClassB),
    line('R2 egress', egressGb, 'GB', () => 0),
    { item: 'Workers Paid plan', quantity: 1, unit: 'month', usd: workers.monthly, listUsd: workers.monthly },
    line('Worker requests', requests, 'requests', (q) => (q / 1e6) * workers.perMillionRequests, workers.includedRequests),
    line('Worker CPU (measured per request in workerd)', cpuMs, 'CPU-ms', (q) => (q / 1e6) * workers.perMillionCpuMs, workers.includedCpuMs),
  ];
  const s3 = PRICES.s3;
  const lambda = PRICES.lambda;
  const callsPerRequest = (classA + classB) / Math.max(1, requests);
  const gbSeconds = (requests * (assumed.lambdaCpuMs + callsPerRequest * assumed.s3CallMs) / 1000) * lambda.memoryGb;
  const egressUsd = (gb: number): number => {
    let usd = 0;
    let left = gb;
    for (const [size, price] of s3.egressTiers) {
      const inTier = Math.min(left, size);
      usd += inTier * price;
      left -= inTier;
      if (left <= 0) break;
    }
    return usd;
  };
  const aws: Line[] = [
    line('S3 storage', storedGb, 'GB-month', (q) => q * s3.storageGbMonth),
    line('S3 PUT/LIST requests', classA, 'requests', (q) => (q / 1e6) * s3.classAPerMillion),
    line('S3 GET/HEAD requests', classB, 'requests', (q) => (q / 1e6) * s3.classBPerMillion),
    line('S3 egress to the internet', egressGb, 'GB', egressUsd, s3.freeEgressGb),
    line('Lambda requests', requests, 'requests', (q) => (q / 1e6) * lambda.perMillionRequests, lambda.freeRequests),
    line(`Lambda duration (${lambda.memoryGb} GB; ${assumed.lambdaCpuMs} ms + ${assumed.s3CallMs} ms per S3 call, assumed)`, gbSeconds, 'GB-s', (q) => q * lambda.perGbSecond, lambda.freeGbSeconds),
  ];
  const total = (lines: Line[]): number => lines.reduce((n, l) => n + l.usd, 0);
  const listTotal = (lines: Line[]): number => lines.reduce((n, l) => n + l.listUsd, 0);
  return {
    workload: w,
    perPush,
    perPull,
    storedGb,
    deployments: [
      { name: 'Cloudflare: Worker + R2 (pulls redirected to presigned R2 URLs)', lines: cloudflare, total: total(cloudflare), listTotal: listTotal(cloudflare) },
      { name: 'AWS: Lambda + S3 (pulls redirected to presigned S3 URLs)', lines: aws, total: total(aws), listTotal: listTotal(aws) },
    ],
    missing,
  };
}

const usd = (v: number): string => (Number.isNaN(v) ? '-' : `$${v < 10 ? v.toFixed(2) : v.toFixed(0)}`);
const qty = (v: number): string => (Number.isNaN(v) ? '-' : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)} k` : v.toFixed(1));

export function costModelMarkdown(m: CostModel): string {
  const w = m.workload;
  const lines: string[] = [
    '### Cost model: a team registry, per month',
    '',
    `Workload: ${w.pushesPerDay} pushes and ${w.pullsPerDay.toLocaleString('en')} pulls a day of a ${w.imageBytes / 1e6} MB image in ${w.layers} layers, ` +
      `${Math.round(w.sharedFraction * 100)} % of them unchanged between pushes (a push uploads ${(w.layers * (1 - w.sharedFraction)).toFixed(1)} new layers and a config and HEADs the rest; ` +
      `a pull fetches the manifest, the config and the new layers); what the last ${w.retentionDays} days of pushes added stays stored. 30 days a month.`,
    '',
    `From the store calls measured above (Berth on S3; the R2 binding makes the same calls): per push ${m.perPush.classA.toFixed(1)} class A (PUT, LIST, multipart) and ` +
      `${m.perPush.classB.toFixed(1)} class B (GET, HEAD) operations in ${m.perPush.requests.toFixed(1)} requests; per pull ${m.perPull.classA.toFixed(1)} class A and ` +
      `${m.perPull.classB.toFixed(1)} class B (the client's GETs of presigned URLs included) in ${m.perPull.requests.toFixed(1)} requests, ` +
      `${(m.perPull.egressBytes / 1e6).toFixed(0)} MB of egress. Stored: ${m.storedGb.toFixed(0)} GB.`,
    '',
  ];
  for (const d of m.deployments) {
    lines.push(
      `**${d.name}: ${usd(d.total)} a month** (${usd(d.listTotal)} without free allowances and included usage)`,
      '',
      '| item | quantity | unit | USD | USD without free allowances |',
      '|---|---:|---|---:|---:|',
    );
    for (const l of d.lines) lines.push(`| ${l.item} | ${qty(l.quantity)} | ${l.unit} | ${usd(l.usd)} | ${usd(l.listUsd)} |`);
    const top = [...d.lines].sort((a, b) => b.listUsd - a.listUsd)[0];
    if (top && d.listTotal > 0) lines.push('', `Largest item without free allowances: ${top.item}, ${Math.round((100 * top.listUsd) / d.listTotal)} % of that total.`);
    // What Berth's own behaviour sets: operations, requests and CPU (not bytes stored or sent, nor the plan).
    const own = d.lines.filter((l) => /operations|requests|CPU|duration/.test(l.item)).sort((a, b) => b.listUsd - a.listUsd);
    if (own.length) lines.push(`Of what Berth's requests and store calls decide: ${own.map((l) => `${l.item} ${usd(l.listUsd)}`).join(', ')}.`);
    lines.push('');
  }
  lines.push(
    'Prices: R2 $0.015/GB-month, class A $4.50 and class B $0.36 per million, egress free (free tier: 10 GB-month, 1 M A, 10 M B); ' +
      'developers.cloudflare.com/r2/pricing, read 2026-12-01 (figures unchanged since at least 2026-06-13). ' +
      'Workers Paid: $5/month with 10 M requests and 30 M CPU-ms, then $0.30 per million requests and $0.02 per million CPU-ms; ' +
      'developers.cloudflare.com/workers/platform/pricing, read 2026-12-01. ' +
      'S3 Standard us-east-1: $0.023/GB-month, $0.005 per 1,000 PUT/COPY/POST/LIST, $0.0004 per 1,000 GET/HEAD, DELETE free, ' +
      'egress $0.09/GB for the first 10 TB a month, $0.085 the next 40 TB, $0.07 the next 100 TB (100 GB/month free); aws.amazon.com/s3/pricing as quoted in March 2026. ' +
      'Lambda arm64 us-east-1: $0.20 per million requests, $0.0000133334 per GB-s (free: 1 M requests, 400,000 GB-s); aws.amazon.com/lambda/pricing, 2026.',
    '',
  );
  if (m.missing.length) lines.push(`Not measured in this run (cells show -): ${m.missing.join(', ')}.`, '');
  return lines.join('\n');
}
