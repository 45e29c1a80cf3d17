/** Small response helpers shared by the route modules. */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
import { declaredLength } from '../http/capped-body.ts';
import { nextLink } from '../oci/pagination.ts';
import type { NamePage } from '../registry/listings.ts';

export function json(value: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const body = JSON.stringify(value);
  return new Response(body, {
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(byteLength(body)), ...headers },
  });
}

export function empty(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers: { 'Content-Length': '0', ...headers } });
}

/** Content-Length as a number, or undefined when absent (chunked) or malformed. */
export function contentLength(c: Context<AppEnv>): number | undefined {
  return declaredLength(c.req.raw.headers);
}

/** The request body, or null when the request says it has none. */
export function bodyOf(c: Context<AppEnv>): ReadableStream<Uint8Array> | null {
  if (contentLength(c) === 0) return null;
  return c.req.raw.body;
}

export function byteLength(text: string): number {
  return new TextEncoder().encode(text).byteLength;
}

/** The `Link: <…>; rel="next"` header of a paged listing, when a next page exists and `n` was asked. */
export function nextPageHeaders(path: string, n: number | undefined, page: NamePage): Record<string, string> {
  const last = page.names[page.names.length - 1];
  if (!page.more || n === undefined || last === undefined) return {};
  return { Link: nextLink(path, n, last) };
}
