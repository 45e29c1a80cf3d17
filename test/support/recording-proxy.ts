/**
 * A real HTTP proxy in front of an upstream registry, for the mirror tests: it records every
 * request that reaches the upstream (so a test can count blob GETs), can alter the bytes of one
 * blob on the way (a corrupting network or upstream), and drops the client's connection when the
 * upstream is down (as a dead host would, instead of answering for it).
 *
 * The Host header is passed on unchanged, so an upstream Berth names this proxy in its token
 * realm and token requests pass here too.
 */
import http from 'node:http';
import { Transform } from 'node:stream';

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
}

const BLOB_PATH = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/;
const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/;

export class RecordingProxy {
  readonly requests: ProxiedRequest[] = [];
  /** GETs of this blob answer with one byte changed (same length, so only the digest tells). */
  corruptDigest: string | null = null;

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
  ) {}

  static async start(port: number, upstream: string): Promise<RecordingProxy> {
    const target = new URL(upstream);
    let proxy: RecordingProxy | undefined;
    const server = http.createServer((req, res) => proxy?.forward(req, res, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    proxy = new RecordingProxy(server, `http://127.0.0.1:${port}`);
    return proxy;
  }

  /** Blob GETs that reached the upstream, optionally of one repository (upstream name). */
  blobGets(repository?: string): ProxiedRequest[] {
    return this.requests.filter((r) => {
      const match = r.method === 'GET' ? BLOB_PATH.exec(r.path) : null;
      return match !== null && (repository === undefined || match[1] === repository);
    });
  }

  manifestRequests(method: string, repository?: string): ProxiedRequest[] {
    return this.requests.filter((r) => {
      const match = r.method === method ? MANIFEST_PATH.exec(r.path) : null;
      return match !== null && (repository === undefined || match[1] === repository);
    });
  }

  tokenRequests(): ProxiedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/token'));
  }

  reset(): void {
    this.requests.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse, target: URL): void {
    const path = req.url ?? '/';
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: path.split('?')[0] ?? path, status: 0 };
    this.requests.push(record);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path, headers: req.headers },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const digest = BLOB_PATH.exec(record.path)?.[2];
        if (req.method === 'GET' && digest !== undefined && digest === this.corruptDigest && record.status === 200) {
          answer.pipe(flipOneByte()).pipe(res);
        } else {
          answer.pipe(res);
        }
      },
    );
    // Upstream down: the client's connection drops, as with a host that is gone.
    upstream.on('error', () => {
      record.status = -1;
      res.socket?.destroy();
    });
    req.pipe(upstream);
  }
}

/** Inverts the first byte of the body; everything else passes unchanged. */
function flipOneByte(): Transform {
  let done = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (!done && chunk.length > 0) {
        const copy = Buffer.from(chunk);
        copy[0] = (copy[0] ?? 0) ^ 0xff;
        done = true;
        callback(null, copy);
        return;
      }
      callback(null, chunk);
    },
  });
}
