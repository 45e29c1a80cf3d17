/**
 * The UI's static files, named by a hash of their content so browsers may keep them forever
 * (`Cache-Control: immutable`) and a new release is fetched at once.
 */
import { UI_SCRIPT } from './script.ts';
import { UI_STYLE } from './style.ts';

export interface Asset {
  file: string;
  contentType: string;
  body: string;
}

/** FNV-1a, 32 bits: a cache-busting name, not a security measure. Synchronous, so names exist at load. */
function contentHash(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

function asset(base: string, extension: string, contentType: string, body: string): Asset {
  return { file: `${base}.${contentHash(body)}.${extension}`, contentType, body };
}

export const SCRIPT = asset('ui', 'js', 'text/javascript; charset=utf-8', UI_SCRIPT);
export const STYLE = asset('ui', 'css', 'text/css; charset=utf-8', UI_STYLE);

export function findAsset(file: string): Asset | undefined {
  return [SCRIPT, STYLE].find((a) => a.file === file);
}
