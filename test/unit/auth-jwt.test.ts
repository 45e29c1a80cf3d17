import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { signAccessToken, signRefreshToken, verifyAccessToken, verifyRefreshToken } from '../../worker/auth/jwt.ts';
import { loadSigningKey, type SigningKey } from '../../worker/auth/signing-key.ts';
import { memoryStore } from '../support/auth-memory-store.ts';
import { toBase64Url } from '../../worker/auth/bytes.ts';

const AUD = 'registry.test';
const access = [{ type: 'repository' as const, name: 'team/app', actions: ['pull' as const] }];

describe('registry tokens', () => {
  let key: SigningKey;
  let other: SigningKey;
  before(async () => {
    key = await loadSigningKey(memoryStore(), undefined);
    other = await loadSigningKey(memoryStore(), undefined);
  });

  async function good(): Promise<string> {
    return (await signAccessToken(key, { subject: 'bob', audience: AUD, access, ttlSeconds: 300 })).token;
  }

  it('round-trips claims', async () => {
    const claims = await verifyAccessToken(key, await good(), AUD);
    assert.equal(claims?.subject, 'bob');
    assert.deepEqual(claims?.access, access);
  });

  it('refuses alg none', async () => {
    const none = new UnsecuredJWT({ access }).setIssuer(key.issuer).setSubject('bob').setAudience(AUD)
      .setIssuedAt().setExpirationTime('5m').encode();
    assert.equal(await verifyAccessToken(key, none, AUD), null);
  });

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const publicJwk = await exportJWK(key.publicKey);
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const forged = await new SignJWT({ access }).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' })
      .setIssuer('berth').setSubject('admin').setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(secret);
    assert.equal(await verifyAccessToken(key, forged, AUD), null);
  });

  it('refuses tampered payloads and foreign keys', async () => {
    const [h, , s] = (await good()).split('.');
    const payload = toBase64Url(new TextEncoder().encode(JSON.stringify({
      access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }],
      iss: 'berth', sub: 'bob', aud: AUD, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300,
    })));
    assert.equal(await verifyAccessToken(key, `${h}.${payload}.${s}`, AUD), null);
    const foreign = (await signAccessToken(other, { subject: 'bob', audience: AUD, access, ttlSeconds: 300 })).token;
    assert.equal(await verifyAccessToken(key, foreign, AUD), null);
  });

  it('refuses expired tokens (beyond the leeway) and not-yet-valid ones', async () => {
    const old = await signAccessToken(key, { subject: 'bob', audience: AUD, access, ttlSeconds: 60, now: Date.now() - 3600_000 });
    assert.equal(await verifyAccessToken(key, old.token, AUD), null);
    const future = await signAccessToken(key, { subject: 'bob', audience: AUD, access, ttlSeconds: 60, now: Date.now() + 3600_000 });
    assert.equal(await verifyAccessToken(key, future.token, AUD), null);
  });

  it('refuses a wrong audience, issuer or key id', async () => {
    assert.equal(await verifyAccessToken(key, await good(), 'other.registry'), null);
    const wrongIss = await new SignJWT({ access }).setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer('someone-else').setSubject('bob').setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(key.privateKey);
    assert.equal(await verifyAccessToken(key, wrongIss, AUD), null);
    const wrongKid = await new SignJWT({ access }).setProtectedHeader({ alg: 'ES256', kid: 'nope', typ: 'JWT' })
      .setIssuer(key.issuer).setSubject('bob').setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(key.privateKey);
    assert.equal(await verifyAccessToken(key, wrongKid, AUD), null);
  });

  it('refuses malformed access claims', async () => {
    const bad = await new SignJWT({ access: [{ type: 'repository', name: '../x', actions: ['pull'] }] })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
      .setIssuer(key.issuer).setSubject('bob').setAudience(AUD).setIssuedAt().setExpirationTime('5m').sign(key.privateKey);
    assert.equal(await verifyAccessToken(key, bad, AUD), null);
  });

  it('keeps refresh and access tokens apart', async () => {
    const refresh = await signRefreshToken(key, { subject: 'bob', audience: AUD, stamp: 'stamp-3', ttlSeconds: 3600 });
    assert.equal(await verifyAccessToken(key, refresh, AUD), null);
    assert.equal(await verifyRefreshToken(key, await good(), AUD), null);
    assert.deepEqual(await verifyRefreshToken(key, refresh, AUD), { subject: 'bob', stamp: 'stamp-3' });
  });

  it('measures one verification', async (t) => {
    const token = await good();
    await verifyAccessToken(key, token, AUD);
    const runs = 200;
    const start = process.cpuUsage();
    for (let i = 0; i < runs; i++) await verifyAccessToken(key, token, AUD);
    const used = process.cpuUsage(start);
    t.diagnostic(`one token check (ES256 verify + claims): ${((used.user + used.system) / 1000 / runs).toFixed(3)} ms CPU`);
  });
});

describe('signing key', () => {
  it('every instance on one bucket agrees on the generated key', async () => {
    const store = memoryStore();
    const [a, b] = await Promise.all([loadSigningKey(store, undefined), loadSigningKey(store, undefined)]);
    const c = await loadSigningKey(store, undefined);
    assert.equal(a.kid, c.kid);
    assert.equal(b.kid, c.kid);
    assert.equal(a.issuer, c.issuer);
    assert.equal(b.issuer, c.issuer);
  });

  it('two deployments given one key have their own issuers and refuse each other\'s tokens', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportPKCS8(privateKey);
    const [a, b] = await Promise.all([loadSigningKey(memoryStore(), pem), loadSigningKey(memoryStore(), pem)]);
    assert.equal(a.kid, b.kid);
    assert.notEqual(a.issuer, b.issuer);
    assert.match(a.issuer, /^berth:[A-Za-z0-9_-]{22}$/);
    const token = (await signAccessToken(a, { subject: 'bob', audience: AUD, access, ttlSeconds: 300 })).token;
    assert.ok(await verifyAccessToken(a, token, AUD));
    assert.equal(await verifyAccessToken(b, token, AUD), null);
    const refresh = await signRefreshToken(a, { subject: 'bob', audience: AUD, stamp: 's', ttlSeconds: 3600 });
    assert.equal(await verifyRefreshToken(b, refresh, AUD), null);
  });

  it('accepts a configured PKCS8 PEM or JWK and refuses other key types', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const fromPem = await loadSigningKey(memoryStore(), await exportPKCS8(privateKey));
    const fromJwk = await loadSigningKey(memoryStore(), JSON.stringify(await exportJWK(privateKey)));
    assert.equal(fromPem.kid, fromJwk.kid);
    const rsa = await generateKeyPair('RS256', { extractable: true });
    await assert.rejects(loadSigningKey(memoryStore(), JSON.stringify(await exportJWK(rsa.privateKey))));
  });
});
