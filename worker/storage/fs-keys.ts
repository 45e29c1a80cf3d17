/**
 * How the filesystem driver maps opaque store keys onto paths under `<root>/objects/`.
 *
 * Object stores allow `a/b` and `a/b/c` to coexist; a filesystem cannot have `a/b` as both a
 * file and a directory. So every path segment is escaped and object files get a `%` suffix:
 *
 *   key `repos/Lib/x/sha256:ab`  →  objects/repos/%4cib/x/sha256%3aab%
 *
 * - Escaping keeps `[a-z0-9._-]` and writes every other UTF-8 byte as `%xx` (lowercase hex).
 *   Escaped names never contain an upper-case letter, so keys differing only in case (tags
 *   `Latest` and `latest`) stay distinct on case-insensitive filesystems (macOS, Windows).
 * - An escaped segment never ends in a bare `%`, so a name ending in `%` is always an object
 *   file and any other name a directory: the two never collide.
 * - Keys are ordered by Unicode code point, which is UTF-8 byte order (S3's list order).
 */
import { join } from 'node:path';
import { invalidKeyReason } from './checked.ts';

export const FILE_SUFFIX = '%';

const SAFE = /^[a-z0-9._-]$/;
const ALL_SAFE = /^[a-z0-9._-]*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeSegment(segment: string): string {
  // Most segments (`repositories`, digests' hex, lower-case names and tags) need no escape.
  if (ALL_SAFE.test(segment)) return segment;
  let out = '';
  for (const char of segment) {
    if (SAFE.test(char)) {
      out += char;
      continue;
    }
    for (const byte of encoder.encode(char)) out += `%${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Reverses `encodeSegment` plus the file suffix; null for names this driver did not write. */
export function decodeName(name: string): { segment: string; isFile: boolean } | null {
  const isFile = name.endsWith(FILE_SUFFIX);
  const body = isFile ? name.slice(0, -FILE_SUFFIX.length) : name;
  if (body === '' || body === '.' || body === '..') return null;
  // Most names (tags, hex digests, lower-case names) were written unescaped: they are the segment.
  if (ALL_SAFE.test(body)) return { segment: body, isFile };
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const code = body.charCodeAt(i);
    if (code === 0x25 /* % */) {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex)) return null;
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (SAFE.test(body[i] ?? '')) {
      bytes.push(code);
    } else {
      return null;
    }
  }
  try {
    return { segment: decoder.decode(new Uint8Array(bytes)), isFile };
  } catch {
    return null;
  }
}

/** The object file for `key`; throws on keys that could escape the root (defence in depth). */
export function objectFilePath(objectsDir: string, key: string): string {
  const reason = invalidKeyReason(key);
  if (reason) throw new Error(`invalid store key (${reason}): ${JSON.stringify(String(key).slice(0, 200))}`);
  const segments = key.split('/').map(encodeSegment);
  const last = segments.length - 1;
  segments[last] = `${segments[last]}${FILE_SUFFIX}`;
  return join(objectsDir, ...segments);
}

/** The directory holding keys that start with `dirKey` (`''` or ending in `/`). */
export function directoryPath(objectsDir: string, dirKey: string): string {
  const segments = dirKey.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    throw new Error(`invalid store key prefix (dot segment): ${JSON.stringify(dirKey.slice(0, 200))}`);
  }
  return join(objectsDir, ...segments.map(encodeSegment));
}

// UTF-16 code units sort surrogates (U+10000 and up) below U+E000..U+FFFF; shift them so the
// comparison follows code points, i.e. UTF-8 byte order.
function rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  if (unit >= 0xe000) return unit - 0x800;
  return unit;
}

export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}
