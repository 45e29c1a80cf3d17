/**
 * How long the Node server waits for a request body. Node's own `requestTimeout` bounds the
 * whole request, which would cut off a large layer on a slow link, so it stays off and these
 * two bounds take its place:
 * - a request that is not an upload (token forms, admin JSON, manifests: small bodies) must
 *   deliver its whole body within `bodyMs` of its headers, or the connection is closed; a client
 *   that declares a length and then sends nothing no longer holds a request open forever;
 * - an upload (POST, PATCH or PUT under `/v2/<name>/blobs/uploads/`) streams for as long as it
 *   takes, but a connection that delivers no byte for `uploadIdleMs` is closed: the upload is
 *   aborted like any cut-off body (nothing is published) and the client may resume it.
 * Both apply only while the body arrives; a slow answer (a long garbage collection) is not cut.
 * Closing the socket is the answer: the client stopped talking, and a late 408 would race with
 * whatever it sends next.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { readInt, type EnvLike } from '../config.ts';
import { matchV2Route } from '../oci/routes.ts';

export interface BodyTimeouts {
  bodyMs: number;
  uploadIdleMs: number;
}

export function bodyTimeoutsFromEnv(env: EnvLike): BodyTimeouts {
  return {
    bodyMs: readInt(env, 'BERTH_BODY_TIMEOUT_SECONDS', 30, 1, 3600) * 1000,
    uploadIdleMs: readInt(env, 'BERTH_UPLOAD_IDLE_TIMEOUT_SECONDS', 120, 1, 86_400) * 1000,
  };
}

function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length.trim() !== '0';
}

export function isUploadRequest(method: string | undefined, url: string | undefined): boolean {
  if (method !== 'POST' && method !== 'PATCH' && method !== 'PUT') return false;
  const path = (url ?? '').split('?')[0] ?? '';
  const kind = matchV2Route(path)?.kind;
  return kind === 'uploads' || kind === 'upload';
}

export function applyBodyTimeouts(server: Server, timeouts: BodyTimeouts): void {
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!hasBody(req)) return;
    const socket = req.socket;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const close = (): void => {
      if (!done) socket.destroy();
    };
    if (isUploadRequest(req.method, req.url)) {
      // Idle time on the socket: every chunk the parser reads restarts the clock.
      socket.setTimeout(timeouts.uploadIdleMs, close);
    } else {
      timer = setTimeout(close, timeouts.bodyMs);
      timer.unref();
    }
    const settle = (): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      else socket.setTimeout(0, close); // also drops the listener, for the connection's next request
    };
    req.once('end', settle);
    res.once('finish', settle);
    res.once('close', settle);
  });
}
