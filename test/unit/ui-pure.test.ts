/** The UI's pure rules: formatting, reference parsing, config summaries, CSRF checks, redirects. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatPlatform, summarizeConfig } from '../../worker/oci/image-config.ts';
import { formatImageRef, parseImageRef } from '../../worker/oci/image-ref.ts';
import { RegistryError } from '../../worker/oci/errors.ts';
import { artifactLabel, formatBytes, formatTime, shortDigest } from '../../worker/ui/format.ts';
import { originAllowed, sameToken } from '../../worker/ui/csrf.ts';
import { safeNext, urls } from '../../worker/ui/urls.ts';

const DIGEST = `sha256:${'a'.repeat(64)}` as const;

describe('image references as people write them', () => {
  const cases: [string, ReturnType<typeof parseImageRef>][] = [
    ['team/app', { name: 'team/app' }],
    ['team/app:1.0', { name: 'team/app', reference: { kind: 'tag', tag: '1.0' } }],
    [`team/app@${DIGEST}`, { name: 'team/app', reference: { kind: 'digest', digest: DIGEST } }],
    ['a/b/c:latest', { name: 'a/b/c', reference: { kind: 'tag', tag: 'latest' } }],
  ];
  for (const [text, expected] of cases) {
    it(`parses ${text}`, () => {
      assert.deepEqual(parseImageRef(text), expected);
      assert.equal(formatImageRef(expected.name, expected.reference), text);
    });
  }
  const bad: [string, string][] = [
    ['', 'NAME_INVALID'],
    ['Team/App', 'NAME_INVALID'],
    ['team/app:', 'TAG_INVALID'],
    ['team/app:-x', 'TAG_INVALID'],
    ['team/app@sha256:123', 'DIGEST_INVALID'],
    ['team/app@md5:abc', 'DIGEST_INVALID'],
    ['../etc/passwd', 'NAME_INVALID'],
    ['team/app%2f..', 'NAME_INVALID'],
  ];
  for (const [text, code] of bad) {
    it(`refuses ${JSON.stringify(text)} with ${code}`, () => {
      assert.throws(() => parseImageRef(text), (e: unknown) => e instanceof RegistryError && e.code === code);
    });
  }
});

describe('image config summaries', () => {
  it('keeps env NAMES only, never values', () => {
    const summary = summarizeConfig({ config: { Env: ['PATH=/bin', 'TOKEN=secret=with=equals', 'FLAG'] } });
    assert.deepEqual(summary?.envNames, ['PATH', 'TOKEN', 'FLAG']);
    assert.ok(!JSON.stringify(summary).includes('secret'));
  });

  it('reads the fields the image page shows', () => {
    const summary = summarizeConfig({
      created: '2026-01-02T03:04:05Z',
      architecture: 'arm64',
      os: 'linux',
      variant: 'v8',
      config: {
        Entrypoint: ['/app'], Cmd: ['serve'], WorkingDir: '/srv', User: 'app',
        Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} }, Volumes: { '/data': {} }, StopSignal: 'SIGTERM',
      },
      history: [{}, {}],
    });
    assert.deepEqual(summary, {
      created: '2026-01-02T03:04:05Z', platform: 'linux/arm64/v8', entrypoint: ['/app'], cmd: ['serve'],
      workingDir: '/srv', user: 'app', envNames: [], labels: { a: 'b' }, exposedPorts: ['80/tcp'], volumes: ['/data'],
      stopSignal: 'SIGTERM', historyLength: 2,
    });
  });

  it('survives hostile configs: wrong types are ignored, long strings cut, lists capped', () => {
    assert.equal(summarizeConfig('not an object'), null);
    assert.equal(summarizeConfig([1, 2]), null);
    const summary = summarizeConfig({
      created: 42,
      config: { Entrypoint: 'sh', Env: [1, 'A=1', null], Labels: { ok: 'x', bad: 3 }, User: { x: 1 }, Cmd: Array(500).fill('x') },
      history: 'many',
    });
    assert.deepEqual(summary?.envNames, ['A']);
    assert.deepEqual(summary?.labels, { ok: 'x' });
    assert.equal(summary?.entrypoint, undefined);
    assert.equal(summary?.user, undefined);
    assert.equal(summary?.created, undefined);
    assert.equal(summary?.cmd?.length, 200);
    const long = summarizeConfig({ config: { WorkingDir: 'x'.repeat(5000) } });
    assert.equal(long?.workingDir?.length, 1001);
  });

  it('formats platforms', () => {
    assert.equal(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64');
    assert.equal(formatPlatform({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1' }), 'windows/amd64 (10.0.17763.1)');
    assert.equal(formatPlatform(undefined), '');
    assert.equal(formatPlatform({ os: 7 }), '');
  });
});

describe('UI formatting', () => {
  it('sizes in binary units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(5527), '5.4 KiB');
    assert.equal(formatBytes(150 * 1024 * 1024), '150 MiB');
    assert.equal(formatBytes(-1), '?');
  });
  it('times in UTC, nothing for junk', () => {
    assert.equal(formatTime('2026-11-05T10:20:30Z'), '2026-11-05 10:20 UTC');
    assert.equal(formatTime('2026-11-05T12:20:30+02:00'), '2026-11-05 10:20 UTC');
    assert.equal(formatTime('yesterday'), '');
    assert.equal(formatTime(undefined), '');
  });
  it('short digests and artifact labels', () => {
    assert.equal(shortDigest(DIGEST), `sha256:${'a'.repeat(12)}`);
    assert.equal(artifactLabel('application/vnd.dev.cosign.artifact.sig.v1+json'), 'cosign signature');
    assert.equal(artifactLabel('application/spdx+json'), 'SPDX SBOM');
    assert.equal(artifactLabel('application/vnd.example+json'), 'application/vnd.example+json');
    assert.equal(artifactLabel(undefined), 'artifact');
  });
});

describe('CSRF checks', () => {
  const ours = 'https://registry.example';
  const h = (entries: Record<string, string>): Headers => new Headers(entries);
  it('Origin must be ours when sent', () => {
    assert.equal(originAllowed(h({ origin: ours }), ours), true);
    assert.equal(originAllowed(h({ origin: 'https://evil.example' }), ours), false);
    assert.equal(originAllowed(h({ origin: 'null' }), ours), false);
    assert.equal(originAllowed(h({ origin: 'http://registry.example' }), ours), false, 'scheme counts');
    assert.equal(originAllowed(h({ origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }), ours), false, 'Origin wins');
  });
  it('without Origin: Sec-Fetch-Site, else Referer, else refused', () => {
    assert.equal(originAllowed(h({ 'sec-fetch-site': 'same-origin' }), ours), true);
    assert.equal(originAllowed(h({ 'sec-fetch-site': 'same-site' }), ours), false);
    assert.equal(originAllowed(h({ 'sec-fetch-site': 'cross-site' }), ours), false);
    assert.equal(originAllowed(h({ referer: `${ours}/ui/r/team/app` }), ours), true);
    assert.equal(originAllowed(h({ referer: 'https://registry.example.evil/ui/' }), ours), false);
    assert.equal(originAllowed(h({ referer: 'not a url' }), ours), false);
    assert.equal(originAllowed(h({}), ours), false);
  });
  it('form tokens compare exactly', () => {
    assert.equal(sameToken('abc', 'abc'), true);
    assert.equal(sameToken('abd', 'abc'), false);
    assert.equal(sameToken('ab', 'abc'), false);
    assert.equal(sameToken('', ''), false, 'an empty token never matches');
    assert.equal(sameToken(undefined, 'abc'), false);
    assert.equal(sameToken(['abc'], 'abc'), false);
  });
});

describe('UI addresses', () => {
  it('sign-in redirects only to UI paths (no open redirect)', () => {
    assert.equal(safeNext('/ui/r/team/app'), '/ui/r/team/app');
    for (const bad of [undefined, '', 'https://evil.example/', '//evil.example/ui/', '/ui\\..', '/v2/', '/ui/ x', 'javascript:alert(1)']) {
      assert.equal(safeNext(bad), '/ui/', String(bad));
    }
  });
  it('builds image and repository URLs as docker writes references', () => {
    assert.equal(urls.image('team/app', { kind: 'tag', tag: '1.0' }), '/ui/r/team/app:1.0');
    assert.equal(urls.image('team/app', { kind: 'digest', digest: DIGEST }, DIGEST), `/ui/r/team/app@${DIGEST}?platform=${encodeURIComponent(DIGEST)}`);
    assert.equal(urls.home({ q: 'a b', last: undefined }), '/ui/?q=a+b');
  });
});
