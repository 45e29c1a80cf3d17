/**
 * The first middleware of the app: gives each request an id (answered in `X-Request-Id`; a
 * well-formed id from the caller or its proxy is kept), works out the client address through the
 * platform seam, counts body bytes both ways, and when the response body has been sent (or cut
 * off) writes one access-log line and one metrics sample.
 *
 * Access-log line: {time, level, msg:"request", id, method, path, route, repository, status,
 * bytesIn, bytesOut, durationMs, account, client, outcome}. `account` is the principal's name
 * (never a credential); the query string is left out (it may carry `digest=` but also state).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import type { AppEnv } from '../types.ts';
import { clientAddress, type Platform } from '../platform.ts';
import { countingStream, type Counter, type StreamEnd } from './counting-stream.ts';
import type { Logger } from './logger.ts';
import { isAuthFailure, isUploadRequest, type Metrics } from './metrics.ts';
import { routeOf } from './route-family.ts';

export interface ObserveOptions {
  logger: Logger;
  metrics: Metrics;
  platform: Platform;
  accessLog: boolean;
  trustProxy: boolean;
}

/** Responses at least this large, or of unknown length, are counted as they stream. */
const COUNT_STREAMED_FROM = 64 * 1024;

export function observeRequests(options: ObserveOptions): MiddlewareHandler<AppEnv>[] {
  const { logger, metrics, platform } = options;
  const observe: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    const method = c.req.method;
    const path = new URL(c.req.url).pathname;
    const route = routeOf(path);
    c.set('client', clientAddress(c.req.raw, options.trustProxy, platform.clientAddress(c)));
    const received: Counter = { bytes: 0 };
    countRequestBody(c, received);
    const requestEnded = metrics.requestStarted();
    const uploadEnded = isUploadRequest(route.family, method) ? metrics.uploadStarted() : null;

    let finished = false;
    const finish = (outcome: StreamEnd | 'no-body', sent: number): void => {
      if (finished) return;
      finished = true;
      requestEnded();
      uploadEnded?.();
      const seconds = (performance.now() - started) / 1000;
      const status = c.res.status;
      const credentials = c.req.header('Authorization') !== undefined;
      metrics.request({ family: route.family, method, status, seconds, bytesIn: received.bytes, bytesOut: sent, credentials });
      if (!options.accessLog) return;
      const level = status >= 500 ? 'error' : isAuthFailure({ status, credentials }) || status === 429 ? 'warn' : 'info';
      logger[level]('request', {
        id: c.get('requestId'),
        method,
        path: path.length > 512 ? `${path.slice(0, 512)}…` : path,
        route: route.family,
        repository: route.repository,
        status,
        bytesIn: received.bytes,
        bytesOut: sent,
        durationMs: Math.round(seconds * 10000) / 10,
        account: c.get('principal')?.subject ?? undefined,
        client: c.get('client') ?? undefined,
        ...(outcome === 'cancelled' || outcome === 'error' ? { outcome } : {}),
      });
    };

    try {
      await next();
    } catch (error) {
      finish('error', 0);
      throw error;
    }
    // Set here, not by requestId() before the handler: handlers build their own Responses.
    c.res.headers.set('X-Request-Id', c.get('requestId'));
    const body = c.res.body;
    const declared = Number(c.res.headers.get('Content-Length') ?? NaN);
    if (body === null || method === 'HEAD') return finish('no-body', 0);
    if (Number.isFinite(declared) && declared < COUNT_STREAMED_FROM) return finish('no-body', declared);
    if (Number.isFinite(declared) && platform.relayBody) {
      // Sent whole or not at all as far as the log can tell: a cut relay reports 0 bytes.
      const relayed = platform.relayBody(c, body, declared);
      void relayed.ended.then((how) => finish(how, how === 'done' ? declared : 0));
      c.res = new Response(relayed.body, c.res);
      return;
    }
    const sent: Counter = { bytes: 0 };
    c.res = new Response(countingStream(body, sent, (how) => finish(how, sent.bytes)), c.res);
  };
  return [requestId({ headerName: 'X-Request-Id' }), observe];
}

/**
 * Replaces the request with one whose body counts what the handlers read of it. The original
 * body is opened only when a handler reads: on Node, a body never opened is drained by the
 * server, so a refused request (401, 413 on its headers) keeps its keep-alive connection usable.
 */
function countRequestBody(c: Context<AppEnv>, counter: Counter): void {
  const raw = c.req.raw;
  if (raw.method === 'GET' || raw.method === 'HEAD') return;
  const body = countingStream(() => raw.body, counter);
  c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, signal: raw.signal, body, duplex: 'half' } as RequestInit);
}
