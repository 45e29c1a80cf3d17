/** Parses the `Authorization` header (RFC 7617 Basic, RFC 6750 Bearer). */

export type Credentials =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string };

const MAX_HEADER = 8192;

/** null when there is no header; 'invalid' when there is one we cannot use. */
export function parseAuthorization(header: string | null): Credentials | 'invalid' | null {
  if (header === null || header.trim() === '') return null;
  if (header.length > MAX_HEADER) return 'invalid';
  const space = header.indexOf(' ');
  if (space <= 0) return 'invalid';
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return /^[A-Za-z0-9._~+/-]+=*$/.test(value) ? { kind: 'bearer', token: value } : 'invalid';
  if (scheme !== 'basic') return 'invalid';
  let decoded: string;
  try {
    const binary = atob(value);
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  } catch {
    return 'invalid';
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'invalid';
  return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
