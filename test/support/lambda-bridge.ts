/**
 * A local stand-in for a Lambda Function URL: a node:http server that turns each request into a
 * Function URL event (payload format 2.0), invokes Berth's Lambda handler in this process, and
 * turns its answer back into an HTTP response, so the API suite can run against the Lambda entry.
 *
 * What it reproduces, because the registry's behaviour depends on it:
 * - The 6 MB invocation payload limit (6,291,456 bytes of event JSON). Binary bodies are
 *   base64-encoded in the event, so about 4.5 MiB of raw body fits; past that the bridge answers
 *   413 itself, as the Function URL does, and the handler never runs.
 * - The whole body is read before the invocation (Function URLs buffer requests).
 * - The event is delivered as parsed JSON (a copy), with lower-cased headers, repeated headers
 *   joined by commas, cookies split out into `cookies`, and `requestContext.http`.
 * - Streaming handlers (InvokeMode RESPONSE_STREAM): `awslambda.streamifyResponse` and
 *   `awslambda.HttpResponseStream.from` are provided as the Node.js runtime provides them; a
 *   buffered handler's result (`statusCode`, `headers`, `multiValueHeaders`, `cookies`, base64
 *   bodies) is also understood, with the 6 MB buffered response limit (502 past it).
 * It does not reproduce one invocation at a time per container, nor the 15-minute timeout.
 *
 * Run as a process: `BRIDGE_PORT=… npx tsx test/support/lambda-bridge.ts` (BRIDGE_HOST picks the
 * address, 127.0.0.1 by default; BRIDGE_MODE=buffered selects `bufferedHandler`;
 * BRIDGE_ENTRY=dist/aws/index.mjs runs the built bundle instead of the source). It prints
 * `listening <url>` once ready. `npm run dev:lambda` (infra/aws/dev.ts) runs it for users.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PassThrough, type Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';

/** Lambda's synchronous invocation payload limit, request and buffered response alike. */
export const INVOKE_PAYLOAD_LIMIT = 6 * 1024 * 1024;

const STREAMING = Symbol.for('berth.bridge.streaming');

interface StreamMetadata {
  statusCode?: number;
  headers?: Record<string, string>;
  cookies?: string[];
}

type MetadataStream = PassThrough & { berthMetadata?: StreamMetadata };
type StreamingHandler = ((event: unknown, stream: Writable, context: unknown) => Promise<void>) & {
  [STREAMING]?: true;
};

interface BufferedResult {
  statusCode?: number;
  headers?: Record<string, string | string[]>;
  multiValueHeaders?: Record<string, string[]>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
}

/** The pieces of the Node.js runtime's `awslambda` global that handlers use. */
export function installAwsLambdaGlobal(): void {
  if (globalThis.awslambda) return;
  globalThis.awslambda = {
    streamifyResponse(fn: StreamingHandler): StreamingHandler {
      fn[STREAMING] = true;
      return fn;
    },
    HttpResponseStream: {
      // The runtime writes this metadata as a JSON prelude ahead of the body; here it is kept
      // on the stream object so the bridge can send the status line and headers first.
      from(stream: MetadataStream, metadata: StreamMetadata): MetadataStream {
        stream.berthMetadata = metadata;
        stream.emit('berth-metadata');
        return stream;
      },
    },
  };
}

/** Function URLs base64-encode any body that is not text (AWS docs, "Request payload"). */
function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return false;
  return /^text\/|[/+](json|xml)\b|^application\/x-www-form-urlencoded/i.test(contentType);
}

async function readBody(req: IncomingMessage, cap: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    // Keep draining (so the client sees the answer) but stop keeping bytes past the cap.
    if (size > cap) tooLarge = true;
    else chunks.push(chunk);
  }
  return { body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge };
}

export function toEvent(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const url = new URL(req.url ?? '/', 'http://bridge');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (name === 'cookie') {
      cookies = String(value).split(/;\s*/).filter(Boolean);
      continue;
    }
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const rawQueryString = url.search.slice(1);
  const now = new Date();
  const host = headers.host ?? 'localhost';
  const binary = body.length > 0 && !isTextual(headers['content-type']);
  const event: Record<string, unknown> = {
    version: '2.0',
    routeKey: '$default',
    // As sent (dot segments included): the entry must see what the client asked for.
    rawPath: (req.url ?? '/').split('?')[0],
    rawQueryString,
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bridge',
      domainName: host,
      domainPrefix: host.split('.')[0],
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: binary,
  };
  if (cookies) event.cookies = cookies;
  if (rawQueryString) event.queryStringParameters = query;
  if (body.length > 0) event.body = binary ? body.toString('base64') : body.toString('utf8');
  return event;
}

