/** Small response helpers shared by the route modules. */
import type { Context } from 'hono';
import type { AppEnv } from '../types.ts';
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
  const raw = c.req.header('Content-Length');
  if (raw === undefined || !/^\d{1,16}$/.test(raw.trim())) return undefined;
  return Number(raw);
}

/** The request body, or null when the request says it has none. */
export function bodyOf(c: Context<AppEnv>): ReadableStream<Uint8Array> | null {
  if (contentLength(c) === 0) return null;
  return c.req.raw.body;
}

/** Reads a small body (manifest, JSON), refusing more than `limit` bytes without reading past it. */
export async function readLimited(c: Context<AppEnv>, limit: number, tooLarge: () => Error): Promise<Uint8Array<ArrayBuffer>> {
  const declared = contentLength(c);
  if (declared !== undefined && declared > limit) throw tooLarge();
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
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
