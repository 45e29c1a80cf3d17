/**
 * Authentication and authorization over HTTP against a real Node server process
 * (`worker/runtime/node.ts`, filesystem store, token auth on): docker's login sequence,
 * containerd's POST-then-GET, refresh tokens, robot tokens, rules, anonymous access and every
 * refusal the token checks make.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT, UnsecuredJWT, calculateJwkThumbprint } from 'jose';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { authedFetch, parseChallenge } from '../support/auth-client.ts';
import { testPort } from '../support/ports.ts';

const PORT = testPort(15210);
const ADMIN = { username: 'admin', password: 'admin-secret-1' };
const basic = (u: string, p: string): string => `Basic ${btoa(`${u}:${p}`)}`;

describe('auth over HTTP (Node server)', () => {
  let target: NodeTarget;
  let base: string;
  let service: string;
  let signingKey: CryptoKey;
  let kid: string;
  /** This deployment's `iss`, read from a token it issued (it is drawn per bucket). */
  let issuer: string;

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${base}${path}`, { headers, redirect: 'manual' });
  const post = (path: string, headers: Record<string, string> = {}, body?: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers, body, redirect: 'manual' });
  async function admin(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${base}${path}`, {
      method, headers: { Authorization: basic(ADMIN.username, ADMIN.password), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }
  async function token(user: string | null, password: string, scopes: string[], extra = ''): Promise<Response> {
    const q = new URLSearchParams({ service, client_id: 'test' });
    for (const s of scopes) q.append('scope', s);
    return get(`/token?${q}${extra}`, user === null ? {} : { Authorization: basic(user, password) });
  }
  async function tokenOf(res: Response): Promise<{ token: string; access_token: string; expires_in: number; issued_at: string; refresh_token?: string }> {
    assert.equal(res.status, 200, await res.clone().text());
    return res.json() as never;
  }
  function claims(jwt: string): { access: { type: string; name: string; actions: string[] }[]; sub: string; iss: string } {
    return JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as never;
  }
  async function forge(payload: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }], ...payload })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT', ...header })
      .setIssuer((payload.iss as string) ?? issuer).setSubject('admin').setAudience((payload.aud as string) ?? service)
      .setIssuedAt((payload.iat as number) ?? now).setExpirationTime((payload.exp as number) ?? now + 300).sign(signingKey);
  }

  before(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    signingKey = pair.privateKey;
    const { d: _d, ...pub } = await exportJWK(pair.privateKey);
    kid = await calculateJwkThumbprint(pub);
    target = await startNodeTarget({
      port: PORT,
      env: {
        BERTH_ADMIN_PASSWORD: ADMIN.password,
        BERTH_PUBLIC_REPOS: 'pub/**',
        BERTH_PBKDF2_ITERATIONS: '10000',
        BERTH_JWT_PRIVATE_KEY: await exportPKCS8(pair.privateKey),
      },
    });
    base = target.url;
    service = new URL(base).host;
    issuer = claims((await tokenOf(await token(null, '', []))).token).iss;
    for (const [account, rules] of [['puller', ['team/**=pull']], ['pusher', ['team/**=pull,push']]] as const) {
      const res = await admin('POST', '/admin/users', { account, password: `${account}-password`, rules });
      assert.equal(res.status, 201, await res.text());
    }
  });
  after(async () => {
    await target?.stop();
  });

  it('GET /v2/ without credentials: 401 Bearer challenge without scope (docker login starts here)', async () => {
    const res = await get('/v2/');
    assert.equal(res.status, 401);
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    assert.deepEqual(challenge, { realm: `${base}/token`, service });
  });

  it("docker login: GET realm with Basic + offline_token gets a token and no refresh token (docker would store it as an identity token)", async () => {
    const body = await tokenOf(await get(`/token?account=admin&client_id=docker&offline_token=true&service=${service}`, {
      Authorization: basic(ADMIN.username, ADMIN.password),
    }));
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    assert.ok(!Number.isNaN(Date.parse(body.issued_at)));
    assert.ok(!('refresh_token' in body), 'a refresh token here makes docker store an identitytoken, which podman and skopeo refuse');
    assert.equal((await get('/v2/', { Authorization: `Bearer ${body.token}` })).status, 200);
  });

  it("a refresh token issued before (docker's stored identity token) still refreshes, returned unchanged", async () => {
    const form = (fields: Record<string, string>) => post('/token', { 'Content-Type': 'application/x-www-form-urlencoded' }, new URLSearchParams(fields).toString());
    const login = await tokenOf(await form({ grant_type: 'password', username: ADMIN.username, password: ADMIN.password, service, client_id: 'docker', access_type: 'offline' }));
    assert.ok(login.refresh_token);
    const refreshed = await tokenOf(await form({ grant_type: 'refresh_token', refresh_token: login.refresh_token!, service, client_id: 'docker', scope: 'repository:team/app:pull' }));
    assert.deepEqual(claims(refreshed.token).access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    assert.equal(refreshed.refresh_token, login.refresh_token, 'docker re-sends the token it has and ignores a rotated one');
  });

  it('bad password: 401 at /token and on /v2 Basic', async () => {
    assert.equal((await token('admin', 'wrong', [])).status, 401);
    const res = await get('/v2/', { Authorization: basic('admin', 'wrong') });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.equal((await token('nobody', 'whatever', [])).status, 401);
  });

  it("containerd: POST grant_type=password first, falls back to GET; refresh via POST", async () => {
    const form = (fields: Record<string, string>) => post('/token', { 'Content-Type': 'application/x-www-form-urlencoded' }, new URLSearchParams(fields).toString());
    const ok = await tokenOf(await form({ grant_type: 'password', username: 'pusher', password: 'pusher-password', service, client_id: 'containerd', access_type: 'offline', scope: 'repository:team/app:pull,push' }));
    assert.deepEqual(claims(ok.access_token).access[0]?.actions, ['pull', 'push']);
    assert.ok(ok.refresh_token);
    assert.equal((await form({ grant_type: 'password', username: 'pusher', password: 'nope', service, client_id: 'c' })).status, 401);
    assert.equal((await form({ grant_type: 'client_credentials', service, client_id: 'c' })).status, 400);
    assert.equal((await form({ grant_type: 'refresh_token', refresh_token: 'garbage', service, client_id: 'c' })).status, 401);
    assert.equal((await form({ grant_type: 'refresh_token', refresh_token: ok.access_token, service, client_id: 'c' })).status, 401, 'an access token is no refresh token');
    const again = await tokenOf(await form({ grant_type: 'refresh_token', refresh_token: ok.refresh_token!, service, client_id: 'c', scope: 'repository:team/app:push' }));
    assert.deepEqual(claims(again.access_token).access[0]?.actions, ['push']);
  });

  it('pull-only user: pull allowed, push refused with 403 DENIED (Basic and token)', async () => {
    const auth = { Authorization: basic('puller', 'puller-password') };
    const list = await get('/v2/team/app/tags/list', auth);
    assert.ok(list.status !== 401 && list.status !== 403, `pull answered ${list.status}`);
    const up = await post('/v2/team/app/blobs/uploads/', auth);
    assert.equal(up.status, 403);
    assert.equal(((await up.json()) as { errors: { code: string }[] }).errors[0]?.code, 'DENIED');
    const t = await tokenOf(await token('puller', 'puller-password', ['repository:team/app:pull,push']));
    assert.deepEqual(claims(t.token).access, [{ type: 'repository', name: 'team/app', actions: ['pull'] }], 'granted = asked ∩ allowed');
    const upToken = await post('/v2/team/app/blobs/uploads/', { Authorization: `Bearer ${t.token}` });
    assert.equal(upToken.status, 403);
    const catalog = await get('/v2/_catalog', auth);
    assert.equal(catalog.status, 200, 'with Basic, the catalog lists what the account may pull');
    const { repositories } = (await catalog.json()) as { repositories: string[] };
    assert.ok(repositories.every((name) => name.startsWith('team/') || name.startsWith('pub/')), repositories.join(','));
    const tokenCatalog = await get('/v2/_catalog', { Authorization: `Bearer ${t.token}` });
    assert.equal(tokenCatalog.status, 403, 'a token without registry:catalog:* is refused, as the token spec has it');
  });

  it('pusher through authedFetch (the Bearer dance) can start an upload', async () => {
    const f = authedFetch(base, { username: 'pusher', password: 'pusher-password' });
    const res = await f('/v2/team/app/blobs/uploads/', { method: 'POST' });
    assert.equal(res.status, 202, await res.text());
    assert.equal((await f('/v2/other/app/blobs/uploads/', { method: 'POST' })).status, 403);
  });

  it('token for one repository does not open another; missing scope asks again (insufficient_scope)', async () => {
    const t = await tokenOf(await token('admin', ADMIN.password, ['repository:team/app:pull']));
    const res = await get('/v2/team/other/tags/list', { Authorization: `Bearer ${t.token}` });
    assert.equal(res.status, 401);
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    assert.equal(challenge?.scope, 'repository:team/other:pull');
    assert.equal(challenge?.error, 'insufficient_scope');
    const pullerToken = await tokenOf(await token('puller', 'puller-password', ['repository:team/app:pull']));
    assert.equal((await get('/v2/secret/x/tags/list', { Authorization: `Bearer ${pullerToken.token}` })).status, 403);
  });

  it('anonymous: push refused with 401, public repos pullable, anonymous tokens carry only public pull', async () => {
    const push = await post('/v2/pub/x/blobs/uploads/');
    assert.equal(push.status, 401);
    assert.equal(parseChallenge(push.headers.get('www-authenticate'))?.scope, 'repository:pub/x:pull,push');
    const pull = await get('/v2/pub/x/tags/list');
    assert.ok(pull.status !== 401 && pull.status !== 403, `public pull answered ${pull.status}`);
    assert.equal((await get('/v2/team/app/tags/list')).status, 401);
    const anon = await tokenOf(await token(null, '', ['repository:pub/x:pull,push', 'repository:team/app:pull']));
    assert.deepEqual(claims(anon.token).access, [{ type: 'repository', name: 'pub/x', actions: ['pull'] }]);
    assert.equal(claims(anon.token).sub, '');
    assert.ok(!('refresh_token' in anon));
    const anonPush = await post('/v2/pub/x/blobs/uploads/', { Authorization: `Bearer ${anon.token}` });
    assert.equal(anonPush.status, 401);
  });

  it('refuses forged, tampered, expired, wrong-audience and wrong-issuer tokens', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await forge({});
    assert.equal((await post('/v2/team/app/blobs/uploads/', { Authorization: `Bearer ${valid}` })).status, 202, 'control: a correctly signed token works');
    const [h, p, s] = valid.split('.');
    const bad: Record<string, string> = {
      none: new UnsecuredJWT({ access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }] })
        .setIssuer(issuer).setSubject('admin').setAudience(service).setIssuedAt().setExpirationTime('5m').encode(),
      hs256: await new SignJWT({ access: [] }).setProtectedHeader({ alg: 'HS256', kid }).setIssuer('berth').setSubject('admin')
        .setAudience(service).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(JSON.stringify(await exportJWK(signingKey)))),
      tampered: `${h}.${p!.slice(0, -2)}${p!.slice(-2) === 'AA' ? 'BB' : 'AA'}.${s}`,
      badSignature: `${h}.${p}.${s!.slice(0, -4)}AAAA`,
      expired: await forge({ iat: now - 7200, exp: now - 3600 }),
      audience: await forge({ aud: 'other.example' }),
      issuer: await forge({ iss: 'evil' }),
      kid: await forge({}, { kid: 'other' }),
      refreshTyp: await forge({}, { typ: 'berth-refresh+jwt' }),
    };
    for (const [name, jwt] of Object.entries(bad)) {
      const res = await post('/v2/team/app/blobs/uploads/', { Authorization: `Bearer ${jwt}` });
      assert.equal(res.status, 401, name);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/, name);
    }
  });

  it('robot token works as a password with any username, is scoped, listed and revocable', async () => {
    const created = await admin('POST', '/admin/tokens', { name: 'ci', scopes: ['team/*=pull,push'], expiresInSeconds: 3600 });
    assert.equal(created.status, 201);
    const { id, secret } = (await created.json()) as { id: string; secret: string };
    assert.match(secret, /^berth_pat_/);
    assert.equal((await post('/v2/team/app/blobs/uploads/', { Authorization: basic('anything', secret) })).status, 202);
    assert.equal((await post('/v2/other/app/blobs/uploads/', { Authorization: basic('ci', secret) })).status, 403);
    const viaToken = await tokenOf(await token('ci', secret, ['repository:team/app:push,delete']));
    assert.deepEqual(claims(viaToken.token).access[0]?.actions, ['push']);
    assert.equal((await get('/admin/users', { Authorization: basic('ci', secret) })).status, 403, 'robots never administer');
    const listed = (await (await admin('GET', '/admin/tokens')).json()) as { tokens: { id: string; secretHash?: string }[] };
    assert.ok(listed.tokens.some((t) => t.id === id && t.secretHash === undefined));
    assert.equal((await admin('DELETE', `/admin/tokens/${id}`)).status, 204);
    assert.equal((await post('/v2/team/app/blobs/uploads/', { Authorization: basic('ci', secret) })).status, 401);
  });

  it('admin API: requires an admin; users can be listed, changed and deleted; password change kills refresh tokens', async () => {
    assert.equal((await get('/admin/users')).status, 401);
    assert.equal((await get('/admin/users', { Authorization: basic('puller', 'puller-password') })).status, 403);
    const registryToken = await tokenOf(await token('admin', ADMIN.password, []));
    assert.equal((await get('/admin/users', { Authorization: `Bearer ${registryToken.token}` })).status, 403, 'a registry token is not for the admin API');
    const adminToken = await tokenOf(await token('admin', ADMIN.password, ['registry:admin:*']));
    assert.equal((await get('/admin/users', { Authorization: `Bearer ${adminToken.token}` })).status, 200);
    assert.equal((await admin('POST', '/admin/users', { account: 'Bad Name', password: 'whatever1' })).status, 400);
    assert.equal((await admin('POST', '/admin/users', { account: 'puller', password: 'whatever1' })).status, 409);
    assert.equal((await admin('POST', '/admin/users', { account: 'temp', password: 'temp-password' })).status, 201);
    const login = await tokenOf(await post('/token', { 'Content-Type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ grant_type: 'password', username: 'temp', password: 'temp-password', service, client_id: 'x', access_type: 'offline' }).toString()));
    assert.equal((await admin('PUT', '/admin/users/temp/password', { password: 'temp-password-2' })).status, 204);
    const stale = await post('/token', { 'Content-Type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: login.refresh_token!, service, client_id: 'x' }).toString());
    assert.equal(stale.status, 401);
    assert.equal((await admin('PUT', '/admin/users/temp/rules', { rules: ['pub/**=push'] })).status, 200);
    assert.equal((await post('/v2/pub/t/blobs/uploads/', { Authorization: basic('temp', 'temp-password-2') })).status, 202);
    const users = (await (await admin('GET', '/admin/users')).json()) as { users: { account: string; passwordHash?: string }[] };
    assert.deepEqual(users.users.map((u) => u.account).sort(), ['admin', 'puller', 'pusher', 'temp']);
    assert.ok(users.users.every((u) => u.passwordHash === undefined));
    assert.equal((await admin('DELETE', '/admin/users/temp')).status, 204);
    assert.equal((await get('/v2/', { Authorization: basic('temp', 'temp-password-2') })).status, 401);
  });

  it('throttles repeated failed logins with 429 and Retry-After', async () => {
    await admin('POST', '/admin/users', { account: 'victim', password: 'victim-password' });
    let last: Response | undefined;
    for (let i = 0; i < 11; i++) last = await token('victim', `guess-${i}`, []);
    assert.equal(last?.status, 429);
    assert.ok(Number(last?.headers.get('retry-after')) > 0);
    assert.equal((await token('victim', 'victim-password', [])).status, 429, 'locked even with the right password');
  });

  it('never logs secrets', () => {
    const logs = target.logs();
    for (const secret of [ADMIN.password, 'puller-password', 'pusher-password', 'berth_pat_']) {
      assert.ok(!logs.includes(secret), `logs contain ${secret.slice(0, 4)}…`);
    }
  });
});
