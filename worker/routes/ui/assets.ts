/** `GET /ui/assets/<file>`: the UI's script and stylesheet, content-hashed, cached for good. */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { findAsset } from '../../ui/assets/index.ts';

export function uiAsset(c: Context<AppEnv>): Response {
  const asset = findAsset(c.req.param('file') ?? '');
  if (!asset) return new Response('not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8' } });
  return new Response(asset.body, {
    headers: {
      'Content-Type': asset.contentType,
      'Cache-Control': 'public, max-age=31536000, immutable',
      'X-Content-Type-Options': 'nosniff',
    },
  });
}

