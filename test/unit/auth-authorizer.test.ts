import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authSettingsFromEnv, bootstrapAdmin, createAuthorizer } from '../../worker/auth/index.ts';
import { unnamedServiceWarning } from '../../worker/auth/challenge.ts';
import { LoginThrottle } from '../../worker/auth/throttle.ts';
import { UserStore } from '../../worker/auth/users.ts';
import { RegistryError } from '../../worker/oci/errors.ts';
import { memoryStore } from '../support/auth-memory-store.ts';

const env = { BERTH_PBKDF2_ITERATIONS: '10000', BERTH_ADMIN_PASSWORD: 'first-password', BERTH_PUBLIC_REPOS: 'pub/*' };
const req = (auth?: string) => new Request('http://reg.test/v2/x', { headers: auth ? { Authorization: auth } : {} });
const basic = (u: string, p: string) => `Basic ${btoa(`${u}:${p}`)}`;

async function rejectsWith(promise: Promise<unknown>, code: string, status?: number): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RegistryError);
    assert.equal(error.code, code);
    if (status) assert.equal(error.status, status);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('bootstrapAdmin', () => {
  it('creates admin once, prints a generated password only once, resets only on request', async () => {
    const store = memoryStore();
    const lines: string[] = [];
    await bootstrapAdmin(store, { BERTH_PBKDF2_ITERATIONS: '10000' }, (l) => lines.push(l));
    await bootstrapAdmin(store, { BERTH_PBKDF2_ITERATIONS: '10000' }, (l) => lines.push(l));
    assert.equal(lines.length, 1);
    const generated = /password (\S+)/.exec(lines[0]!)?.[1];
    assert.ok(generated && generated.length >= 20);
    const users = new UserStore(store);
    const before = (await users.get('admin'))!.passwordHash;
    await bootstrapAdmin(store, { ...env }, () => {});
    assert.equal((await users.get('admin'))!.passwordHash, before, 'stored password left alone');
    const resetLog: string[] = [];
    await bootstrapAdmin(store, { ...env, BERTH_ADMIN_PASSWORD_RESET: 'true' }, (l) => resetLog.push(l));
    assert.notEqual((await users.get('admin'))!.passwordHash, before);
    assert.ok(!resetLog.join('').includes('first-password'), 'the password is never logged');
  });
});

