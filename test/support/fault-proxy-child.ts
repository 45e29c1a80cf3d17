/**
 * A fault-injecting HTTP proxy between Berth's S3 driver and a real S3-compatible server, run
 * as its own process by `fault-proxy.ts`. Requests pass through byte for byte (the Host header
 * too, so SigV4 signatures made for the proxy's address still verify upstream) unless a rule
 * matches; rules reproduce what a store and the network do under stress:
 *
 *   status       answer this status with an S3 error body, without forwarding (a 503, say)
 *   reset        drop the connection before forwarding (nothing reaches the store)
 *   lose-answer  forward, let the store finish, then drop the connection (the write landed,
 *                the client never hears it)
 *   cut-body     forward, send the headers and `afterBytes` of the body, then drop the connection
 *   blackhole    accept the request and never answer (a dead store)
 *   delay        wait `delayMs`, then forward
 *
 * Control, on the same port (the S3 client never uses these paths):
 *   POST   /__faults/rules   JSON array of rules, appended
 *   DELETE /__faults/rules   removes every rule
 *   GET    /__faults/log     JSON array: one entry per S3 request seen, with the fault applied
 *   DELETE /__faults/log     empties the log
 *
 * Env: FAULT_PROXY_PORT, FAULT_PROXY_UPSTREAM (http://host:port), FAULT_PROXY_BUCKET. Listens
 * on 127.0.0.1 only; exits on SIGTERM.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

export type S3Operation =
  | 'GetObject' | 'HeadObject' | 'PutObject' | 'DeleteObject' | 'ListObjectsV2'
  | 'CreateMultipartUpload' | 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload'
  | 'DeleteObjects' | 'Other';

export interface FaultRule {
  /** The S3 operation to match, or '*' for any. */
  op: S3Operation | '*';
  /** A regular expression the object key (bucket name and prefix not included) must match. */
  key?: string;
  fault: 'status' | 'reset' | 'lose-answer' | 'cut-body' | 'blackhole' | 'delay';
  /** For `status`: the HTTP status (503 by default). */
  status?: number;
  /** For `cut-body`: body bytes sent before the connection drops (0 by default). */
  afterBytes?: number;
  /** For `delay`. */
  delayMs?: number;
  /** Matching requests this rule faults before it retires; unlimited when omitted. */
  times?: number;
  /** Count `times` per distinct key instead of over all matching requests. */
  perKey?: boolean;
}

export interface LogEntry {
  op: S3Operation;
  method: string;
  key: string;
  /** The request's Range header, when it had one. */
  range?: string;
  /** The fault applied, if any. */
  fault?: FaultRule['fault'];
  /** Status the store answered (absent when nothing was forwarded or the answer never came). */
  status?: number;
}

interface ActiveRule extends FaultRule {
  pattern: RegExp | null;
  used: number;
  usedPerKey: Map<string, number>;
}

const port = Number(process.env.FAULT_PROXY_PORT);
const upstream = new URL(process.env.FAULT_PROXY_UPSTREAM ?? '');
const bucket = process.env.FAULT_PROXY_BUCKET ?? 'berth';
let rules: ActiveRule[] = [];
let log: LogEntry[] = [];
/** Sockets held open by `blackhole`, closed when the rules are cleared. */
const held = new Set<Socket>();

function classify(method: string, url: URL): { op: S3Operation; key: string } {
  const path = decodeURIComponent(url.pathname);
  const prefix = `/${bucket}/`;
  const key = path.startsWith(prefix) ? path.slice(prefix.length) : '';
  const has = (name: string): boolean => url.searchParams.has(name);
  if (key === '') {
    if (method === 'GET' && url.searchParams.get('list-type') === '2') return { op: 'ListObjectsV2', key: url.searchParams.get('prefix') ?? '' };
    if (method === 'POST' && has('delete')) return { op: 'DeleteObjects', key: '' };
    return { op: 'Other', key: '' };
  }
  if (method === 'POST' && has('uploads')) return { op: 'CreateMultipartUpload', key };
  if (method === 'POST' && has('uploadId')) return { op: 'CompleteMultipartUpload', key };
  if (method === 'PUT' && has('uploadId')) return { op: 'UploadPart', key };
  if (method === 'DELETE' && has('uploadId')) return { op: 'AbortMultipartUpload', key };
  if (method === 'PUT') return { op: 'PutObject', key };
  if (method === 'GET') return { op: 'GetObject', key };
  if (method === 'HEAD') return { op: 'HeadObject', key };
  if (method === 'DELETE') return { op: 'DeleteObject', key };
  return { op: 'Other', key };
}

