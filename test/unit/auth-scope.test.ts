import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { covers, formatScope, MAX_SCOPES, parseScope, parseScopes } from '../../worker/auth/scope.ts';
import { parseAuthorization } from '../../worker/auth/credentials.ts';

describe('scope parsing (docs/spec/auth/scope.md)', () => {
  it('parses repository and registry scopes', () => {
    assert.deepEqual(parseScope('repository:team/app:pull,push'), { type: 'repository', name: 'team/app', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
    assert.deepEqual(parseScope('repository(plugin):team/app:pull'), { type: 'repository', name: 'team/app', actions: ['pull'] });
  });

  it('drops unknown actions and duplicates, refuses scopes with none left', () => {
    assert.deepEqual(parseScope('repository:a:pull,pull,metadata-read')?.actions, ['pull']);
    assert.equal(parseScope('repository:a:admin'), null);
    assert.equal(parseScope('repository:a:'), null);
  });

  it('refuses hostile scopes', () => {
    for (const hostile of [
      '', ':', 'repository', 'repository:', 'repository::pull', 'repository:../etc:pull', 'repository:/abs:pull',
      'repository:UPPER:pull', 'repository:a//b:pull', 'repository:host:5000/app:pull', 'repository:a b:pull',
      'registry:other:*', 'blob:a:pull', 'repository:a\u0000b:pull', `repository:${'a'.repeat(600)}:pull`,
      'repository:a:pull;push', 'repository:**:pull', 'repository:*:pull',
    ]) {
      assert.equal(parseScope(hostile), null, hostile);
    }
  });

  it('splits space-separated scopes, merges repeats and caps the count', () => {
    const scopes = parseScopes(['repository:a:pull repository:b:push', 'repository:a:push', 'junk']);
    assert.deepEqual(scopes.map(formatScope), ['repository:a:pull,push', 'repository:b:push']);
    const many = Array.from({ length: 100 }, (_, i) => `repository:r${i}:pull`);
    assert.equal(parseScopes(many).length, MAX_SCOPES);
  });

  it('covers checks every needed action', () => {
    const granted = [{ type: 'repository' as const, name: 'a', actions: ['pull' as const] }];
    assert.equal(covers(granted, { type: 'repository', name: 'a', actions: ['pull'] }), true);
    assert.equal(covers(granted, { type: 'repository', name: 'a', actions: ['pull', 'push'] }), false);
    assert.equal(covers(granted, { type: 'repository', name: 'b', actions: ['pull'] }), false);
    assert.equal(covers(granted, { type: 'registry', name: 'a', actions: ['pull'] }), false);
    assert.equal(covers([{ type: 'registry', name: 'catalog', actions: ['*'] }], { type: 'registry', name: 'catalog', actions: ['*'] }), true);
    assert.equal(covers(granted, { type: 'repository', name: 'a', actions: ['*'] }), false);
  });
});

describe('Authorization header parsing', () => {
  it('reads Basic and Bearer', () => {
    assert.deepEqual(parseAuthorization(`Basic ${btoa('bob:pa:ss')}`), { kind: 'basic', username: 'bob', password: 'pa:ss' });
    assert.deepEqual(parseAuthorization('bearer abc.def.ghi'), { kind: 'bearer', token: 'abc.def.ghi' });
    assert.equal(parseAuthorization(null), null);
  });

  it('refuses malformed headers', () => {
    for (const bad of ['Basic', 'Basic !!!', `Basic ${btoa('nocolon')}`, 'Digest x', 'Bearer a b', `Bearer ${'a'.repeat(9000)}`]) {
      assert.equal(parseAuthorization(bad), 'invalid', bad);
    }
  });
});
