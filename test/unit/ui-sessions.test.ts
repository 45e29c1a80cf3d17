/** Web UI sessions (auth/browser-sessions.ts, auth/session-token.ts) over an in-memory store. */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BrowserSessions } from '../../worker/auth/browser-sessions.ts';
import { signAccessToken, signRefreshToken, verifyAccessToken, verifyRefreshToken } from '../../worker/auth/jwt.ts';
import { hashPassword } from '../../worker/auth/password.ts';
import { signSessionToken, verifySessionToken } from '../../worker/auth/session-token.ts';
import { authSettingsFromEnv } from '../../worker/auth/settings.ts';
import { TokenAuthorizer } from '../../worker/auth/token-authorizer.ts';
import { newStamp } from '../../worker/auth/users.ts';
import { RegistryError } from '../../worker/oci/errors.ts';
import { memoryStore } from '../support/auth-memory-store.ts';

const req = new Request('http://registry.test/ui/');
const AUD = 'registry.test';
const STAMP = newStamp();

describe('web UI sessions', () => {
  let auth: TokenAuthorizer;
  before(async () => {
    auth = new TokenAuthorizer(memoryStore(), authSettingsFromEnv({ BERTH_PBKDF2_ITERATIONS: '10000' }));
    const now = new Date().toISOString();
    await auth.accounts.users.put({
      account: 'alice', passwordHash: await hashPassword('alice-password', 10000), admin: false,
      rules: [{ pattern: 'team/**', actions: ['pull'] }], stamp: STAMP, createdAt: now, updatedAt: now,
    }, { create: true });
  });

  it('signs in with the password and resumes from the token; the token holds no password', async () => {
    const sessions = new BrowserSessions(auth);
    const issued = await sessions.signIn(req, undefined, 'alice', 'alice-password');
    assert.ok(!issued.token.includes('alice-password'));
    assert.ok(!atob(issued.token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')).includes('alice-password'));
    assert.equal(issued.maxAge, 15 * 60);
    const session = await sessions.resume(req, issued.token);
    assert.equal(session?.identity.kind, 'user');
    assert.ok((session?.csrf.length ?? 0) >= 32);
    assert.equal(session?.renewed, undefined, 'a fresh token is not renewed');
  });

  it('refuses a wrong password with UNAUTHORIZED', async () => {
    await assert.rejects(new BrowserSessions(auth).signIn(req, undefined, 'alice', 'nope'), (e: unknown) => e instanceof RegistryError && e.code === 'UNAUTHORIZED');
  });

  it('renews a token past half its life, keeping the form token; ends after the maximum age', async () => {
    const key = await auth.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const old = await signSessionToken(key, { subject: 'alice', stamp: STAMP, csrf: 'c'.repeat(32), startedAt: now - 600, audience: AUD, ttlSeconds: 900, now: (now - 600) * 1000 });
    const session = await new BrowserSessions(auth).resume(req, old.token);
    assert.ok(session?.renewed, 'renewed');
    assert.equal(session.csrf, 'c'.repeat(32));
    const renewed = await verifySessionToken(key, session.renewed.token, AUD);
    assert.equal(renewed?.startedAt, now - 600, 'the session start stays');
    const ancient = await signSessionToken(key, { subject: 'alice', stamp: STAMP, csrf: 'c'.repeat(32), startedAt: now - 13 * 3600, audience: AUD, ttlSeconds: 900 });
    assert.equal(await new BrowserSessions(auth).resume(req, ancient.token), null, 'past SESSION_MAX_SECONDS');
  });

  it('a password change (new stamp) or a deleted user ends the session', async () => {
    const sessions = new BrowserSessions(auth);
    const issued = await sessions.signIn(req, undefined, 'alice', 'alice-password');
    const user = (await auth.accounts.users.get('alice'))!;
    await auth.accounts.users.put({ ...user, stamp: newStamp() });
    assert.equal(await sessions.resume(req, issued.token), null, 'new stamp');
    await auth.accounts.users.put(user);
    const again = await sessions.signIn(req, undefined, 'alice', 'alice-password');
    await auth.accounts.users.delete('alice');
    assert.equal(await sessions.resume(req, again.token), null, 'deleted');
    await auth.accounts.users.put(user);
  });

  it('session, access and refresh tokens never stand in for one another', async () => {
    const key = await auth.signingKey();
    const session = (await signSessionToken(key, { subject: 'alice', stamp: STAMP, csrf: 'c'.repeat(32), startedAt: Math.floor(Date.now() / 1000), audience: AUD, ttlSeconds: 900 })).token;
    const access = (await signAccessToken(key, { subject: 'alice', audience: AUD, access: [], ttlSeconds: 300 })).token;
    const refresh = await signRefreshToken(key, { subject: 'alice', audience: AUD, stamp: STAMP, ttlSeconds: 3600 });
    assert.equal(await verifyAccessToken(key, session, AUD), null);
    assert.equal(await verifyRefreshToken(key, session, AUD), null);
    assert.equal(await verifySessionToken(key, access, AUD), null);
    assert.equal(await verifySessionToken(key, refresh, AUD), null);
    assert.equal(await verifySessionToken(key, session, 'other.test'), null, 'audience pinned');
    assert.equal(await verifySessionToken(key, `${session.slice(0, -4)}AAAA`, AUD), null, 'signature checked');
  });
});
