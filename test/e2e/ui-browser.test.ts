/**
 * The web UI in a real browser (Debian's chromium through playwright-core) against a real Node
 * server: sign in, list and filter repositories, a repository's tags and digests, an image, an
 * index and its platforms, robot tokens (create, copy, revoke), users, garbage collection,
 * deleting a tag, signing out; a pull-only account sees no delete button and is refused when it
 * posts anyway; forms without the CSRF token, from another origin, or from another site are
 * refused. axe-core checks every main page. Screenshots: .tmp/ui-screenshots/ (paths printed).
 *
 * Without /usr/bin/chromium the suite is skipped with the reason printed, unless
 * BERTH_E2E_REQUIRE=1 (CI), where that is a failure.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { testPort } from '../support/ports.ts';
import { axeViolations, browserUnavailable, describeViolations, openBrowser, screenshot, type BrowserSession } from '../support/browser.ts';
import { pushBrowseFixtures, READER, SECRET_ENV_VALUE, type BrowseFixtures } from '../support/browse-fixtures.ts';

const PORT = testPort(15240);
/** A page on another site (localhost vs 127.0.0.1) that posts a form to Berth. */
const ATTACKER_PORT = testPort(15241);
const ADMIN = { username: 'admin', password: 'ui-admin-password-1' };
const unavailable = browserUnavailable();
const required = process.env.BERTH_E2E_REQUIRE === '1';

const basic = (u: string, p: string): string => `Basic ${btoa(`${u}:${p}`)}`;