describe('token authorizer', () => {
  it('validates names before deciding, challenges anonymous callers, allows public pulls', async () => {
    const store = memoryStore();
    await bootstrapAdmin(store, env, () => {});
    const auth = createAuthorizer(store, env);
    await rejectsWith(auth.authorize(req(), [{ type: 'repository', name: '../etc', actions: ['pull'] }]), 'NAME_INVALID');
    const challenge = await rejectsWith(auth.authorize(req(), []), 'UNAUTHORIZED', 401);
    assert.equal(challenge.headers['WWW-Authenticate'], 'Bearer realm="http://reg.test/token",service="reg.test"');
    const anon = await auth.authorize(req(), [{ type: 'repository', name: 'pub/a', actions: ['pull'] }]);
    assert.equal(anon.subject, null);
    assert.equal(auth.allows(anon, { type: 'repository', name: 'pub/b', actions: ['pull'] }), true);
    assert.equal(auth.allows(anon, { type: 'repository', name: 'priv', actions: ['pull'] }), false);
    await rejectsWith(auth.authorize(req(), [{ type: 'repository', name: 'pub/a', actions: ['pull', 'push'] }]), 'UNAUTHORIZED');
  });

  it('Basic admin may do everything; allows answers beyond the request', async () => {
    const store = memoryStore();
    await bootstrapAdmin(store, env, () => {});
    const auth = createAuthorizer(store, env);
    const p = await auth.authorize(req(basic('admin', 'first-password')), [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
    assert.equal(p.admin, true);
    assert.equal(auth.allows(p, { type: 'repository', name: 'x/y', actions: ['*'] }), true);
  });

  it('throttles failed logins per account with 429 and Retry-After', async () => {
    const store = memoryStore();
    await bootstrapAdmin(store, env, () => {});
    const auth = createAuthorizer(store, env);
    for (let i = 0; i < 10; i++) await rejectsWith(auth.authorize(req(basic('admin', `bad${i}`)), []), 'UNAUTHORIZED');
    const limited = await rejectsWith(auth.authorize(req(basic('admin', 'first-password')), []), 'TOOMANYREQUESTS', 429);
    assert.ok(Number(limited.headers['Retry-After']) > 0);
  });

  it('BERTH_AUTH=none allows everything and warns', async () => {
    const lines: string[] = [];
    const auth = createAuthorizer(memoryStore(), { BERTH_AUTH: 'none' }, { log: (l) => lines.push(l) });
    const p = await auth.authorize(req(), [{ type: 'repository', name: 'a', actions: ['push'] }]);
    assert.equal(auth.allows(p, { type: 'repository', name: 'b', actions: ['delete'] }), true);
    assert.match(lines.join(''), /WARNING/);
  });

  it('refuses bad settings with the variable named', () => {
    assert.throws(() => createAuthorizer(memoryStore(), { BERTH_AUTH: 'maybe' }), /BERTH_AUTH/);
    assert.throws(() => createAuthorizer(memoryStore(), { BERTH_TOKEN_TTL_SECONDS: '5' }), /BERTH_TOKEN_TTL_SECONDS/);
    assert.throws(() => createAuthorizer(memoryStore(), { BERTH_PBKDF2_ITERATIONS: '5000' }), /BERTH_PBKDF2_ITERATIONS/);
    assert.throws(() => createAuthorizer(memoryStore(), { BERTH_PBKDF2_ITERATIONS: '500000' }, { runtime: { maxPbkdf2Iterations: 100_000 } }), /BERTH_PBKDF2_ITERATIONS/);
    assert.throws(() => createAuthorizer(memoryStore(), { BERTH_PUBLIC_REPOS: 'ok/*,BAD' }), /BERTH_PUBLIC_REPOS/);
  });
});

describe('login throttle', () => {
  it('locks per account and address and per address for the window, then forgets', () => {
    let now = 0;
    const t = new LoginThrottle({ windowSeconds: 60, perAccount: 2, perAddress: 3 }, () => now);
    t.recordFailure('bob', '1.2.3.4');
    assert.equal(t.retryAfter('bob', '1.2.3.4'), 0);
    t.recordFailure('bob', '1.2.3.4');
    assert.equal(t.retryAfter('bob', '1.2.3.4'), 60);
    assert.equal(t.retryAfter('bob', '9.9.9.9'), 0, 'the owner from another address is not locked out');
    t.recordFailure('eve', '1.2.3.4');
    assert.equal(t.retryAfter('carol', '1.2.3.4'), 60, 'address limit');
    now = 61_000;
    assert.equal(t.retryAfter('bob', '1.2.3.4'), 0);
  });

  it('without an address, counts the account alone; a success clears only its own pair', () => {
    const t = new LoginThrottle({ windowSeconds: 60, perAccount: 1, perAddress: 5 }, () => 0);
    t.recordFailure('bob', null);
    assert.equal(t.retryAfter('bob', null), 60);
    t.recordFailure('bob', '1.2.3.4');
    t.recordSuccess('bob', '5.6.7.8');
    assert.equal(t.retryAfter('bob', '1.2.3.4'), 60);
    t.recordSuccess('bob', '1.2.3.4');
    assert.equal(t.retryAfter('bob', '1.2.3.4'), 0);
  });
});

describe('unnamed service', () => {
  it('warns a server listening beyond loopback without BERTH_PUBLIC_URL or BERTH_SERVICE', () => {
    const settings = (env: Record<string, string>) => authSettingsFromEnv({ BERTH_ADMIN_PASSWORD: 'long-enough-password', ...env });
    assert.match(unnamedServiceWarning(settings({}), '0.0.0.0') ?? '', /BERTH_PUBLIC_URL/);
    assert.equal(unnamedServiceWarning(settings({}), '127.0.0.1'), null);
    assert.equal(unnamedServiceWarning(settings({}), '::1'), null);
    assert.equal(unnamedServiceWarning(settings({ BERTH_PUBLIC_URL: 'https://r.example' }), '0.0.0.0'), null);
    assert.equal(unnamedServiceWarning(settings({ BERTH_SERVICE: 'r.example' }), '::'), null);
    assert.equal(unnamedServiceWarning(settings({ BERTH_AUTH: 'none' }), '0.0.0.0'), null);
  });
});

describe('password settings per runtime', () => {
  it('Node hashes with 600,000 PBKDF2 iterations; the Workers entry caps them at workerd\'s 100,000', () => {
    assert.equal(authSettingsFromEnv({}).pbkdf2Iterations, 600_000);
    assert.equal(authSettingsFromEnv({}, { maxPbkdf2Iterations: 100_000 }).pbkdf2Iterations, 100_000);
    assert.throws(() => authSettingsFromEnv({ BERTH_PBKDF2_ITERATIONS: '600000' }, { maxPbkdf2Iterations: 100_000 }), /BERTH_PBKDF2_ITERATIONS/);
    assert.equal(authSettingsFromEnv({ BERTH_PBKDF2_ITERATIONS: '2000000' }).pbkdf2Iterations, 2_000_000);
  });

  it('BERTH_ADMIN_PASSWORD needs 12 characters', () => {
    assert.throws(() => authSettingsFromEnv({ BERTH_ADMIN_PASSWORD: 'eleven-char' }), /at least 12 characters/);
    assert.equal(authSettingsFromEnv({ BERTH_ADMIN_PASSWORD: 'twelve-chars' }).adminPassword, 'twelve-chars');
  });
});
