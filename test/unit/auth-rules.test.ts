import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidPattern, matchRules, parseRuleSpec, patternMatches, validateRules } from '../../worker/auth/rules.ts';
import { Policy } from '../../worker/auth/policy.ts';
import type { UserRecord } from '../../worker/auth/users.ts';
import type { RobotToken } from '../../worker/auth/robot-tokens.ts';

const user = (rules: UserRecord['rules'], admin = false): UserRecord => ({
  account: 'bob', passwordHash: '', admin, rules, stamp: 's', createdAt: '', updatedAt: '',
});

describe('rule patterns', () => {
  it('* stays within a segment, ** crosses segments', () => {
    assert.equal(patternMatches('team/*', 'team/app'), true);
    assert.equal(patternMatches('team/*', 'team/app/sub'), false);
    assert.equal(patternMatches('team/**', 'team/app/sub'), true);
    assert.equal(patternMatches('**', 'anything/at/all'), true);
    assert.equal(patternMatches('*-dev', 'app-dev'), true);
    assert.equal(patternMatches('*-dev', 'team/app-dev'), false);
    assert.equal(patternMatches('team.x/app', 'teamyx/app'), false, 'dots are literal');
    assert.equal(patternMatches('team/app', 'team/app'), true);
    assert.equal(patternMatches('team/app', 'team/app2'), false);
  });

  it('refuses invalid patterns', () => {
    for (const bad of ['', 'a//b', '/a', 'A', 'a b', '***', 'a/(b)', 'x'.repeat(300)]) assert.equal(isValidPattern(bad), false, bad);
  });

  it('the longest matching pattern wins', () => {
    const rules = [
      { pattern: '**', actions: ['pull' as const] },
      { pattern: 'team/**', actions: ['pull' as const, 'push' as const] },
      { pattern: 'team/secret', actions: [] as never[] },
      { pattern: 'team/admin-*', actions: ['*' as const] },
    ];
    assert.deepEqual(matchRules(rules, 'other'), ['pull']);
    assert.deepEqual(matchRules(rules, 'team/app'), ['pull', 'push']);
    assert.deepEqual(matchRules(rules, 'team/secret'), []);
    assert.deepEqual(matchRules(rules, 'team/admin-x'), ['pull', 'push', 'delete']);
    assert.deepEqual(matchRules([], 'x'), []);
  });

  it('parses pattern=actions specs and validates rule lists', () => {
    assert.deepEqual(parseRuleSpec('team/*=pull,push'), { pattern: 'team/*', actions: ['pull', 'push'] });
    assert.equal(parseRuleSpec('team/*=fly'), null);
    assert.equal(parseRuleSpec('=pull'), null);
    assert.deepEqual(validateRules(['a=pull', { pattern: 'b/**', actions: ['push'] }]), [
      { pattern: 'a', actions: ['pull'] }, { pattern: 'b/**', actions: ['push'] },
    ]);
    assert.equal(validateRules([{ pattern: 'a', actions: ['own'] }]), null);
    assert.equal(validateRules('a=pull'), null);
  });
});

describe('policy', () => {
  const policy = new Policy(['pub/**']);
  const repo = (name: string) => ({ type: 'repository' as const, name });

  it('anonymous may pull public repositories only', () => {
    assert.deepEqual(policy.allowedActions(null, repo('pub/x')), ['pull']);
    assert.deepEqual(policy.allowedActions(null, repo('private')), []);
    assert.deepEqual(policy.allowedActions(null, { type: 'registry', name: 'catalog' }), []);
  });

  it('admins may do everything, including the catalog', () => {
    const admin = { kind: 'user' as const, user: user([], true) };
    assert.deepEqual(policy.allowedActions(admin, repo('any/thing')), ['pull', 'push', 'delete']);
    assert.deepEqual(policy.allowedActions(admin, { type: 'registry', name: 'catalog' }), ['*']);
  });

  it('users get their rules plus public pull', () => {
    const bob = { kind: 'user' as const, user: user([{ pattern: 'team/*', actions: ['push'] }]) };
    assert.deepEqual(policy.allowedActions(bob, repo('team/a')), ['push']);
    assert.deepEqual(policy.allowedActions(bob, repo('pub/a')), ['pull']);
    assert.equal(policy.permits(bob, { ...repo('team/a'), actions: ['pull', 'push'] }), false);
  });

  it('robot tokens get the intersection of their scopes and their owner rights', () => {
    const token: RobotToken = {
      id: 'x', name: 'ci', owner: 'bob', scopes: [{ pattern: '**', actions: ['pull', 'push', 'delete'] }],
      secretHash: '', createdAt: '', expiresAt: null,
    };
    const robot = { kind: 'robot' as const, token, owner: user([{ pattern: 'team/**', actions: ['pull', 'push'] }]) };
    assert.deepEqual(policy.allowedActions(robot, repo('team/a')), ['pull', 'push']);
    assert.deepEqual(policy.allowedActions(robot, repo('other')), []);
  });

  it('grant is the intersection of asked and allowed; * expands to what is allowed', () => {
    const bob = { kind: 'user' as const, user: user([{ pattern: 'team/*', actions: ['pull'] }]) };
    assert.deepEqual(
      policy.grant(bob, [
        { type: 'repository', name: 'team/a', actions: ['pull', 'push'] },
        { type: 'repository', name: 'nope', actions: ['pull'] },
        { type: 'repository', name: 'team/b', actions: ['*'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ]),
      [
        { type: 'repository', name: 'team/a', actions: ['pull'] },
        { type: 'repository', name: 'team/b', actions: ['pull'] },
      ],
    );
  });
});