describe('web UI in a real browser (Node server)', { skip: unavailable && !required ? unavailable : false }, () => {
  let target: NodeTarget;
  let base: string;
  let fixtures: BrowseFixtures;
  let admin: BrowserSession;
  let reader: BrowserSession | undefined;
  const shots: string[] = [];

  before(async () => {
    if (unavailable) throw new Error(`BERTH_E2E_REQUIRE=1 but ${unavailable}`);
    target = await startNodeTarget({ port: PORT, env: { BERTH_ADMIN_PASSWORD: ADMIN.password, BERTH_PBKDF2_ITERATIONS: '10000' } });
    base = target.url;
    fixtures = await pushBrowseFixtures(base, ADMIN);
    admin = await openBrowser(base);
  });
  after(async () => {
    await admin?.close();
    await reader?.close();
    await target?.stop();
    if (shots.length > 0) console.log(`UI screenshots:\n${shots.map((s) => `  ${s}`).join('\n')}`);
  });

  async function shoot(t: TestContext, session: BrowserSession, name: string): Promise<void> {
    const file = await screenshot(session.page, name);
    shots.push(file);
    t.diagnostic(`screenshot: ${file}`);
  }

  async function accessible(session: BrowserSession, what: string): Promise<void> {
    const violations = await axeViolations(session.page);
    assert.deepEqual(violations, [], `axe on ${what}:\n${describeViolations(violations)}`);
  }

  async function signIn(session: BrowserSession, username: string, password: string): Promise<void> {
    await session.page.goto(`${base}/ui/sign-in`);
    await session.page.getByLabel('Username').fill(username);
    await session.page.getByLabel('Password or robot token').fill(password);
    await session.page.getByRole('button', { name: 'Sign in' }).click();
  }

  /** Posts a form from inside the page (same origin, the browser's cookies) and answers the status. */
  function postFromPage(session: BrowserSession, path: string, fields: Record<string, string>): Promise<number> {
    return session.page.evaluate(
      async ({ path, fields }) => (await fetch(path, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' })).status,
      { path, fields },
    );
  }

  const csrfOf = (session: BrowserSession): Promise<string> => session.page.locator('header input[name=csrf]').inputValue();

  it('/ sends a new visitor to the sign-in form; a wrong password is refused with a message', async (t) => {
    const { page } = admin;
    const response = await page.goto(`${base}/`);
    assert.equal(new URL(page.url()).pathname, '/ui/sign-in');
    assert.match(response?.headers()['content-security-policy'] ?? '', /script-src 'self'/);
    await accessible(admin, 'the sign-in page');
    await shoot(t, admin, '01-sign-in');
    await signIn(admin, ADMIN.username, 'wrong-password');
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /Wrong username, password or token/);
  });

  it('signs in with the password and lists every repository for the admin; the cookie is HttpOnly and SameSite=Strict', async (t) => {
    const { page, context } = admin;
    await signIn(admin, ADMIN.username, ADMIN.password);
    await page.waitForURL(`${base}/ui/`);
    const names = await page.locator('#repositories a').allInnerTexts();
    assert.deepEqual(names, ['other/private', 'team/app', 'team/multi', 'team/scratch']);
    const cookie = (await context.cookies(base)).find((c) => c.name === 'berth_session');
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Strict');
    assert.ok(!cookie.value.includes(ADMIN.password) && !atob(cookie.value.split('.')[1] ?? '').includes(ADMIN.password), 'no password in the cookie');
    await accessible(admin, 'the repository list');
    await shoot(t, admin, '02-repositories');
  });

  it('filters repositories: live while typing, and on the server when submitted', async (t) => {
    const { page } = admin;
    const box = page.getByRole('searchbox', { name: 'Filter repositories' });
    await box.fill('multi');
    assert.deepEqual(await page.locator('#repositories a:visible').allInnerTexts(), ['team/multi'], 'the script hides the others at once');
    await box.press('Enter');
    await page.waitForURL(`${base}/ui/?q=multi`);
    assert.deepEqual(await page.locator('#repositories a').allInnerTexts(), ['team/multi']);
    await shoot(t, admin, '03-filtered');
    await page.goto(`${base}/ui/?q=nothing-like-this`);
    assert.match(await page.getByRole('status').innerText(), /No repository you may pull matches/);
  });

  it('opens a repository: tags with digest, size, created, platforms, push time and referrers', async (t) => {
    const { page } = admin;
    await page.goto(`${base}/ui/`);
    await page.getByRole('link', { name: 'team/app' }).click();
    await page.waitForURL(`${base}/ui/r/team/app`);
    const rows = page.locator('tbody tr');
    assert.equal(await rows.count(), 2);
    const first = (await rows.nth(0).locator('td').allInnerTexts()).map((s) => s.trim());
    assert.equal(first[0], '1.0');
    assert.equal(first[1], fixtures.app.digest.slice(0, 'sha256:'.length + 12));
    assert.equal(first[2], '5.4 KiB', `size is config + layers = ${fixtures.app.size} bytes`);
    assert.equal(first[3], '2026-11-05 10:20 UTC');
    assert.equal(first[4], 'linux/amd64');
    assert.match(first[5] ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, 'pushed time');
    assert.equal(first[6], 'cosign signature');
    assert.equal(await page.locator('#pull').inputValue(), `docker pull 127.0.0.1:${PORT}/team/app:1.0`);
    await accessible(admin, 'a repository page');
    await shoot(t, admin, '04-repository');
  });

  it('opens an image: full digest, config summary with env names only, labels, layers, referrers, manifest', async (t) => {
    const { page } = admin;
    await page.getByRole('link', { name: '1.0', exact: true }).click();
    await page.waitForURL(`${base}/ui/r/team/app:1.0`);
    const text = await page.locator('main').innerText();
    assert.ok(text.includes(fixtures.app.digest), 'full digest');
    assert.ok(text.includes('PATH API_TOKEN'), 'env names');
    assert.ok(!(await page.content()).includes(SECRET_ENV_VALUE), 'no env value anywhere in the page');
    assert.ok(text.includes('["/usr/bin/app","--serve"]'), 'entrypoint');
    assert.ok(text.includes('org.opencontainers.image.source'), 'labels');
    for (const layer of fixtures.app.layerDigests) assert.ok(text.includes(layer), `layer ${layer}`);
    assert.ok(text.includes('cosign signature'), 'referrer listed');
    assert.ok(text.includes('"schemaVersion": 2'), 'pretty manifest');
    assert.equal(await page.locator('#pull-digest').inputValue(), `docker pull 127.0.0.1:${PORT}/team/app@${fixtures.app.digest}`);
    await page.getByRole('button', { name: 'Copy pull by digest' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `docker pull 127.0.0.1:${PORT}/team/app@${fixtures.app.digest}`);
    await accessible(admin, 'an image page');
    await shoot(t, admin, '05-image');
    await page.getByRole('link', { name: fixtures.signatureDigest.slice(0, 'sha256:'.length + 12) }).click();
    assert.ok((await page.locator('main').innerText()).includes('Refers to'), 'the signature links back to its subject');
  });

  it('opens an index and switches platform', async (t) => {
    const { page } = admin;
    await page.goto(`${base}/ui/r/team/multi`);
    await page.getByRole('link', { name: '2.0', exact: true }).click();
    await page.waitForURL(`${base}/ui/r/team/multi:2.0`);
    const nav = page.getByRole('navigation', { name: 'Platforms' });
    assert.deepEqual(await nav.getByRole('link').allInnerTexts(), ['linux/amd64', 'linux/arm64/v8', 'attestation (unknown/unknown)']);
    assert.equal(await nav.locator('[aria-current="true"]').innerText(), 'linux/amd64');
    assert.ok((await page.locator('main').innerText()).includes(fixtures.amd64.layerDigests[0]!), 'amd64 layer shown');
    await accessible(admin, 'an index page');
    await nav.getByRole('link', { name: 'linux/arm64/v8' }).click();
    await page.waitForURL(`${base}/ui/r/team/multi:2.0?platform=${encodeURIComponent(fixtures.arm64.digest)}`);
    assert.equal(await nav.locator('[aria-current="true"]').innerText(), 'linux/arm64/v8');
    const text = await page.locator('main').innerText();
    for (const layer of fixtures.arm64.layerDigests) assert.ok(text.includes(layer), `arm64 layer ${layer}`);
    assert.ok(!text.includes(fixtures.amd64.layerDigests[0]!), 'amd64 layer no longer shown');
    await shoot(t, admin, '06-index-arm64');
  });

  it('creates a robot token (secret shown once, copy button), which works, then revokes it', async (t) => {
    const { page } = admin;
    await page.goto(`${base}/ui/tokens`);
    await accessible(admin, 'the robot tokens page');
    await page.getByLabel('Name').fill('ci-reader');
    await page.getByLabel('Scopes, one per line').fill('team/app=pull');
    await page.getByLabel('Expires after').selectOption('30d');
    await page.getByRole('button', { name: 'Create token' }).click();
    const secret = await page.locator('#secret').inputValue();
    assert.match(secret, /^berth_pat_[a-z0-9]{16}_/);
    await page.getByRole('button', { name: 'Copy token secret' }).click();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    assert.equal(await page.locator('.copy [role=status]').innerText(), 'Copied');
    await accessible(admin, 'the token-created page');
    await shoot(t, admin, '07-token-created');
    const pull = await fetch(`${base}/v2/team/app/tags/list`, { headers: { Authorization: basic('anyone', secret) } });
    assert.equal(pull.status, 200, 'the new token pulls');
    await page.goto(`${base}/ui/tokens`);
    assert.ok(!(await page.content()).includes(secret), 'the secret is never shown again');
    await page.getByRole('button', { name: 'Revoke token ci-reader' }).click();
    await page.waitForURL(/\/ui\/tokens\?revoked=/);
    assert.equal(await page.getByRole('button', { name: 'Revoke token ci-reader' }).count(), 0);
    const refused = await fetch(`${base}/v2/team/app/tags/list`, { headers: { Authorization: basic('anyone', secret) } });
    assert.equal(refused.status, 401, 'the revoked token is refused');
  });

  it('users and rules (admin): adds a user, edits its rules', async (t) => {
    const { page } = admin;
    await page.goto(`${base}/ui/users`);
    await accessible(admin, 'the users page');
    await page.getByLabel('Account').fill('deployer');
    await page.getByLabel('Password (at least 8 characters)').fill('deployer-password');
    await page.getByLabel('Rules, one per line').fill('team/app=pull,push');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.waitForURL(/\/ui\/users\?done=/);
    await page.getByLabel('Rules of deployer').fill('team/**=pull');
    await page.locator('tr[data-name="deployer"]').getByRole('button', { name: 'Save rules' }).click();
    await page.waitForURL(/\/ui\/users\?done=/);
    const shown = await fetch(`${base}/admin/users/deployer`, { headers: { Authorization: basic(ADMIN.username, ADMIN.password) } });
    assert.deepEqual(((await shown.json()) as { rules: unknown }).rules, [{ pattern: 'team/**', actions: ['pull'] }]);
    await shoot(t, admin, '08-users');
  });

  it('garbage collection (admin): a dry run shows its report', async (t) => {
    const { page } = admin;
    await page.goto(`${base}/ui/gc`);
    await accessible(admin, 'the garbage collection page');
    await page.getByRole('button', { name: 'Dry run (report only)' }).click();
    await page.getByRole('heading', { name: 'Dry run report' }).waitFor();
    assert.match(await page.locator('pre').innerText(), /"dryRun": true/);
    await shoot(t, admin, '09-gc-dry-run');
  });

  it('deletes a tag after a confirmation', async (t) => {
    const { page } = admin;
    await page.goto(`${base}/ui/r/team/scratch`);
    await page.getByRole('link', { name: 'Delete tag old' }).click();
    await page.waitForURL(/\/ui\/delete\?ref=/);
    await accessible(admin, 'the delete confirmation');
    await shoot(t, admin, '10-confirm-delete');
    await page.getByRole('button', { name: 'Delete tag' }).click();
    await page.waitForURL(/\/ui\/r\/team\/scratch\?deleted=/);
    assert.match(await page.getByRole('status').first().innerText(), /Deleted team\/scratch:old/);
    assert.equal(await page.locator('tbody tr').count(), 0);
    const gone = await fetch(`${base}/v2/team/scratch/manifests/old`, { headers: { Authorization: basic(ADMIN.username, ADMIN.password) } });
    assert.equal(gone.status, 404);
  });

  it('refuses a form without the CSRF token, and one with the token but from another origin', async () => {
    const { page, context } = admin;
    await page.goto(`${base}/ui/r/team/app`);
    assert.equal(await postFromPage(admin, '/ui/delete', { ref: 'team/app:latest' }), 403, 'no token');
    assert.equal(await postFromPage(admin, '/ui/delete', { ref: 'team/app:latest', csrf: 'x'.repeat(32) }), 403, 'wrong token');
    const csrf = await csrfOf(admin);
    const foreign = await context.request.post(`${base}/ui/delete`, {
      form: { ref: 'team/app:latest', csrf },
      headers: { Origin: 'http://evil.invalid' },
      maxRedirects: 0,
    });
    assert.equal(foreign.status(), 403, 'token right, origin wrong');
    const still = await fetch(`${base}/v2/team/app/manifests/latest`, { method: 'HEAD', headers: { Authorization: basic(ADMIN.username, ADMIN.password) } });
    assert.equal(still.status, 200, 'nothing was deleted');
  });

  it('a form posted by another site does nothing (no cookie under SameSite=Strict, foreign Origin)', async () => {
    const csrf = await csrfOf(admin);
    const attacker: Server = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!DOCTYPE html><form method="post" action="${base}/ui/delete"><input name="ref" value="team/app:latest"><input name="csrf" value="${csrf}"></form><script>document.forms[0].submit()</script>`);
    });
    await new Promise<void>((resolve) => attacker.listen(ATTACKER_PORT, '127.0.0.1', resolve));
    try {
      const refused = admin.page.waitForResponse(`${base}/ui/delete`);
      await admin.page.goto(`http://localhost:${ATTACKER_PORT}/`, { waitUntil: 'commit' });
      assert.equal((await refused).status(), 403);
      await admin.page.waitForURL(`${base}/ui/delete`);
      assert.match(await admin.page.locator('main').innerText(), /another site|expired/);
    } finally {
      attacker.closeAllConnections(); // the browser keeps its connection open
      await new Promise<void>((resolve) => attacker.close(() => resolve()));
    }
    const still = await fetch(`${base}/v2/team/app/manifests/latest`, { method: 'HEAD', headers: { Authorization: basic(ADMIN.username, ADMIN.password) } });
    assert.equal(still.status, 200, 'nothing was deleted');
  });

  it('signs out: the session is gone and pages ask to sign in again', async (t) => {
    const { page, context } = admin;
    await page.goto(`${base}/ui/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/ui/sign-in`);
    assert.equal((await context.cookies(base)).some((c) => c.name === 'berth_session'), false);
    await page.goto(`${base}/ui/r/team/app`);
    assert.equal(new URL(page.url()).pathname, '/ui/sign-in');
    assert.equal(new URL(page.url()).searchParams.get('next'), '/ui/r/team/app');
    await shoot(t, admin, '11-signed-out');
  });

  it('a pull-only account sees only what it may pull, no delete button, and is refused when it posts anyway', async (t) => {
    reader = await openBrowser(base, { width: 390, height: 844 });
    await signIn(reader, READER.username, READER.password);
    await reader.page.waitForURL(`${base}/ui/`);
    assert.deepEqual(await reader.page.locator('#repositories a').allInnerTexts(), ['team/app', 'team/multi', 'team/scratch']);
    await reader.page.goto(`${base}/ui/r/team/app`);
    assert.equal(await reader.page.getByRole('link', { name: /^Delete/ }).count(), 0, 'no delete on the repository page');
    await accessible(reader, 'a repository page on a phone');
    await shoot(t, reader, '12-reader-phone-repository');
    await reader.page.goto(`${base}/ui/r/team/app:1.0`);
    assert.equal(await reader.page.getByRole('link', { name: /^Delete/ }).count(), 0, 'no delete on the image page');
    assert.equal(await reader.page.getByRole('link', { name: 'Robot tokens' }).count(), 1);
    assert.equal(await reader.page.getByRole('link', { name: 'Users' }).count(), 0, 'no admin pages');
    const status = await postFromPage(reader, '/ui/delete', { ref: 'team/app:1.0', csrf: await csrfOf(reader) });
    assert.equal(status, 403, 'refused server-side');
    const still = await fetch(`${base}/v2/team/app/manifests/1.0`, { method: 'HEAD', headers: { Authorization: basic(ADMIN.username, ADMIN.password) } });
    assert.equal(still.status, 200, 'the tag is still there');
    const denied = await reader.page.goto(`${base}/ui/r/other/private`);
    assert.equal(denied?.status(), 403);
    assert.match(await reader.page.getByRole('alert').innerText(), /may not see other\/private/);
    assert.equal((await reader.page.goto(`${base}/ui/users`))?.status(), 403);
  });

  it('the pages loaded with no CSP violation or script error', () => {
    assert.deepEqual(admin.problems, []);
    assert.deepEqual(reader?.problems ?? [], []);
  });
});
