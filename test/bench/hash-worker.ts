/**
 * A tiny Worker for `hash-rates.ts`: hashes `mb` MiB it generates itself (no transfer), with
 * workerd's native SHA-256 (node:crypto under nodejs_compat) or the resumable pure-JS hasher
 * Berth uses for stepwise verification (@noble/hashes), or only generates (the baseline).
 * workerd freezes clocks during execution, so the caller times the requests from outside.
 */
import { createHash } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const mb = Number(url.searchParams.get('mb') ?? '64');
    const chunk = new Uint8Array(1024 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 131) & 0xff;
    const mode = url.pathname.slice(1);
    const native = createHash('sha256');
    const noble = sha256.create();
    let checksum = 0;
    for (let i = 0; i < mb; i++) {
      chunk[0] = i & 0xff;
      if (mode === 'native') native.update(chunk);
      else if (mode === 'noble') noble.update(chunk);
      else checksum ^= chunk[i % chunk.length] ?? 0;
    }
    const hex = mode === 'native' ? native.digest('hex') : mode === 'noble' ? Array.from(noble.digest(), (b) => b.toString(16).padStart(2, '0')).join('') : String(checksum);
    return new Response(hex);
  },
};