/** The first rule that matches and still has uses left; counts the use. */
function take(op: S3Operation, key: string): ActiveRule | undefined {
  for (const rule of rules) {
    if (rule.op !== '*' && rule.op !== op) continue;
    if (rule.pattern && !rule.pattern.test(key)) continue;
    if (rule.times !== undefined) {
      const used = rule.perKey ? (rule.usedPerKey.get(key) ?? 0) : rule.used;
      if (used >= rule.times) continue;
    }
    rule.used++;
    rule.usedPerKey.set(key, (rule.usedPerKey.get(key) ?? 0) + 1);
    return rule;
  }
  return undefined;
}

async function readAll(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function errorXml(status: number): string {
  const code = status === 503 ? 'ServiceUnavailable' : status === 500 ? 'InternalError' : 'InjectedFault';
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the fault proxy</Message></Error>`;
}

/** Sends the request on to the store; resolves with its response (body not yet read). */
function forward(req: http.IncomingMessage, body: Buffer): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const out = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent: false,
    }, resolve);
    out.on('error', reject);
    out.end(body);
  });
}

async function control(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
  const reply = (status: number, value?: unknown): void => {
    const text = value === undefined ? '' : JSON.stringify(value);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
  };
  if (path === '/__faults/rules' && req.method === 'POST') {
    const added = JSON.parse((await readAll(req)).toString()) as FaultRule[];
    for (const rule of added) {
      rules.push({ ...rule, pattern: rule.key ? new RegExp(rule.key) : null, used: 0, usedPerKey: new Map() });
    }
    return reply(204);
  }
  if (path === '/__faults/rules' && req.method === 'DELETE') {
    rules = [];
    for (const socket of held) socket.destroy();
    held.clear();
    return reply(204);
  }
  if (path === '/__faults/log' && req.method === 'GET') return reply(200, log);
  if (path === '/__faults/log' && req.method === 'DELETE') {
    log = [];
    return reply(204);
  }
  reply(404, { error: 'unknown control path' });
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://proxy');
  if (url.pathname.startsWith('/__faults/')) return control(req, res, url.pathname);
  const { op, key } = classify(req.method ?? 'GET', url);
  const rule = take(op, key);
  const range = req.headers.range;
  const entry: LogEntry = { op, method: req.method ?? '', key, ...(range ? { range } : {}), ...(rule ? { fault: rule.fault } : {}) };
  log.push(entry);

  if (rule?.fault === 'reset') {
    req.socket.destroy();
    return;
  }
  const body = await readAll(req);
  if (rule?.fault === 'blackhole') {
    held.add(req.socket);
    req.socket.once('close', () => held.delete(req.socket));
    return;
  }
  if (rule?.fault === 'status') {
    const status = rule.status ?? 503;
    const xml = errorXml(status);
    res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
    res.end(req.method === 'HEAD' ? undefined : xml);
    return;
  }
  if (rule?.fault === 'delay') await new Promise((resolve) => setTimeout(resolve, rule.delayMs ?? 1000));

  const answer = await forward(req, body);
  entry.status = answer.statusCode;
  if (rule?.fault === 'lose-answer') {
    await readAll(answer);
    req.socket.destroy();
    return;
  }
  res.writeHead(answer.statusCode ?? 502, answer.headers);
  if (rule?.fault === 'cut-body') {
    let budget = rule.afterBytes ?? 0;
    for await (const chunk of answer) {
      const piece = (chunk as Buffer).subarray(0, budget);
      budget -= piece.byteLength;
      if (piece.byteLength > 0) await new Promise<void>((resolve) => res.write(piece, () => resolve()));
      if (budget <= 0) break;
    }
    answer.destroy();
    req.socket.destroy();
    return;
  }
  answer.pipe(res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    process.stderr.write(`fault proxy: ${String(error)}\n`);
    if (!res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
});
// Longer than a test may keep its event loop busy: a control call must never pick up a
// connection the proxy closed meanwhile.
server.keepAliveTimeout = 60_000;

server.listen(port, '127.0.0.1');

const shutdown = (): void => {
  for (const socket of held) socket.destroy();
  server.closeAllConnections();
  server.close(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