function lambdaContext(): Record<string, unknown> {
  const deadline = Date.now() + 900_000;
  return {
    awsRequestId: randomUUID(),
    functionName: 'berth-bridge',
    functionVersion: '$LATEST',
    memoryLimitInMB: '1024',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}

function plain(res: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({ Message: message });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function writeHead(res: ServerResponse, status: number, headers: Record<string, string | string[]>, cookies?: string[]): void {
  const out: Record<string, string | string[]> = { ...headers };
  if (cookies?.length) out['set-cookie'] = cookies;
  res.writeHead(status, out);
}

async function invokeStreaming(handler: StreamingHandler, event: unknown, res: ServerResponse): Promise<void> {
  const stream: MetadataStream = new PassThrough();
  let headSent = false;
  const sendHead = (): void => {
    if (headSent) return;
    headSent = true;
    const meta = stream.berthMetadata;
    // Without a prelude the Function URL answers 200 application/octet-stream.
    if (!meta) writeHead(res, 200, { 'content-type': 'application/octet-stream' });
    else writeHead(res, meta.statusCode ?? 200, meta.headers ?? {}, meta.cookies);
  };
  stream.once('berth-metadata', sendHead);
  stream.on('data', (chunk: Buffer) => {
    sendHead();
    if (!res.write(chunk)) {
      stream.pause();
      res.once('drain', () => stream.resume());
    }
  });
  const ended = new Promise<void>((resolve) => stream.once('end', resolve));
  try {
    await handler(event, stream, lambdaContext());
  } catch (error) {
    console.error('bridge: streaming handler threw', error);
    if (!headSent) {
      headSent = true;
      plain(res, 502, 'Internal Server Error');
      return;
    }
  }
  if (!stream.writableEnded) stream.end();
  await ended;
  sendHead();
  res.end();
}

async function invokeBuffered(
  handler: (event: unknown, context: unknown) => Promise<BufferedResult>,
  event: unknown,
  res: ServerResponse,
): Promise<void> {
  const result = await handler(event, lambdaContext());
  if (Buffer.byteLength(JSON.stringify(result)) > INVOKE_PAYLOAD_LIMIT) {
    plain(res, 502, 'Response payload size exceeded maximum allowed payload size (6291456 bytes).');
    return;
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v;
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = v;
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  // Lambda recomputes the length of what it actually sends.
  delete headers['content-length'];
  if (res.req.method !== 'HEAD') headers['content-length'] = String(body.length);
  writeHead(res, result.statusCode ?? 200, headers, result.cookies);
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export interface BridgeOptions {
  port: number;
  host?: string;
  mode?: 'streaming' | 'buffered';
  /** Module to invoke: the TypeScript entry by default, or a built bundle (dist/aws/index.mjs). */
  entry?: string;
}

interface LambdaModule {
  handler: unknown;
  bufferedHandler: unknown;
}

/** Starts the bridge in this process around worker/runtime/lambda.ts. */
export async function startBridge(options: BridgeOptions): Promise<{ url: string; server: Server }> {
  installAwsLambdaGlobal();
  const entry = (options.entry
    ? await import(pathToFileURL(options.entry).href)
    : await import('../../worker/runtime/lambda.ts')) as LambdaModule;
  const streaming = (options.mode ?? 'streaming') === 'streaming';
  const server = createServer((req, res) => {
    void (async () => {
      // The event also carries headers and context: the body cap is reached first.
      const { body, tooLarge } = await readBody(req, INVOKE_PAYLOAD_LIMIT);
      const event = toEvent(req, body);
      const json = JSON.stringify(event);
      if (tooLarge || Buffer.byteLength(json) > INVOKE_PAYLOAD_LIMIT) {
        plain(res, 413, `Request must be smaller than ${INVOKE_PAYLOAD_LIMIT} bytes for the InvokeFunction operation`);
        return;
      }
      // One line per invocation on stderr, so tests can prove what the function received.
      if (process.env.BRIDGE_LOG_INVOCATIONS === '1') {
        console.error(JSON.stringify({ t: 'invoke', method: req.method, path: new URL(req.url ?? '/', 'http://bridge').pathname, bodyBytes: body.length }));
      }
      const delivered: unknown = JSON.parse(json);
      if (streaming) await invokeStreaming(entry.handler as unknown as StreamingHandler, delivered, res);
      else await invokeBuffered(entry.bufferedHandler as unknown as Parameters<typeof invokeBuffered>[0], delivered, res);
    })().catch((error: unknown) => {
      console.error('bridge: invocation failed', error);
      if (!res.headersSent) plain(res, 502, 'Internal Server Error');
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, resolve);
  });
  return { url: `http://${host}:${options.port}`, server };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.env.BRIDGE_PORT ?? 15500);
  const mode = process.env.BRIDGE_MODE === 'buffered' ? 'buffered' : 'streaming';
  const host = process.env.BRIDGE_HOST?.trim() || undefined;
  const { url, server } = await startBridge({ port, host, mode, entry: process.env.BRIDGE_ENTRY || undefined });
  console.log(`listening ${url}`);
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
