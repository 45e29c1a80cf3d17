/**
 * One HTTP request over node:http with the body framing a given client uses: `chunked`
 * (docker: Transfer-Encoding chunked, no length) or `length` (skopeo: Content-Length). The
 * response body is counted and dropped, keeping at most 2 KiB for error messages.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { Payload } from './data.ts';

export type Framing = 'chunked' | 'length';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Response body bytes received. */
  bytes: number;
  /** Start of the body text (for error messages and small JSON answers). */
  text: string;
  ms: number;
}

export interface Ask {
  url: string;
  method: string;
  headers?: Record<string, string>;
  body?: Payload | string;
  framing?: Framing;
  /** Abort when no answer arrives in time; every bench request is bounded. */
  timeoutMs?: number;
}

const KEEP_TEXT = 2048;

export async function ask(a: Ask): Promise<Answer> {
  const started = performance.now();
  const headers: Record<string, string> = { ...a.headers };
  const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body;
  if (body && (a.framing ?? 'length') === 'length') {
    headers['Content-Length'] = String(Buffer.isBuffer(body) ? body.length : body.size);
  } else if (!body && a.method !== 'GET' && a.method !== 'HEAD') {
    headers['Content-Length'] = '0';
  }
  const req = http.request(a.url, { method: a.method, headers, agent: false, timeout: a.timeoutMs ?? 300_000 });
  req.on('timeout', () => req.destroy(new Error(`timeout: ${a.method} ${a.url}`)));
  const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  if (Buffer.isBuffer(body)) {
    req.end(body);
  } else if (body) {
    for (const chunk of body.chunks()) {
      if (!req.write(chunk)) await Promise.race([once(req, 'drain'), answered]);
      if (req.destroyed) break;
    }
    req.end();
  } else {
    req.end();
  }
  const res = await answered;
  let bytes = 0;
  let text = '';
  for await (const chunk of res as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (text.length < KEEP_TEXT) text += chunk.subarray(0, KEEP_TEXT - text.length).toString('utf8');
  }
  return { status: res.statusCode ?? 0, headers: res.headers, bytes, text, ms: performance.now() - started };
}

/** Fails with the answer's status and body start unless its status is one of `ok`. */
export function expectStatus(answer: Answer, ok: number[], what: string): Answer {
  if (!ok.includes(answer.status)) {
    throw new Error(`${what}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
  }
  return answer;
}
