import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, readMirrors, registryConfigFromEnv } from '../../worker/config.ts';
import {
  credentialVariables,
  defaultMirrorName,
  isDockerHub,
  parseMirrorList,
  splitMirrored,
  upstreamName,
} from '../../worker/oci/mirror-names.ts';

function configError(env: Record<string, string>): string {
  try {
    readMirrors(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), 'one line');
    return error.message;
  }
  assert.fail('no error');
}

describe('BERTH_MIRRORS and friends', () => {
  it('no mirrors by default', () => {
    assert.deepEqual(registryConfigFromEnv({}).mirrors, { upstreams: [], tagTtlSeconds: 300, defaultPrefix: undefined });
  });

  it('reads prefix=upstream pairs, credentials, TTL and the default', () => {
    const config = readMirrors({
      BERTH_MIRRORS: ' hub=https://registry-1.docker.io , ghcr=https://ghcr.io/,my-quay=http://127.0.0.1:5000',
      BERTH_MIRROR_GHCR_USERNAME: 'octo',
      BERTH_MIRROR_GHCR_PASSWORD: 'ghp_secret',
      BERTH_MIRROR_MY_QUAY_USERNAME: 'q',
      BERTH_MIRROR_MY_QUAY_PASSWORD: 'p',
      BERTH_MIRROR_TTL_SECONDS: '60',
      BERTH_MIRROR_DEFAULT: 'hub',
    });
    assert.deepEqual(config, {
      upstreams: [
        { prefix: 'hub', url: 'https://registry-1.docker.io', dockerHub: true },
        { prefix: 'ghcr', url: 'https://ghcr.io', dockerHub: false, credentials: { username: 'octo', password: 'ghp_secret' } },
        { prefix: 'my-quay', url: 'http://127.0.0.1:5000', dockerHub: false, credentials: { username: 'q', password: 'p' } },
      ],
      tagTtlSeconds: 60,
      defaultPrefix: 'hub',
    });
  });

  it('refuses malformed lists with one line naming the mistake', () => {
    assert.match(configError({ BERTH_MIRRORS: 'hub' }), /BERTH_MIRRORS: entry "hub" is not prefix=https:\/\/upstream/);
    assert.match(configError({ BERTH_MIRRORS: 'Hub=https://x.io' }), /prefix "Hub" must be lowercase/);
    assert.match(configError({ BERTH_MIRRORS: 'a_b=https://x.io' }), /prefix "a_b"/);
    assert.match(configError({ BERTH_MIRRORS: 'hub=ftp://x.io' }), /upstream of "hub" must be an http\(s\) origin/);
    assert.match(configError({ BERTH_MIRRORS: 'hub=https://x.io/v2' }), /upstream of "hub"/);
    assert.match(configError({ BERTH_MIRRORS: 'hub=https://u:p@x.io' }), /upstream of "hub"/);
    assert.match(configError({ BERTH_MIRRORS: 'hub=https://x.io,hub=https://y.io' }), /"hub" is given twice/);
  });

  it('wants username and password together, and only for configured mirrors', () => {
    assert.match(
      configError({ BERTH_MIRRORS: 'hub=https://x.io', BERTH_MIRROR_HUB_USERNAME: 'u' }),
      /BERTH_MIRROR_HUB_USERNAME and BERTH_MIRROR_HUB_PASSWORD must be set together/,
    );
    assert.match(
      configError({ BERTH_MIRRORS: 'hub=https://x.io', BERTH_MIRROR_GHRC_PASSWORD: 'typo' }),
      /BERTH_MIRROR_GHRC_PASSWORD names no mirror of BERTH_MIRRORS/,
    );
  });

  it('checks the default and the TTL', () => {
    assert.match(configError({ BERTH_MIRRORS: 'hub=https://x.io', BERTH_MIRROR_DEFAULT: 'ghcr' }), /BERTH_MIRROR_DEFAULT is "ghcr"/);
    assert.match(configError({ BERTH_MIRROR_DEFAULT: 'hub' }), /BERTH_MIRROR_DEFAULT/);
    assert.match(configError({ BERTH_MIRROR_TTL_SECONDS: '-1' }), /BERTH_MIRROR_TTL_SECONDS must be a whole number/);
    assert.equal(readMirrors({ BERTH_MIRROR_TTL_SECONDS: '0' }).tagTtlSeconds, 0);
  });
});

describe('mirror names', () => {
  it('parses an empty list', () => {
    assert.deepEqual(parseMirrorList(''), { ok: true, mirrors: [] });
  });

  it('names credential variables after the upper-cased prefix', () => {
    assert.deepEqual(credentialVariables('my-hub'), { username: 'BERTH_MIRROR_MY_HUB_USERNAME', password: 'BERTH_MIRROR_MY_HUB_PASSWORD' });
  });

  it('knows Docker Hub by its hosts', () => {
    assert.equal(isDockerHub('https://registry-1.docker.io'), true);
    assert.equal(isDockerHub('https://index.docker.io'), true);
    assert.equal(isDockerHub('https://ghcr.io'), false);
    assert.equal(isDockerHub('http://127.0.0.1:5000'), false);
  });

  it('gives Docker Hub library/ for one-component names only', () => {
    assert.equal(upstreamName('alpine', true), 'library/alpine');
    assert.equal(upstreamName('library/alpine', true), 'library/alpine');
    assert.equal(upstreamName('grafana/grafana', true), 'grafana/grafana');
    assert.equal(upstreamName('alpine', false), 'alpine');
  });

  it('splits names under a prefix', () => {
    assert.deepEqual(splitMirrored('hub/library/alpine', ['hub', 'ghcr']), { prefix: 'hub', rest: 'library/alpine' });
    assert.deepEqual(splitMirrored('ghcr/a', ['hub', 'ghcr']), { prefix: 'ghcr', rest: 'a' });
    assert.equal(splitMirrored('hub', ['hub']), null);
    assert.equal(splitMirrored('hubx/a', ['hub']), null);
    assert.equal(splitMirrored('team/hub/a', ['hub']), null);
  });

  it('maps unprefixed names to the default mirror when the result is a valid name', () => {
    assert.equal(defaultMirrorName('library/alpine', 'hub'), 'hub/library/alpine');
    assert.equal(defaultMirrorName('a'.repeat(253), 'hub'), null);
  });
});
