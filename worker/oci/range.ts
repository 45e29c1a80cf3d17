/**
 * Byte ranges: the Content-Range of an upload chunk (distribution-spec "Pushing a blob in
 * chunks") and the Range header of a blob GET (RFC 9110 §14).
 */
import { RegistryError } from './errors.ts';

export type RangeResult =
  | { kind: 'full' }
  | { kind: 'partial'; offset: number; length: number }
  | { kind: 'unsatisfiable' };

// The spec writes `<start>-<end>`; clients also send RFC-style `bytes start-end/total`, and some
// `bytes=start-end`.
const CONTENT_RANGE = /^(?:bytes[ =] *)?(\d+)-(\d+)(?:\/(\d+|\*))?$/i;

function rangeInvalid(header: string): RegistryError {
  const shown = header.length > 100 ? `${header.slice(0, 100)}…` : header;
  return new RegistryError('RANGE_INVALID', 'invalid Content-Range', { contentRange: shown }, { status: 416 });
}

/** Parses an upload chunk's Content-Range; `end` is inclusive. Throws RANGE_INVALID (416). */
export function parseContentRange(header: string): { start: number; end: number } {
  const match = CONTENT_RANGE.exec(String(header).trim());
  if (!match) throw rangeInvalid(String(header));
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) {
    throw rangeInvalid(header);
  }
  const total = match[3];
  if (total !== undefined && total !== '*' && Number(total) <= end) throw rangeInvalid(header);
  return { start, end };
}

const BYTE_RANGE = /^bytes *= *(\d*) *- *(\d*)$/i;

/**
 * A single byte range of a representation of `size` bytes (RFC 9110 §14.1.2). Anything we do not
 * understand (other units, several ranges, bad syntax) is ignored and the whole body is served,
 * as §14.2 allows; a reversed range is the exception (see below).
 */
export function parseRangeHeader(header: string | undefined, size: number): RangeResult {
  if (header === undefined) return { kind: 'full' };
  const match = BYTE_RANGE.exec(header.trim());
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  // Number() of a very long digit string is imprecise or Infinity, but then it is beyond any
  // object: a start that large is unsatisfiable, an end or suffix that large means "all".

  if (first === '') {
    // Suffix range `-n`: the last n bytes; n = 0 or an empty body selects nothing (§14.1.3).
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    const length = Math.min(suffix, size);
    return { kind: 'partial', offset: size - length, length };
  }

  const start = Number(first);
  const end = last === '' ? Infinity : Number(last);
  // A last byte before the first (`500-0`) is an invalid range-spec, which RFC 9110 §14.1.1 lets a
  // server ignore; Go's http.ServeContent (Distribution) answers 416 instead, and the OCI
  // conformance suite expects 416, so such a request is refused rather than served whole.
  if (end < start) return { kind: 'unsatisfiable' };
  if (start >= size) return { kind: 'unsatisfiable' };
  const lastByte = Math.min(end, size - 1);
  return { kind: 'partial', offset: start, length: lastByte - start + 1 };
}

/** `Content-Range` of a 206 response (RFC 9110 §14.4). */
export function contentRangeHeader(offset: number, length: number, size: number): string {
  return `bytes ${offset}-${offset + length - 1}/${size}`;
}

/** `Content-Range` of a 416 response (RFC 9110 §15.5.17). */
export function unsatisfiedRangeHeader(size: number): string {
  return `bytes */${size}`;
}
