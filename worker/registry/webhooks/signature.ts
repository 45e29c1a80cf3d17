/**
 * `X-Berth-Signature-256: sha256=<hex HMAC-SHA256 of the body, keyed with the hook's secret>`
 * (the scheme GitHub's `X-Hub-Signature-256` made familiar). Receivers recompute it over the raw
 * body and compare in constant time. WebCrypto, so the same code signs on Node, Workers and Lambda.
 */

export const SIGNATURE_HEADER = 'X-Berth-Signature-256';

export async function signBody(secret: string, body: string): Promise<string> {
  const encoder = new TextEncoder();
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(body)));
  return `sha256=${Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
