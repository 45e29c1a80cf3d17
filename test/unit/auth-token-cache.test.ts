import { describe, it, before, afterEach, mock } from 'node:test';
import assert from 'node:assert/strict';
import { CLOCK_LEEWAY_SECONDS, signAccessToken, verifyAccessToken, type AccessClaims } from '../../worker/auth/jwt.ts';
import { loadSigningKey, type SigningKey } from '../../worker/auth/signing-key.ts';
import { AccessTokenCache } from '../../worker/auth/token-cache.ts';
import { memoryStore } from '../support/auth-memory-store.ts';

const AUD = 'registry.test';
const access = [{ type: 'repository' as const, name: 'team/app', actions: ['pull' as const] }];

/** A cache whose full checks are real (`verifyAccessToken`) and counted. */
function countingCache(maxEntries?: number): { cache: AccessTokenCache; calls: () => number } {
  let calls = 0;
  const cache = new AccessTokenCache({
    maxEntries,
    verify: (key, token, audience) => {
      calls++;
      return verifyAccessToken(key, token, audience);
    },
  });
  return { cache, calls: () => calls };
}

describe('verified access token cache', () => {
  let key: SigningKey;
  let other: SigningKey;
  before(async () => {
    key = await loadSigningKey(memoryStore(), undefined);
    other = await loadSigningKey(memoryStore(), undefined);
  });
  afterEach(() => mock.timers.reset());

  async function token(input: { subject?: string; ttlSeconds?: number; now?: number } = {}): Promise<string> {
    const signed = await signAccessToken(key, {
      subject: input.subject ?? 'bob', audience: AUD, access, ttlSeconds: input.ttlSeconds ?? 300, now: input.now,
    });
    return signed.token;
  }

  it('verifies a token once and then answers from memory with the same claims', async () => {
    const { cache, calls } = countingCache();
    const t = await token();
    const first = await cache.verify(key, t, AUD);
    const second = await cache.verify(key, t, AUD);
    assert.equal(calls(), 1);
    assert.deepEqual(second, first);
    assert.deepEqual(first, await verifyAccessToken(key, t, AUD));
  });

  it('never stores a token that fails verification', async () => {
    const { cache, calls } = countingCache();
    const foreign = (await signAccessToken(other, { subject: 'bob', audience: AUD, access, ttlSeconds: 300 })).token;
    assert.equal(await cache.verify(key, foreign, AUD), null);
    assert.equal(await cache.verify(key, foreign, AUD), null);
    assert.equal(calls(), 2);
    assert.equal(cache.size, 0);
  });

  it('refuses a tampered token that shares the cached one\'s prefix', async () => {
    const { cache } = countingCache();
    const t = await token();
    assert.ok(await cache.verify(key, t, AUD));
    // One signature character flipped (not the last: its low bits are padding that base64url
    // decoders ignore, for the uncached check too).
    const i = t.length - 10;
    const flipped = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
    assert.equal(await cache.verify(key, flipped, AUD), null);
    assert.equal(await cache.verify(key, `${t}A`, AUD), null);
    assert.equal(await cache.verify(key, t.slice(0, -2), AUD), null);
    // Same header and payload, another valid token's signature.
    const [h, p] = t.split('.');
    const [, , s] = (await token()).split('.');
    assert.equal(await cache.verify(key, `${h}.${p}.${s}`, AUD), null);
    assert.ok(await cache.verify(key, t, AUD));
  });

  it('keeps audiences and keys apart', async () => {
    const { cache } = countingCache();
    const t = await token();
    assert.ok(await cache.verify(key, t, AUD));
    assert.equal(await cache.verify(key, t, 'other.registry'), null);
    assert.equal(await cache.verify(other, t, AUD), null);
  });

  it('refuses an expired token that was cached earlier, with the same leeway as the uncached check', async () => {
    const start = Date.now();
    mock.timers.enable({ apis: ['Date'], now: start });
    const { cache, calls } = countingCache();
    const t = await token({ ttlSeconds: 60, now: start });
    assert.ok(await cache.verify(key, t, AUD));
    const exp = Math.floor(start / 1000) + 60;
    const at = async (seconds: number): Promise<[AccessClaims | null, AccessClaims | null]> => {
      mock.timers.setTime(seconds * 1000);
      return [await cache.verify(key, t, AUD), await verifyAccessToken(key, t, AUD)];
    };
    // Before exp: served from memory.
    const [cachedBefore, plainBefore] = await at(exp - 1);
    assert.ok(cachedBefore && plainBefore);
    assert.equal(calls(), 1);
    // Inside the leeway after exp: the cache steps aside and the full check decides (accepts).
    const [cachedLeeway, plainLeeway] = await at(exp + CLOCK_LEEWAY_SECONDS - 1);
    assert.ok(cachedLeeway && plainLeeway);
    assert.equal(calls(), 2);
    // Past the leeway: refused, exactly like the uncached check.
    const [cachedAfter, plainAfter] = await at(exp + CLOCK_LEEWAY_SECONDS);
    assert.equal(plainAfter, null);
    assert.equal(cachedAfter, null);
    const [cachedLater] = await at(exp + 3600);
    assert.equal(cachedLater, null);
  });

  it('does not serve a token whose expiry has already passed (only the leeway keeps it valid)', async () => {
    const { cache, calls } = countingCache();
    // exp is 10 s ago: valid through the 30 s leeway, but never remembered.
    const t = await token({ ttlSeconds: 60, now: Date.now() - 70_000 });
    assert.ok(await cache.verify(key, t, AUD));
    assert.ok(await cache.verify(key, t, AUD));
    assert.equal(calls(), 2);
    assert.equal(cache.size, 0);
  });

  it('holds its bound and evicts the least recently used entry', async () => {
    const { cache, calls } = countingCache(3);
    const tokens = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((subject) => token({ subject })));
    for (const t of tokens.slice(0, 3)) assert.ok(await cache.verify(key, t, AUD));
    assert.ok(await cache.verify(key, tokens[0]!, AUD)); // a is now the most recent
    assert.equal(calls(), 3);
    for (const t of tokens.slice(3)) assert.ok(await cache.verify(key, t, AUD)); // evicts b, then c
    assert.equal(cache.size, 3);
    assert.equal(calls(), 5);
    assert.ok(await cache.verify(key, tokens[0]!, AUD));
    assert.equal(calls(), 5, 'a stayed');
    assert.equal((await cache.verify(key, tokens[1]!, AUD))?.subject, 'b');
    assert.equal(calls(), 6, 'b was evicted and verified again');
    assert.equal(cache.size, 3);

    const big = countingCache();
    for (let i = 0; i < 1100; i++) await big.cache.verify(key, await token({ subject: `u${i}` }), AUD);
    assert.equal(big.cache.size, 1000);
  });

  it('drops entries past their expiry when it stores a new token', async () => {
    const start = Date.now();
    mock.timers.enable({ apis: ['Date'], now: start });
    const { cache } = countingCache();
    assert.ok(await cache.verify(key, await token({ subject: 'short', ttlSeconds: 60, now: start }), AUD));
    assert.ok(await cache.verify(key, await token({ subject: 'long', ttlSeconds: 600, now: start }), AUD));
    assert.equal(cache.size, 2);
    mock.timers.setTime(start + 61_000);
    assert.ok(await cache.verify(key, await token({ subject: 'new', ttlSeconds: 600, now: start + 61_000 }), AUD));
    assert.equal(cache.size, 2, 'the expired entry went, the live ones stay');
  });

  it('hands out copies: changing a result does not change what later requests see', async () => {
    const { cache } = countingCache();
    const t = await token();
    const first = await cache.verify(key, t, AUD);
    first!.access[0]!.actions.push('push');
    first!.access.push({ type: 'repository', name: 'x/y', actions: ['delete'] });
    const second = await cache.verify(key, t, AUD);
    assert.deepEqual(second!.access, access);
  });
});
