/**
 * `n` and `last` of the tag list and catalog (distribution-spec "Listing Tags", end-8b), and the
 * RFC 8288 Link header that points at the next page.
 */
import { RegistryError } from './errors.ts';

export interface Page {
  n?: number;
  last?: string;
}

/** Larger requests are served this many at a time; the Link header leads to the rest. */
export const MAX_PAGE = 10000;

export function parsePage(params: URLSearchParams): Page {
  const page: Page = {};
  const n = params.get('n');
  if (n !== null) {
    if (!/^\d+$/.test(n)) {
      throw new RegistryError('PAGINATION_NUMBER_INVALID', 'n must be a non-negative integer', {
        n: n.length > 40 ? `${n.slice(0, 40)}…` : n,
      });
    }
    // A 20-digit n is still a valid request for "everything": clamp rather than refuse
    // (Number() of it may be Infinity, which min() also handles).
    page.n = Math.min(Number(n), MAX_PAGE);
  }
  const last = params.get('last');
  if (last !== null) page.last = last;
  return page;
}

export function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}
