/**
 * Regressions of the security review, each against a real Node server process (filesystem
 * store, token auth): what an attacker sent, and what must happen now. Each test is named
 * after the finding it guards.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { peakRss, rawExchange, requestFrom, requestPath } from '../support/raw-http.ts';
import { exportPKCS8, generateKeyPair } from 'jose';
import { testPort } from '../support/ports.ts';
import { berth } from '../support/berth-cli.ts';
import { errorCode, errorCodeOf, OCI_MANIFEST, RegistryClient } from '../support/registry-client.ts';

const PORT = testPort(15260);
const MiB = 1024 * 1024;
const ADMIN = { username: 'admin', password: 'security-admin-password' };
const basic = (u: string, p: string): string => `Basic ${btoa(`${u}:${p}`)}`;

describe('security review regressions (Node server)', { timeout: 300_000 }, () => {
  let target: NodeTarget;
  let base: string;
  /** The signing key, which finding 10's second deployment is given too. */
  let sharedKey: string;

  async function admin(method: string, path: string, body?: unknown, auth = basic(ADMIN.username, ADMIN.password)): Promise<Response> {
    return fetch(`${base}${path}`, {
      method,
      headers: { Authorization: auth, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  }

  before(async () => {
    // A store as older versions left it: world-readable files under auth/, open directories.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'berth-security-'));
    await mkdir(path.join(dataDir, 'objects', 'auth', 'users'), { recursive: true });
    await writeFile(path.join(dataDir, 'objects', 'auth', 'leftover%'), 'old', { mode: 0o644 });
    for (const dir of ['', 'objects', 'objects/auth', 'objects/auth/users']) await chmod(path.join(dataDir, dir), 0o755);
    sharedKey = await exportPKCS8((await generateKeyPair('ES256', { extractable: true })).privateKey);
    target = await startNodeTarget({
      dataDir,
      port: PORT,
      env: {
        BERTH_ADMIN_PASSWORD: ADMIN.password,
        BERTH_PBKDF2_ITERATIONS: '10000',
        BERTH_BODY_TIMEOUT_SECONDS: '2',
        BERTH_UPLOAD_IDLE_TIMEOUT_SECONDS: '3',
        BERTH_ROBOT_TOKEN_MAX_TTL_SECONDS: '86400',
        BERTH_JWT_PRIVATE_KEY: sharedKey,
      },
    });
    base = target.url;
    const res = await admin('POST', '/admin/users', { account: 'reader', password: 'reader-password-1', rules: ['team/**=pull'] });
    assert.equal(res.status, 201, await res.text());
  });
  after(async () => {
    await target?.stop();
  });

  describe('finding 1: unauthenticated memory exhaustion and stuck connections on /token', () => {
    it('a 300 MiB POST /token (declared or chunked) is refused at the cap; the server does not grow', async () => {
      const before = await peakRss(target.pid);
      const declared = await rawExchange({
        port: PORT,
        head: `POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${300 * MiB}`,
        bodyBytes: 300 * MiB,
        waitMs: 60_000,
      });
      assert.equal(declared.status, 413, declared.response.slice(0, 300));
      assert.match(declared.response, /"code":"PAYLOAD_TOO_LARGE"/);
      const chunked = await rawExchange({
        port: PORT,
        head: 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked',
        bodyBytes: 300 * MiB,
        chunked: true,
        waitMs: 60_000,
      });
      assert.ok(chunked.status === 413 || chunked.closed, `chunked: ${chunked.response.slice(0, 300)}`);
      assert.ok(chunked.bodyBytesSent < 100 * MiB, `the server read ${chunked.bodyBytesSent} bytes of a chunked form`);
      const grown = (await peakRss(target.pid)) - before;
      // Before the fix the server held the whole body as text: about 900 MiB more.
      assert.ok(grown < 150 * MiB, `peak RSS grew by ${Math.round(grown / MiB)} MiB`);
      assert.equal((await fetch(`${base}/v2/`)).status, 401, 'the server answers on');
    });

    it('a POST /token declaring a body it never sends is closed (body timeout), and one over the cap answered at once', async () => {
      const silent = await rawExchange({
        port: PORT,
        head: 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000',
        waitMs: 30_000,
      });
      assert.equal(silent.closed, true, 'the connection was held open (BERTH_BODY_TIMEOUT_SECONDS=2 here)');
      const promised = await rawExchange({
        port: PORT,
        head: 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000',
        waitMs: 30_000,
      });
      assert.equal(promised.status, 413, promised.response.slice(0, 300));
    });

    it('an upload may take longer than the body timeout while bytes flow, but an idle one is closed', async () => {
      const auth = basic(ADMIN.username, ADMIN.password);
      const start = await fetch(`${base}/v2/team/slow/blobs/uploads/`, { method: 'POST', headers: { Authorization: auth } });
      assert.equal(start.status, 202);
      const location = new URL(start.headers.get('location')!, base);
      // 5 s of one byte every 250 ms: longer than the 2 s body timeout, never idle for 3 s.
      const trickled = await new Promise<number>((resolve, reject) => {
        import('node:http').then(({ request }) => {
          const req = request(location, { method: 'PATCH', headers: { Authorization: auth, 'Content-Type': 'application/octet-stream', 'Content-Length': '20' } }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
          let sent = 0;
          const tick = setInterval(() => {
            req.write('x');
            if (++sent === 20) {
              clearInterval(tick);
              req.end();
            }
          }, 250);
        }, reject);
      });
      assert.equal(trickled, 202, 'a slow but steady upload completes');
      const idle = await rawExchange({
        port: PORT,
        head: `PATCH ${location.pathname}${location.search} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${10 * MiB}`,
        waitMs: 30_000,
      });
      assert.equal(idle.closed, true, 'an idle upload connection was held open (BERTH_UPLOAD_IDLE_TIMEOUT_SECONDS=3 here)');
      const status = await fetch(location, { headers: { Authorization: auth } });
      assert.equal(status.status, 204, 'the session survives the dropped request');
      assert.equal(status.headers.get('range'), '0-19');
    });
  });

  describe('finding 2: a glob in a robot token scope must not freeze the event loop', () => {
    it('a pull-only user\'s token with ten wildcards, used on a 60-character name, answers at once', async () => {
      const created = await admin('POST', '/admin/tokens', { name: 'x', scopes: [`${'*a'.repeat(10)}*b=pull`] }, basic('reader', 'reader-password-1'));
      assert.equal(created.status, 201, await created.clone().text());
      const { secret } = (await created.json()) as { secret: string };
      // The regex form took minutes for this request (about 8× more per wildcard past seven).
      const res = await fetch(`${base}/v2/${'a'.repeat(60)}/tags/list`, {
        headers: { Authorization: basic('x', secret) },
        signal: AbortSignal.timeout(30_000),
      });
      assert.equal(res.status, 403);
      const tooWild = await admin('POST', '/admin/tokens', { name: 'y', scopes: [`${'*a'.repeat(20)}=pull`] }, basic('reader', 'reader-password-1'));
      assert.equal(tooWild.status, 400, 'patterns are capped at 16 wildcards');
    });
  });

  describe('finding 3: the signing key and password hashes must not be readable by other users', () => {
    it('every file of the store is 0600 and every directory 0700, old ones fixed at start', async () => {
      // A login signs a token, so the deployment's issuer id exists (the key itself is configured
      // here, for finding 10); the user records exist since before().
      assert.equal((await fetch(`${base}/token?service=x`, { headers: { Authorization: basic('reader', 'reader-password-1') } })).status, 200);
      const seen: string[] = [];
      const walk = async (dir: string): Promise<void> => {
        const info = await stat(dir);
        assert.equal(info.mode & 0o777, 0o700, `${dir} is ${(info.mode & 0o777).toString(8)}`);
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else {
            seen.push(path.relative(target.dataDir, full));
            assert.equal((await stat(full)).mode & 0o777, 0o600, `${full} is ${((await stat(full)).mode & 0o777).toString(8)}`);
          }
        }
      };
      await walk(target.dataDir);
      for (const file of ['objects/auth/issuer%', 'objects/auth/users/reader%', 'objects/auth/leftover%']) {
        assert.ok(seen.includes(file), `${file} not found among ${seen.join(', ')}`);
      }
    });
  });

  describe('finding 4: a deleted and re-created account must not revive old refresh tokens', () => {
    it('refresh tokens die with the account, and with a password change', async () => {
      const form = (fields: Record<string, string>) => fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      });
      const offline = async (password: string): Promise<string> => {
        const res = await form({ grant_type: 'password', username: 'phoenix', password, service: 'x', client_id: 'docker', access_type: 'offline' });
        assert.equal(res.status, 200);
        return ((await res.json()) as { refresh_token: string }).refresh_token;
      };
      const refresh = (token: string) => form({ grant_type: 'refresh_token', refresh_token: token, service: 'x', client_id: 'docker' });
      assert.equal((await admin('POST', '/admin/users', { account: 'phoenix', password: 'phoenix-password-1' })).status, 201);
      const old = await offline('phoenix-password-1');
      assert.equal((await refresh(old)).status, 200, 'control: the refresh token works');
      assert.equal((await admin('DELETE', '/admin/users/phoenix')).status, 204);
      assert.equal((await admin('POST', '/admin/users', { account: 'phoenix', password: 'phoenix-password-1' })).status, 201);
      assert.equal((await refresh(old)).status, 401, 'the old account\'s refresh token opens the new account');
      const current = await offline('phoenix-password-1');
      assert.equal((await refresh(current)).status, 200);
      assert.equal((await admin('PUT', '/admin/users/phoenix/password', { password: 'phoenix-password-2' })).status, 204);
      assert.equal((await refresh(current)).status, 401, 'a password change retires refresh tokens');
    });
  });

  describe('finding 6: the per-address login limit must apply to Basic auth on /v2', () => {
    it('wrong logins with ever new usernames from one address end in 429; other addresses are unaffected', async () => {
      let last = 0;
      for (let i = 0; i < 51; i++) {
        const res = await requestFrom(`${base}/v2/team/app/tags/list`, { localAddress: '127.0.0.3', headers: { Authorization: basic(`nobody${i}`, 'wrong-password') } });
        last = res.status;
        if (i < 50) assert.equal(res.status, 401, `attempt ${i + 1}`);
        else assert.ok(Number(res.headers['retry-after']) > 0, 'Retry-After');
      }
      assert.equal(last, 429, 'the 51st wrong login from one address');
      const other = await requestFrom(`${base}/v2/team/app/tags/list`, { localAddress: '127.0.0.1', headers: { Authorization: basic('reader', 'reader-password-1') } });
      assert.notEqual(other.status, 429, 'another address logs in');
    });
  });

  describe('finding 8: nobody may lock another account out', () => {
    it('wrong passwords from one address lock that address out, never the owner elsewhere', async () => {
      assert.equal((await admin('POST', '/admin/users', { account: 'victim', password: 'victim-password-1' })).status, 201);
      const login = (from: string, password: string) =>
        requestFrom(`${base}/token?service=x`, { localAddress: from, headers: { Authorization: basic('victim', password) } });
      let status = 0;
      for (let i = 0; i < 11; i++) status = (await login('127.0.0.2', `guess-${i}`)).status;
      assert.equal(status, 429, 'the guessing address is throttled');
      assert.equal((await login('127.0.0.2', 'victim-password-1')).status, 429, 'even with the right password, from there');
      assert.equal((await login('127.0.0.1', 'victim-password-1')).status, 200, 'the owner from a clean address gets in');
    });
  });

  describe('finding 5: CSRF on the admin API', () => {
    const creds = (): string => basic(ADMIN.username, ADMIN.password);
    it('a cross-site form post with cached Basic credentials creates nothing', async () => {
      const forms: Record<string, string>[] = [
        { 'Content-Type': 'text/plain', Origin: 'https://evil.example' },
        { 'Content-Type': 'text/plain' },
        { 'Content-Type': 'application/x-www-form-urlencoded' },
        { 'Content-Type': 'application/json', Origin: 'https://evil.example' },
        { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'cross-site' },
        { 'Content-Type': 'application/json', Origin: 'null' },
      ];
      for (const headers of forms) {
        const res = await fetch(`${base}/admin/users`, {
          method: 'POST',
          headers: { ...headers, Authorization: creds() },
          body: JSON.stringify({ account: 'csrf', password: 'csrf-password-1', admin: true }),
        });
        assert.ok(res.status === 403 || res.status === 415, `${JSON.stringify(headers)}: ${res.status}`);
      }
      assert.equal((await admin('GET', '/admin/users/csrf')).status, 404, 'no account was created');
      const sameOrigin = await fetch(`${base}/admin/whoami`, { headers: { Authorization: creds(), Origin: base, 'Sec-Fetch-Site': 'same-origin' } });
      assert.equal(sameOrigin.status, 200, 'the registry\'s own origin is fine');
    });

    it('/admin never invites a browser to cache Basic credentials', async () => {
      for (const auth of [undefined, basic('admin', 'wrong-password')]) {
        const res = await fetch(`${base}/admin/users`, { headers: auth ? { Authorization: auth } : {} });
        assert.equal(res.status, 401);
        const challenge = res.headers.get('www-authenticate') ?? '';
        assert.doesNotMatch(challenge, /^\s*basic/i);
        assert.match(challenge, /^Bearer .*scope="registry:admin:\*"/);
      }
    });
  });

  describe('finding 7: any access token opened the admin API', () => {
    const tokenFor = async (scopes: string[], user = ADMIN.username, password = ADMIN.password): Promise<string> => {
      const q = new URLSearchParams({ service: 'x' });
      for (const s of scopes) q.append('scope', s);
      const res = await fetch(`${base}/token?${q}`, { headers: { Authorization: basic(user, password) } });
      assert.equal(res.status, 200);
      return ((await res.json()) as { token: string }).token;
    };

    it("an admin's pull token, or one without scope, cannot create users, robot tokens or change passwords", async () => {
      for (const scopes of [['repository:team/app:pull'], []]) {
        const bearer = `Bearer ${await tokenFor(scopes)}`;
        assert.equal((await admin('POST', '/admin/users', { account: 'sneaky', password: 'sneaky-password-1', admin: true }, bearer)).status, 403);
        assert.equal((await admin('POST', '/admin/tokens', { name: 'forever', scopes: ['**=pull'], expiresInSeconds: 0 }, bearer)).status, 403);
        assert.equal((await admin('PUT', '/admin/users/admin/password', { password: 'taken-over-password' }, bearer)).status, 403);
      }
      assert.equal((await admin('GET', '/admin/users/sneaky')).status, 404);
    });

    it('a token issued for admin use works; a refresh grant never carries the admin scope', async () => {
      const bearer = `Bearer ${await tokenFor(['registry:admin:*'])}`;
      assert.equal((await admin('GET', '/admin/whoami', undefined, bearer)).status, 200);
      const login = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', username: 'reader', password: 'reader-password-1', service: 'x', access_type: 'offline' }).toString(),
      });
      const { refresh_token } = (await login.json()) as { refresh_token: string };
      const refreshed = await fetch(`${base}/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, service: 'x', scope: 'registry:admin:*' }).toString(),
      });
      const { token } = (await refreshed.json()) as { token: string };
      assert.equal((await admin('GET', '/admin/whoami', undefined, `Bearer ${token}`)).status, 403);
    });

    it('changing your own password needs the current one, even with your password or an admin token', async () => {
      const own = basic('reader', 'reader-password-1');
      assert.equal((await admin('PUT', '/admin/users/reader/password', { password: 'reader-password-2' }, own)).status, 400);
      assert.equal((await admin('PUT', '/admin/users/reader/password', { password: 'reader-password-2', currentPassword: 'wrong-one' }, own)).status, 403);
      const bearer = `Bearer ${await tokenFor(['registry:admin:*'], 'reader', 'reader-password-1')}`;
      assert.equal((await admin('PUT', '/admin/users/reader/password', { password: 'reader-password-2' }, bearer)).status, 400);
      assert.equal((await admin('PUT', '/admin/users/reader/password', { password: 'reader-password-2', currentPassword: 'reader-password-1' }, bearer)).status, 204);
      assert.equal((await admin('PUT', '/admin/users/reader/password', { password: 'reader-password-1' })).status, 204, 'an admin resets another user without it');
    });

    it('berth users passwd on your own account sends the password you signed in with as the current one', async () => {
      const run = await berth(base, { username: 'reader', password: 'reader-password-1' }, ['users', 'passwd', 'reader']);
      assert.equal(run.status, 0, run.stderr);
      const fresh = /new password of reader: (\S+)/.exec(run.stdout)?.[1];
      assert.ok(fresh, run.stdout);
      assert.equal((await fetch(`${base}/token?service=x`, { headers: { Authorization: basic('reader', fresh) } })).status, 200);
      assert.equal((await admin('PUT', '/admin/users/reader/password', { password: 'reader-password-1' })).status, 204);
    });

    it('robot tokens live at most BERTH_ROBOT_TOKEN_MAX_TTL_SECONDS (here a day) and never forever', async () => {
      const create = (expiresInSeconds?: number) => admin('POST', '/admin/tokens', { name: 'ci', scopes: ['team/**=pull'], expiresInSeconds });
      assert.equal((await create(0)).status, 400, 'never-expiring');
      assert.equal((await create(2 * 86_400)).status, 400, 'over the maximum');
      const made = await create(undefined);
      assert.equal(made.status, 201);
      const { expiresAt } = (await made.json()) as { expiresAt: string };
      assert.ok(Date.parse(expiresAt) <= Date.now() + 86_400_000 + 60_000, `default expiry ${expiresAt} within the maximum`);
    });
  });

  describe('finding 9: tokens of deleted users, demoted admins and revoked robots', () => {
    const pushToken = async (creds: string, repo: string): Promise<string> => {
      const res = await fetch(`${base}/token?service=x&scope=repository:${repo}:pull,push`, { headers: { Authorization: creds } });
      assert.equal(res.status, 200);
      const { token } = (await res.json()) as { token: string };
      return token;
    };
    const push = (token: string, repo: string) => fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });

    it('stop working as soon as the account changes, though still within their lifetime', async () => {
      assert.equal((await admin('POST', '/admin/users', { account: 'leaver', password: 'leaver-password-1', rules: ['team/**=pull,push'] })).status, 201);
      const leaver = await pushToken(basic('leaver', 'leaver-password-1'), 'team/app');
      assert.equal((await push(leaver, 'team/app')).status, 202, 'control');
      assert.equal((await admin('DELETE', '/admin/users/leaver')).status, 204);
      assert.equal((await push(leaver, 'team/app')).status, 401, 'a deleted user\'s token');

      assert.equal((await admin('POST', '/admin/users', { account: 'boss', password: 'boss-password-1', admin: true })).status, 201);
      const boss = await pushToken(basic('boss', 'boss-password-1'), 'secret/app');
      assert.equal((await push(boss, 'secret/app')).status, 202, 'control');
      assert.equal((await admin('PUT', '/admin/users/boss/admin', { admin: false })).status, 200);
      assert.equal((await push(boss, 'secret/app')).status, 403, 'a demoted admin\'s token');

      const made = await admin('POST', '/admin/tokens', { name: 'ci', scopes: ['team/**=pull,push'] });
      const robot = (await made.json()) as { id: string; secret: string };
      const robotToken = await pushToken(basic('ci', robot.secret), 'team/app');
      assert.equal((await push(robotToken, 'team/app')).status, 202, 'control');
      assert.equal((await admin('DELETE', `/admin/tokens/${robot.id}`)).status, 204);
      assert.equal((await push(robotToken, 'team/app')).status, 401, 'a revoked robot\'s token');
    });
  });

  describe('finding 10: deployments sharing a key accepted each other\'s tokens', () => {
    let other: NodeTarget;
    before(async () => {
      other = await startNodeTarget({ port: PORT + 1, env: { BERTH_ADMIN_PASSWORD: ADMIN.password, BERTH_PBKDF2_ITERATIONS: '10000', BERTH_JWT_PRIVATE_KEY: sharedKey } });
    });
    after(async () => {
      await other?.stop();
    });

    it("a token of one deployment opens nothing on another, even naming the first one's host", async () => {
      const host = new URL(base).host;
      const res = await fetch(`${base}/token?service=${host}&scope=repository:team/app:pull`, { headers: { Authorization: basic(ADMIN.username, ADMIN.password) } });
      const { token } = (await res.json()) as { token: string };
      const here = await requestFrom(`${base}/v2/`, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(here.status, 200, 'control: the token works where it was issued');
      const there = await requestFrom(`${other.url}/v2/`, { host, headers: { Authorization: `Bearer ${token}` } });
      assert.equal(there.status, 401, 'the other deployment took the token');
    });
  });

  describe('finding 11: names, the admin password and password hashing', () => {
    it('a 255-character one-segment name is NAME_INVALID, not a 500; 254 characters work', async () => {
      const client = new RegistryClient(base, ADMIN);
      for (const name of ['a'.repeat(255), `team/${'b'.repeat(255)}`]) {
        const res = await client.fetch(`/v2/${name}/blobs/uploads/`, { method: 'POST' });
        assert.equal(res.status, 400, `${name.length} characters`);
        assert.equal(await errorCode(res), 'NAME_INVALID');
        const put = await client.fetch(`/v2/${name}/manifests/latest`, { method: 'PUT', headers: { 'Content-Type': OCI_MANIFEST }, body: '{}' });
        assert.equal(await errorCode(put), 'NAME_INVALID');
      }
      const longest = 'c'.repeat(254);
      await client.pushImage(longest, 'v1');
      assert.equal((await client.fetch(`/v2/${longest}/tags/list`)).status, 200);
    });

    it('BERTH_ADMIN_PASSWORD shorter than 12 characters stops the start with one line', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-short-'));
      try {
        const run = spawnSync(process.execPath, ['--import', 'tsx', 'worker/runtime/node.ts'], {
          cwd: new URL('../..', import.meta.url),
          env: { ...process.env, HOST: '127.0.0.1', PORT: String(PORT + 2), BERTH_DATA_DIR: dir, BERTH_ADMIN_PASSWORD: 'short-pw-11' },
          encoding: 'utf8',
          timeout: 60_000,
        });
        assert.equal(run.status, 1, run.stdout + run.stderr);
        assert.match(run.stderr, /^berth: configuration error: BERTH_ADMIN_PASSWORD must have at least 12 characters\n$/m);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('Node hashes with 600,000 PBKDF2 iterations and upgrades an older hash at the next login', async () => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-kdf-'));
      const iterationsOf = async (account: string): Promise<number> => {
        const record = await readFile(path.join(dir, 'objects', 'auth', 'users', `${account}%`), 'latin1');
        return Number(/"passwordHash":"pbkdf2-sha256\$(\d+)\$/.exec(record)?.[1]);
      };
      const env = { BERTH_ADMIN_PASSWORD: ADMIN.password };
      let server = await startNodeTarget({ port: PORT + 2, dataDir: dir, keepData: true, env: { ...env, BERTH_PBKDF2_ITERATIONS: '10000' } });
      try {
        const made = await fetch(`${server.url}/admin/users`, {
          method: 'POST',
          headers: { Authorization: basic(ADMIN.username, ADMIN.password), 'Content-Type': 'application/json' },
          body: JSON.stringify({ account: 'old', password: 'old-password-1' }),
        });
        assert.equal(made.status, 201);
        assert.equal(await iterationsOf('old'), 10_000);
        await server.stop();
        server = await startNodeTarget({ port: PORT + 2, dataDir: dir, env });
        const login = (password: string) => fetch(`${server.url}/token?service=x`, { headers: { Authorization: basic('old', password) } });
        assert.equal((await login('old-password-1')).status, 200);
        assert.equal(await iterationsOf('old'), 600_000, 'upgraded at login');
        assert.equal((await login('old-password-1')).status, 200, 'the upgraded hash verifies');
        const fresh = await fetch(`${server.url}/admin/users`, {
          method: 'POST',
          headers: { Authorization: basic(ADMIN.username, ADMIN.password), 'Content-Type': 'application/json' },
          body: JSON.stringify({ account: 'new', password: 'new-password-1' }),
        });
        assert.equal(fresh.status, 201);
        assert.equal(await iterationsOf('new'), 600_000);
      } finally {
        await server.stop();
      }
    });
  });

  describe('hostile input: protocol gaps', () => {
    it('a path with dot segments, plain or percent-encoded, is NAME_INVALID and acts on nothing', async () => {
      const client = new RegistryClient(base, ADMIN);
      const { body } = await client.pushImage('probe/hostile', 'v1');
      const auth = { Authorization: basic(ADMIN.username, ADMIN.password) };
      const put = { ...auth, 'Content-Type': OCI_MANIFEST };
      for (const [method, path, headers] of [
        ['PUT', '/v2/x/../probe/hostile/manifests/t1', put],
        ['PUT', '/v2/x/%2e%2e/probe/hostile/manifests/t2', put],
        ['PUT', '/v2/x/.%2E/probe/hostile/manifests/t3', put],
        ['PUT', '/v2/probe/hostile/./manifests/t4', put],
        ['GET', '/v2/probe/hostile/./tags/list', auth],
        ['GET', '/v2/probe/x/../hostile/tags/list', auth],
        ['DELETE', '/v2/x/../probe/hostile/manifests/v1', auth],
        ['POST', '/v2/x/../probe/hostile/blobs/uploads/', auth],
      ] as const) {
        const res = await requestPath(base, { method, path, headers, body: method === 'PUT' ? body : undefined });
        assert.equal(res.status, 400, `${method} ${path}: ${res.text}`);
        assert.equal(errorCodeOf(res.text), 'NAME_INVALID', `${method} ${path}`);
      }
      const tags = await client.fetch('/v2/probe/hostile/tags/list');
      assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1'], 'no tag was written, none deleted');
      const outside = await requestPath(base, { path: '/ui/../v2/', headers: auth });
      assert.equal(outside.status, 400, 'outside /v2 too');
      const control = await requestPath(base, { path: '/v2/probe/hostile/tags/list?last=..', headers: auth });
      assert.equal(control.status, 200, `dots in the query are data: ${control.text}`);
    });

    it("a reference with a '/' and digests of unsupported algorithms answer the spec's codes", async () => {
      const client = new RegistryClient(base, ADMIN);
      await client.pushImage('probe/codes', 'v1');
      const md5 = 'md5:d41d8cd98f00b204e9800998ecf8427e';
      const sha999 = `sha999:${'a'.repeat(64)}`;
      const cases: [string, string, number, string][] = [
        ['GET', '/v2/probe/codes/manifests/a/b', 404, 'MANIFEST_UNKNOWN'],
        ['HEAD', '/v2/probe/codes/manifests/a/b', 404, ''],
        ['DELETE', '/v2/probe/codes/manifests/a/b', 404, 'MANIFEST_UNKNOWN'],
        ['PUT', '/v2/probe/codes/manifests/a/b', 400, 'MANIFEST_INVALID'],
        ['GET', '/v2/probe/codes/blobs/a/b', 404, 'BLOB_UNKNOWN'],
        ['GET', '/v2/probe/codes/blobs/uploads/some-id/more', 404, 'BLOB_UPLOAD_UNKNOWN'],
        ['GET', `/v2/probe/codes/manifests/${md5}`, 404, 'MANIFEST_UNKNOWN'],
        ['DELETE', `/v2/probe/codes/manifests/${sha999}`, 404, 'MANIFEST_UNKNOWN'],
        ['GET', `/v2/probe/codes/blobs/${md5}`, 404, 'BLOB_UNKNOWN'],
        ['HEAD', `/v2/probe/codes/blobs/${sha999}`, 404, ''],
        ['DELETE', `/v2/probe/codes/blobs/${md5}`, 404, 'BLOB_UNKNOWN'],
        ['PUT', `/v2/probe/codes/manifests/${md5}`, 400, 'DIGEST_INVALID'],
        ['POST', `/v2/probe/codes/blobs/uploads/?digest=${md5}`, 400, 'DIGEST_INVALID'],
        ['GET', `/v2/probe/codes/referrers/${sha999}`, 400, 'DIGEST_INVALID'],
        ['GET', '/v2/probe/codes/blobs/sha256:nothex', 400, 'DIGEST_INVALID'],
      ];
      for (const [method, path, status, code] of cases) {
        const res = await client.fetch(path, { method, ...(method === 'PUT' || method === 'POST' ? { body: '{}', headers: { 'Content-Type': OCI_MANIFEST } } : {}) });
        assert.equal(res.status, status, `${method} ${path}`);
        if (code) assert.equal(await errorCode(res), code, `${method} ${path}`);
      }
      const tags = await client.fetch('/v2/probe/codes/tags/list');
      assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ['v1']);
    });

    it('an oversized manifest is 413 with MANIFEST_INVALID, a code of the spec', async () => {
      const client = new RegistryClient(base, ADMIN);
      const huge = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, padding: 'x'.repeat(4 * MiB + 1) });
      const res = await client.putManifest('probe/codes', 'huge', huge);
      assert.equal(res.status, 413);
      assert.equal(await errorCode(res), 'MANIFEST_INVALID');
    });
  });

  it('never logs an internal error for any of the above', () => {
    assert.doesNotMatch(target.logs(), /"level":"error"/, target.logs().slice(-2000));
  });
});
