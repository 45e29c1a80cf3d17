/** The request-load table (text and markdown) and the final one-line RATIOS summary. */
import type { LoadRow, Tables } from './phases.ts';
import type { PushTables } from './push-phase.ts';
import { fmt, median, ratio, REFERENCE } from './stats.ts';

interface LoadSummary {
  endpoint: string;
  concurrency: number;
  system: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  serverCpu: number;
  clientCpu: number;
  failed: number;
}

function summarise(rows: LoadRow[]): LoadSummary[] {
  const groups = new Map<string, LoadRow[]>();
  for (const row of rows) {
    const key = `${row.endpoint}|${row.concurrency}|${row.system}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return [...groups.values()].map((g) => ({
    endpoint: g[0]!.endpoint,
    concurrency: g[0]!.concurrency,
    system: g[0]!.system,
    rps: median(g.map((r) => r.rps)),
    p50Ms: median(g.map((r) => r.p50Ms)),
    p99Ms: median(g.map((r) => r.p99Ms)),
    serverCpu: median(g.map((r) => r.serverCpu)),
    clientCpu: median(g.map((r) => r.clientCpu)),
    failed: g.reduce((n, r) => n + r.errors + (r.requests - r.ok), 0),
  }));
}

const HEADER = ['endpoint', 'conns', 'system', 'req/s', 'p50 ms', 'p99 ms', 'rps vs ref', 'p99 vs ref', 'server cores', 'client cores', 'failed'];

function loadCells(rows: LoadRow[]): string[][] {
  const all = summarise(rows);
  const ref = (s: LoadSummary): LoadSummary | undefined =>
    all.find((r) => r.endpoint === s.endpoint && r.concurrency === s.concurrency && r.system === REFERENCE);
  return all.map((s) => {
    const r = ref(s);
    const vs = r && s.system !== REFERENCE && s.endpoint !== 'ceiling';
    return [
      s.endpoint,
      String(s.concurrency),
      s.system,
      fmt(s.rps),
      fmt(s.p50Ms),
      fmt(s.p99Ms),
      vs ? `${fmt(s.rps / r.rps)}×` : '',
      vs ? `${fmt(r.p99Ms / s.p99Ms)}×` : '',
      fmt(s.serverCpu),
      fmt(s.clientCpu),
      String(s.failed),
    ];
  });
}

const LOAD_NOTE =
  'One Node load generator process (keep-alive http.Agent, fixed connections, fixed duration). ' +
  '"ceiling" is the generator against a server that does nothing: the most it can send. A Node server ' +
  'runs JavaScript on one thread (its cores can exceed 1.0 with libuv and GC threads); Go (reference) uses both cores. ' +
  '"p99 vs ref" > 1 means Berth\'s p99 is lower.';

export function loadText(rows: LoadRow[]): string {
  const body = loadCells(rows);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (row: string[]): string => row.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`\nRequest load [${LOAD_NOTE}]`, line(HEADER), ...body.map(line)].join('\n');
}

export function loadMarkdown(rows: LoadRow[]): string {
  return [
    '### Request load',
    '',
    LOAD_NOTE,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map((_, i) => (i < 3 ? '---' : '---:')).join('|')}|`,
    ...loadCells(rows).map((row) => `| ${row.join(' | ')} |`),
    '',
  ].join('\n');
}

export function ratiosLine(tables: Tables, loadRows: LoadRow[], push2gRss: Record<string, number>, runPeak: Record<string, number>, push?: PushTables): string {
  const parts: string[] = ['RATIOS'];
  const pair = (label: string, value: number | undefined): void => {
    if (value !== undefined && !Number.isNaN(value)) parts.push(`${label}=${fmt(value)}`);
  };
  for (const [name, table] of [['push_chunked', tables.pushChunked], ['push_length', tables.pushLength]] as const) {
    parts.push(name);
    pair('berth_fs/ref', ratio(table, 'berth_fs', REFERENCE));
    pair('berth_s3/ref', ratio(table, 'berth_s3', REFERENCE));
    pair('berth_s3/raw_multipart', ratio(table, 'berth_s3', 'raw_s3_multipart'));
  }
  parts.push('pull');
  pair('berth_fs/ref', ratio(tables.pull, 'berth_fs', REFERENCE));
  pair('berth_s3/ref', ratio(tables.pull, 'berth_s3', REFERENCE));
  pair('berth_s3/raw_get', ratio(tables.pull, 'berth_s3', 'raw_s3_get'));
  for (const [name, table] of [['cpu_per_gib_pushed', tables.cpuPush], ['cpu_per_gib_pulled', tables.cpuPull]] as const) {
    parts.push(name);
    pair('berth_fs/ref', ratio(table, 'berth_fs', REFERENCE));
  }
  parts.push('finish_put_1g_over_1m');
  for (const sys of ['berth_fs', 'berth_s3', REFERENCE]) {
    const big = tables.finish1g.samples[sys];
    const small = tables.finish1m.samples[sys];
    if (big?.length && small?.length) pair(sys, median(big) / median(small));
  }
  for (const [name, table] of [['small_serial', tables.smallSerial], ['small_c8', tables.smallParallel]] as const) {
    parts.push(name);
    pair('berth_fs/ref', ratio(table, 'berth_fs', REFERENCE));
    pair('berth_fs_noauth/ref', ratio(table, 'berth_fs_noauth', REFERENCE));
    pair('berth_s3/ref', ratio(table, 'berth_s3', REFERENCE));
  }
  const load = summarise(loadRows);
  for (const s of load) {
    if (s.system === REFERENCE || s.endpoint === 'ceiling') continue;
    const r = load.find((x) => x.endpoint === s.endpoint && x.concurrency === s.concurrency && x.system === REFERENCE);
    if (!r) continue;
    if (s.system === 'berth_fs') parts.push(`${s.endpoint}_c${s.concurrency}`);
    pair(`${s.system}/ref_rps`, s.rps / r.rps);
    if (s.system === 'berth_fs') pair('berth_fs/ref_p99', r.p99Ms / s.p99Ms);
  }
  if (push) {
    parts.push('berth_push');
    pair('vs_skopeo', ratio(push.vsSkopeo, 'berth_push', 'skopeo_copy'));
    pair('direct_vs_raw_multipart', ratio(push.vsRaw, 'berth_push', 'raw_s3_multipart'));
  }
  parts.push('peak_rss_mb');
  for (const [id, mb] of Object.entries(runPeak)) pair(id, mb);
  if (Object.keys(push2gRss).length) {
    parts.push('push2x_rss_mb');
    for (const [id, mb] of Object.entries(push2gRss)) pair(id, mb);
  }
  return parts.join(' ');
}
