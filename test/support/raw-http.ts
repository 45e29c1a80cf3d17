/**
 * Raw HTTP/1.1 over a socket, for what fetch cannot send: a body that never comes, one that
 * trickles, or one far larger than the server will take, written only as fast as the server
 * reads it. The answer (if any) and how the connection ended are reported, never thrown.
 */
import net from 'node:net';

export interface RawExchange {
  /** The status line's code, or 0 when no answer came. */
  status: number;
  /** Everything the server sent (headers and body). */
  response: string;
  /** Body bytes the server took before it answered or closed. */
  bodyBytesSent: number;
  /** The server closed the connection (FIN or reset) before a complete answer came. */
  closed: boolean;
}

export interface RawRequest {
  port: number;
  /** Request line and headers, without the blank line that ends them. */
  head: string;
  /** Body bytes to offer (sent in 1 MiB pieces as the server reads them); 0 sends none. */
  bodyBytes?: number;
  /** Frame the body with Transfer-Encoding: chunked (the head must say so). */
  chunked?: boolean;
  /** Stop waiting after this long (the exchange then reports closed: false). */
  waitMs: number;
}

export function rawExchange(request: RawRequest): Promise<RawExchange> {
  return new Promise((resolve) => {
    const socket = net.connect(request.port, '127.0.0.1');
    let response = '';
    let sent = 0;
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
      resolve({ status, response, bodyBytesSent: sent, closed });
    };
    const timer = setTimeout(() => finish(false), request.waitMs);
    const piece = Buffer.alloc(1024 * 1024, 0x61);
    const writeMore = (): void => {
      const total = request.bodyBytes ?? 0;
      while (!settled && sent < total && response === '') {
        const size = Math.min(piece.byteLength, total - sent);
        const data = request.chunked
          ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), piece.subarray(0, size), Buffer.from('\r\n')])
          : piece.subarray(0, size);
        sent += size;
        if (!socket.write(data)) return void socket.once('drain', writeMore);
      }
      if (!settled && sent >= total && request.chunked && total > 0) socket.write('0\r\n\r\n');
    };
    socket.on('connect', () => {
      socket.write(`${request.head}\r\n\r\n`);
      writeMore();
    });
    socket.on('data', (chunk: Buffer) => {
      response += chunk.toString('latin1');
      if (isComplete(response)) finish(false);
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('end', () => finish(true));
  });
}

/** A whole answer (Content-Length or chunked body) has arrived. */
function isComplete(response: string): boolean {
  const end = response.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = response.slice(0, end);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return response.endsWith('\r\n0\r\n\r\n');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
  return length !== undefined && response.length - end - 4 >= Number(length);
}

/** Peak resident memory of a process so far (Linux `VmHWM`), in bytes. */
export async function peakRss(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
  if (!Number.isFinite(kib)) throw new Error(`no VmHWM for process ${pid}`);
  return kib * 1024;
}

export interface SimpleResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * One request from a chosen local address (any of 127.0.0.0/8 works on Linux), so a test can
 * be several clients as far as the server can tell; `host` overrides the Host header.
 */
export function requestFrom(
  url: string,
  options: { localAddress?: string; method?: string; headers?: Record<string, string>; body?: string; host?: string },
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    import('node:http').then(({ request }) => {
      const headers = { ...options.headers, ...(options.host ? { Host: options.host } : {}) };
      const req = request(url, { method: options.method ?? 'GET', headers, localAddress: options.localAddress }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.setTimeout(60_000, () => req.destroy(new Error(`no answer from ${url} within 60 s`)));
      req.end(options.body);
    }, reject);
  });
}

/**
 * One request whose path goes on the wire exactly as given: fetch and `http.request(url)` parse
 * the URL first, which resolves `.` and `..` segments before anything is sent.
 */
export function requestPath(
  base: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Uint8Array },
): Promise<SimpleResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    import('node:http').then(({ request }) => {
      const req = request({ hostname, port, method: options.method ?? 'GET', path: options.path, headers: options.headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.setTimeout(60_000, () => req.destroy(new Error(`no answer for ${options.path} within 60 s`)));
      req.end(options.body);
    }, reject);
  });
}
