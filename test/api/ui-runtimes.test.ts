/**
 * The web UI over HTTP on the other runtimes: the Worker in workerd (wrangler dev, local R2) and
 * the Lambda handler behind the Function URL bridge (real local S3). The browser suite
 * (test/e2e/ui-browser.test.ts) drives the Node server; here each page, the session cookie, the
 * CSRF and origin checks and a delete go through these runtimes' own entries.
 * BERTH_TEST_TARGETS picks among worker-r2 and lambda-s3 (both by default).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, BASE_ENV, selectedTargets, type Target } from '../support/targets.ts';
import { pushBrowseFixtures, READER, SECRET_ENV_VALUE, type BrowseFixtures } from '../support/browse-fixtures.ts';
import { testPort } from '../support/ports.ts';

// This suite's ports: 15250/15251 (worker and its inspector), 15254/15255 (lambda and its S3 server).
const PORTS: Record<string, number> = { 'worker-r2': testPort(15250), 'lambda-s3': testPort(15254) };

/** A browser's cookie jar, reduced to what these pages set. */
class Browser {
  private readonly cookies = new Map<string, string>();
  readonly setCookies: string[] = [];

  constructor(readonly base: string) {}

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('Cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      this.setCookies.push(line);
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || attributes.some((a) => /max-age=0/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  /** A form post as a browser on our own page sends it. */
  post(path: string, fields: Record<string, string>, origin = this.base): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      body: new URLSearchParams(fields),
      headers: { Origin: origin, 'Content-Type': 'application/x-www-form-urlencoded' },
    });
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }
}

const csrfIn = (html: string): string => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';

for (const spec of selectedTargets().filter((s) => s.name in PORTS)) {
  describe(`web UI over HTTP on ${spec.name}`, { timeout: 300_000 }, () => {
    let target: Target;
    let fixtures: BrowseFixtures;
    let browser: Browser;

    before(async () => {
      target = await spec.start(PORTS[spec.name]!, { ...BASE_ENV, BERTH_PBKDF2_ITERATIONS: '10000' });
      fixtures = await pushBrowseFixtures(target.url, ADMIN);
      browser = new Browser(target.url);
    });
    after(async () => {
      await target?.stop();
    });

    it('/ leads to the sign-in form, served with a strict CSP and a pre-session form token', async () => {
      const root = await browser.request('/');
      assert.equal(root.status, 302);
      assert.equal(root.headers.get('location'), '/ui/');
      const home = await browser.request('/ui/');
      assert.equal(home.status, 303);
      assert.equal(home.headers.get('location'), '/ui/sign-in');
      const form = await browser.request('/ui/sign-in');
      assert.equal(form.status, 200);
      assert.match(form.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(form.headers.get('content-security-policy') ?? '', /default-src 'none'; script-src 'self'; style-src 'self'/);
      assert.equal(form.headers.get('x-frame-options'), 'DENY');
      const html = await form.text();
      assert.ok(html.startsWith('<!DOCTYPE html>'));
      assert.ok(csrfIn(html).length >= 32);
      assert.ok(browser.has('berth_csrf'));
      const script = /<script src="(\/ui\/assets\/ui\.[a-z0-9]+\.js)"/.exec(html)?.[1];
      assert.ok(script, 'the page names its script');
      const asset = await browser.request(script);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
      assert.match(await asset.text(), /data-copy/);
    });

    it('signs in: a session cookie (HttpOnly, SameSite=Strict), then the repositories', async () => {
      const csrf = csrfIn(await (await browser.request('/ui/sign-in')).text());
      const wrong = await browser.post('/ui/sign-in', { csrf, username: ADMIN.username, password: 'wrong', next: '/ui/' });
      assert.equal(wrong.status, 401);
      assert.match(await wrong.text(), /Wrong username, password or token/);
      const res = await browser.post('/ui/sign-in', { csrf, username: ADMIN.username, password: ADMIN.password, next: '/ui/' });
      assert.equal(res.status, 303, await res.text());
      assert.equal(res.headers.get('location'), '/ui/');
      const cookie = browser.setCookies.find((c) => c.startsWith('berth_session='));
      assert.ok(cookie);
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Strict/);
      const page = await (await browser.request('/ui/')).text();
      for (const name of ['team/app', 'team/multi', 'other/private']) assert.ok(page.includes(`>${name}</a>`), name);
      const filtered = await (await browser.request('/ui/?q=multi')).text();
      assert.ok(filtered.includes('>team/multi</a>') && !filtered.includes('>team/app</a>'));
    });

    it('a repository page and an image page read sizes, dates and config from the store', async () => {
      const repo = await (await browser.request('/ui/r/team/app')).text();
      assert.ok(repo.includes(fixtures.app.digest.slice(0, 19)), 'short digest');
      assert.ok(repo.includes('5.4 KiB') && repo.includes('2026-11-05 10:20 UTC') && repo.includes('cosign signature'));
      const image = await (await browser.request('/ui/r/team/app:1.0')).text();
      assert.ok(image.includes(fixtures.app.digest) && image.includes('PATH API_TOKEN'));
      assert.ok(!image.includes(SECRET_ENV_VALUE), 'no env values');
      const arm = await (await browser.request(`/ui/r/team/multi:2.0?platform=${encodeURIComponent(fixtures.arm64.digest)}`)).text();
      for (const layer of fixtures.arm64.layerDigests) assert.ok(arm.includes(layer), layer);
      assert.ok(arm.includes('linux/arm64/v8'));
    });

    it('refuses a delete without the form token or from another origin, and deletes with both', async () => {
      const page = await (await browser.request('/ui/delete?ref=team/scratch:old')).text();
      const csrf = csrfIn(page);
      assert.ok(csrf);
      assert.equal((await browser.post('/ui/delete', { ref: 'team/scratch:old' })).status, 403, 'no token');
      assert.equal((await browser.post('/ui/delete', { ref: 'team/scratch:old', csrf }, 'http://evil.invalid')).status, 403, 'foreign origin');
      const done = await browser.post('/ui/delete', { ref: 'team/scratch:old', csrf });
      assert.equal(done.status, 303);
      assert.match(done.headers.get('location') ?? '', /^\/ui\/r\/team\/scratch\?deleted=/);
      const gone = await fetch(`${target.url}/v2/team/scratch/manifests/old`, { headers: { Authorization: `Basic ${btoa(`${ADMIN.username}:${ADMIN.password}`)}` } });
      assert.equal(gone.status, 404);
    });

    it('a pull-only account gets no delete button and a 403 when it posts anyway; signing out ends the session', async () => {
      const reader = new Browser(target.url);
      const csrf = csrfIn(await (await reader.request('/ui/sign-in')).text());
      assert.equal((await reader.post('/ui/sign-in', { csrf, username: READER.username, password: READER.password, next: '/ui/' })).status, 303);
      const repo = await (await reader.request('/ui/r/team/app')).text();
      assert.ok(!repo.includes('/ui/delete?ref='), 'no delete link');
      const sessionCsrf = csrfIn(repo);
      assert.equal((await reader.post('/ui/delete', { ref: 'team/app:1.0', csrf: sessionCsrf })).status, 403);
      assert.equal((await reader.request('/ui/r/other/private')).status, 403);
      assert.equal((await reader.post('/ui/sign-out', { csrf: sessionCsrf })).status, 303);
      assert.equal(reader.has('berth_session'), false);
      const after = await reader.request('/ui/r/team/app');
      assert.equal(after.status, 303);
      assert.match(after.headers.get('location') ?? '', /^\/ui\/sign-in\?next=/);
    });
  });
}
