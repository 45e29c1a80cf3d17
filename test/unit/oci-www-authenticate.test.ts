import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { findChallenge, MAX_CHALLENGE_LENGTH, parseWwwAuthenticate } from '../../worker/oci/www-authenticate.ts';

describe('WWW-Authenticate parsing (RFC 9110 §11.6.1)', () => {
  it("reads Docker Hub's Bearer challenge", () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"';
    assert.deepEqual(parseWwwAuthenticate(header), [
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull' },
      },
    ]);
  });

  it('reads a Basic challenge with a charset (RFC 7617)', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="berth", charset="UTF-8"'), [
      { scheme: 'basic', params: { realm: 'berth', charset: 'UTF-8' } },
    ]);
  });

  it('separates several challenges in one header', () => {
    const parsed = parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"');
    assert.deepEqual(parsed, [
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
    ]);
  });

  it('lower-cases scheme and parameter names, keeps values, allows spaces around "="', () => {
    assert.deepEqual(parseWwwAuthenticate('BEARER Realm = "https://X.example/Token" ,Service=Reg'), [
      { scheme: 'bearer', params: { realm: 'https://X.example/Token', service: 'Reg' } },
    ]);
  });

  it('keeps a scope holding several space-separated scopes whole', () => {
    const c = findChallenge('Bearer realm="r",scope="repository:a:pull repository:b:pull,push"', 'bearer');
    assert.equal(c?.params.scope, 'repository:a:pull repository:b:pull,push');
  });

  it('reads token68 challenges and bare schemes', () => {
    assert.deepEqual(parseWwwAuthenticate('Negotiate, Other abc+/def==, Basic realm=x'), [
      { scheme: 'negotiate', params: {} },
      { scheme: 'other', params: {}, token68: 'abc+/def==' },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('keeps the first of a repeated parameter', () => {
    assert.equal(findChallenge('Bearer realm="first",realm="second"', 'bearer')?.params.realm, 'first');
  });

  it('tolerates empty list elements and stray commas', () => {
    assert.deepEqual(parseWwwAuthenticate(' , Bearer realm="r",, ,service="s" ,'), [
      { scheme: 'bearer', params: { realm: 'r', service: 's' } },
    ]);
  });

  it('answers nothing for absent, empty, oversized or garbage headers', () => {
    assert.deepEqual(parseWwwAuthenticate(null), []);
    assert.deepEqual(parseWwwAuthenticate(''), []);
    assert.deepEqual(parseWwwAuthenticate(`Bearer realm="${'a'.repeat(MAX_CHALLENGE_LENGTH)}"`), []);
    assert.deepEqual(parseWwwAuthenticate('"quoted" first'), []);
  });

  it('drops an unterminated quoted value instead of reading past it', () => {
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://a/token",service="unterminated'), [
      { scheme: 'bearer', params: { realm: 'https://a/token' } },
    ]);
  });

  it('finds a challenge by scheme', () => {
    assert.equal(findChallenge('Basic realm="a", Bearer realm="b"', 'bearer')?.params.realm, 'b');
    assert.equal(findChallenge('Basic realm="a"', 'bearer'), undefined);
  });
});
