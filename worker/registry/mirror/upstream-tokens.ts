/**
 * Upstream registry tokens, kept per realm, service and scope until shortly before they expire
 * (Docker token spec, token.md "Token Response Fields": `expires_in` defaults to 60 seconds).
 * One pull asks for the same scope for its manifest and every layer: one token request serves
 * them all, and Docker Hub's token service is asked once per image every few minutes, not per
 * request. In memory, per instance; bounded so a crowd of names cannot grow it without end.
 */

/** The token spec's default lifetime when the answer has no `expires_in`. */
export const DEFAULT_TOKEN_SECONDS = 60;
/** A token is not used in its last seconds: the request it authorizes must still arrive in time. */
const EXPIRY_MARGIN_MS = 10_000;
const MAX_ENTRIES = 1000;

export class UpstreamTokens {
  private readonly entries = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt - EXPIRY_MARGIN_MS <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.token;
  }

  set(key: string, token: string, expiresInSeconds: number): void {
    if (this.entries.size >= MAX_ENTRIES) {
      // Maps iterate in insertion order: the oldest entry goes first.
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.delete(key);
    this.entries.set(key, { token, expiresAt: this.now() + expiresInSeconds * 1000 });
  }
}
