/**
 * Slows password guessing: failed logins are counted in a fixed window per (account, client
 * address) pair and per client address; past a limit, logins for that key answer 429 with
 * Retry-After until the window ends. The account limit is per address on purpose: counted for
 * the account alone, anyone could lock its owner out (ten wrong passwords locked even the admin
 * for 15 minutes), while now the owner's correct password from any other address still works.
 * A guesser is held to `perAccount` tries per account and `perAddress` tries in all per address
 * and window. Without a known address (an embedder that passes none) the pair degrades to the
 * account alone. Counts live in this instance's memory only (each Worker isolate or Lambda
 * keeps its own), which bounds guessing per instance rather than globally: a deliberate
 * trade-off to keep the bucket free of per-request writes.
 */

export interface ThrottleLimits {
  windowSeconds: number;
  perAccount: number;
  perAddress: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = { windowSeconds: 15 * 60, perAccount: 10, perAddress: 50 };
const MAX_ENTRIES = 10_000;

function pairKey(account: string, address: string | null): string {
  return `a:${account}\u0000${address ?? ''}`;
}

interface Entry {
  failures: number;
  windowEnds: number;
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limits: ThrottleLimits = DEFAULT_LIMITS, private readonly clock = () => Date.now()) {}

  private keys(account: string | null, address: string | null): [string, number][] {
    const keys: [string, number][] = [];
    if (account) keys.push([pairKey(account, address), this.limits.perAccount]);
    if (address) keys.push([`i:${address}`, this.limits.perAddress]);
    return keys;
  }

  /** Seconds to wait before trying again, or 0 when a login may be attempted now. */
  retryAfter(account: string | null, address: string | null): number {
    const now = this.clock();
    let wait = 0;
    for (const [key, limit] of this.keys(account, address)) {
      const entry = this.entries.get(key);
      if (!entry) continue;
      if (entry.windowEnds <= now) this.entries.delete(key);
      else if (entry.failures >= limit) wait = Math.max(wait, Math.ceil((entry.windowEnds - now) / 1000));
    }
    return wait;
  }

  recordFailure(account: string | null, address: string | null): void {
    const now = this.clock();
    for (const [key] of this.keys(account, address)) {
      const entry = this.entries.get(key);
      if (entry && entry.windowEnds > now) entry.failures++;
      else this.entries.set(key, { failures: 1, windowEnds: now + this.limits.windowSeconds * 1000 });
    }
    if (this.entries.size > MAX_ENTRIES) {
      // Map iteration is insertion order: drop the oldest windows first.
      for (const key of [...this.entries.keys()].slice(0, this.entries.size - MAX_ENTRIES)) this.entries.delete(key);
    }
  }

  /** A correct password from `address` clears that address's count for the account. */
  recordSuccess(account: string, address: string | null): void {
    this.entries.delete(pairKey(account, address));
  }
}
