/**
 * Which URLs a webhook may POST to. http and https only, no credentials in the URL (they would be
 * shown by `webhooks list`; use `--secret` to authenticate Berth to the receiver), no fragment.
 *
 * Server-side request forgery: a webhook makes the registry send requests where an admin points
 * it. Berth refuses targets that are obviously internal unless the hook is added with
 * `allowInternal` (`--allow-internal`): loopback, private (RFC 1918), carrier-grade NAT, link-local
 * (169.254.0.0/16 holds cloud metadata services), unique-local and unspecified addresses, their
 * IPv4-mapped IPv6 forms, and names that only resolve inside a network (`localhost`, `*.local`,
 * `*.internal`, `*.home.arpa`, `*.lan`, single-label names). The URL parser has already turned
 * `http://2130706433/` and `http://0x7f.1/` into `127.0.0.1`, so numeric tricks land here too.
 * What this cannot see: a public name whose DNS answer is internal (or changes after the check).
 * Workers cannot reach private networks anyway; on Node and Lambda, restrict the egress of the
 * registry's network if that matters. Deliveries never follow redirects (a 3xx is a failure), so
 * a receiver cannot bounce Berth inward.
 */

export const MAX_URL_LENGTH = 2048;

export type TargetCheck = { ok: true; url: URL; internal: boolean } | { ok: false; reason: string };

export function checkTarget(raw: unknown): TargetCheck {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_URL_LENGTH) {
    return { ok: false, reason: `url must be an http(s) URL of at most ${MAX_URL_LENGTH} characters` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `url "${raw.slice(0, 150)}" is not a valid URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: `url must be http or https, not ${url.protocol.slice(0, 20)}` };
  if (url.username || url.password) return { ok: false, reason: 'url must not carry credentials (use a secret: the body is signed)' };
  if (url.hash) return { ok: false, reason: 'url must not have a #fragment' };
  return { ok: true, url, internal: isInternalHost(url.hostname) };
}

const INTERNAL_SUFFIXES = ['.localhost', '.local', '.internal', '.home.arpa', '.lan', '.intranet', '.corp'];

/** True for hosts that name the registry's own machine or network rather than the internet. */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[')) return isInternalIpv6(host.slice(1, -1));
  const v4 = parseIpv4(host);
  if (v4) return isInternalIpv4(v4);
  if (host === 'localhost' || !host.includes('.')) return true;
  return INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix));
}

function parseIpv4(host: string): number[] | null {
  const parts = host.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p))) return null;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function isInternalIpv4([a, b]: number[]): boolean {
  if (a === undefined || b === undefined) return true;
  return (
    a === 0 || a === 10 || a === 127 ||
    (a === 100 && b >= 64 && b <= 127) || // carrier-grade NAT, RFC 6598
    (a === 169 && b === 254) || // link-local: cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 198 && (b === 18 || b === 19)) || // benchmarking, RFC 2544
    a >= 224 // multicast and reserved
  );
}

function isInternalIpv6(address: string): boolean {
  const lower = address.toLowerCase();
  if (lower === '::' || lower === '::1') return true;
  // IPv4-mapped (::ffff:a.b.c.d; the URL parser writes it as ::ffff:7f00:1).
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (mapped) {
    const high = parseInt(mapped[1]!, 16);
    const low = parseInt(mapped[2]!, 16);
    return isInternalIpv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  }
  const first = parseInt(lower.split(':')[0] || '0', 16);
  return (
    (first & 0xfe00) === 0xfc00 || // unique local fc00::/7
    (first & 0xffc0) === 0xfe80 || // link-local fe80::/10
    (first & 0xff00) === 0xff00 // multicast
  );
}
