/** Repository policies as pure rules (worker/registry/policy-rules.ts): globs, choice, validation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  governingPattern, isImmutableTag, isValidTagGlob, MIN_UNTAGGED_SECONDS, tagGlobMatches, validatePolicy, type RepositoryPolicy,
} from '../../worker/registry/policy-rules.ts';

const NOW = new Date('2026-05-01T12:00:00Z');

describe('tag globs', () => {
  it('* matches any run of characters, everything else is literal', () => {
    const cases: [string, string, boolean][] = [
      ['v*', 'v1.2.3', true],
      ['v*', 'V1', false],
      ['v*', 'v', true],
      ['*', 'anything', true],
      ['release-*-final', 'release-2026-05-final', true],
      ['release-*-final', 'release-2026-05-finale', false],
      ['1.*', '1.0.0', true],
      ['1.*', '10.0', false],
      ['latest', 'latest', true],
      ['latest', 'latest2', false],
      ['*-rc*', 'v2-rc1', true],
      ['a*a*a*a*a*b', 'a'.repeat(120), false],
    ];
    for (const [glob, tag, expected] of cases) assert.equal(tagGlobMatches(glob, tag), expected, `${glob} vs ${tag}`);
  });

  it('a hostile glob against a long tag answers without backtracking blow-up', () => {
    // A backtracking matcher takes minutes on this; the one-pass walk is bounded by length².
    assert.equal(tagGlobMatches(`${'*a'.repeat(16)}b`, 'a'.repeat(128)), false);
    assert.equal(tagGlobMatches(`${'*a'.repeat(16)}`, 'a'.repeat(128)), true);
  });

  it('refuses what cannot be a tag glob', () => {
    for (const bad of ['', 'a/b', 'a**', 'x'.repeat(129), '.v', 'a b', 'v?', '*a'.repeat(17)]) assert.equal(isValidTagGlob(bad), false, bad);
    for (const good of ['v*', '*', 'Release_1', '1.*', '*-rc*']) assert.equal(isValidTagGlob(good), true, good);
  });
});

describe('which policy governs a repository', () => {
  it('the longest matching pattern, as with access rules', () => {
    const patterns = ['**', 'prod/**', 'prod/scratch', 'prod/*-legacy'];
    assert.equal(governingPattern(patterns, 'ci/app'), '**');
    assert.equal(governingPattern(patterns, 'prod/app'), 'prod/**');
    assert.equal(governingPattern(patterns, 'prod/team/app'), 'prod/**');
    assert.equal(governingPattern(patterns, 'prod/scratch'), 'prod/scratch');
    assert.equal(governingPattern(patterns, 'prod/app-legacy'), 'prod/*-legacy');
    assert.equal(governingPattern(['prod/*'], 'prod/team/app'), undefined, '* stays within a segment');
    assert.equal(governingPattern([], 'x'), undefined);
  });

  it('immutability comes from the governing policy only', () => {
    const policy = validatePolicy({ pattern: 'prod/**', immutableTags: ['v*'] }, NOW) as RepositoryPolicy;
    assert.equal(isImmutableTag(policy, 'v1.0.0'), true);
    assert.equal(isImmutableTag(policy, 'latest'), false);
    assert.equal(isImmutableTag(null, 'v1.0.0'), false);
  });
});

describe('policy validation', () => {
  it('accepts a full policy and fills the defaults', () => {
    const policy = validatePolicy({
      pattern: 'ci/**', keepLast: 10, keepDays: 30, protectTags: ['latest', 'latest'], deleteUntaggedAfterSeconds: 7 * 86_400,
    }, NOW);
    assert.deepEqual(policy, {
      pattern: 'ci/**', immutableTags: [], protectTags: ['latest'], keepLast: 10, keepDays: 30,
      deleteUntaggedAfterSeconds: 604_800, expireImmutable: false, updatedAt: NOW.toISOString(),
    });
  });

  it('names what is wrong', () => {
    const refused: [Record<string, unknown>, RegExp][] = [
      [{ pattern: 'Prod/**', keepLast: 1 }, /pattern must be a repository glob/],
      [{ pattern: 'prod/**' }, /needs at least one of/],
      [{ pattern: 'prod/**', keepLast: 0 }, /keepLast must be a whole number from 1/],
      [{ pattern: 'prod/**', keepLast: 1.5 }, /keepLast/],
      [{ pattern: 'prod/**', keepDays: '3' }, /keepDays/],
      [{ pattern: 'prod/**', immutableTags: 'v*' }, /immutableTags must be a list/],
      [{ pattern: 'prod/**', immutableTags: ['v/1'] }, /"v\/1" is not a tag glob/],
      [{ pattern: 'prod/**', deleteUntaggedAfterSeconds: 60 }, new RegExp(`from ${MIN_UNTAGGED_SECONDS}`)],
      [{ pattern: 'prod/**', keepLast: 3, expireImmutable: true }, /expireImmutable needs immutableTags/],
      [{ pattern: 'prod/**', keepLast: 3, expireImmutable: 'yes' }, /true or false/],
    ];
    for (const [input, message] of refused) {
      const result = validatePolicy(input, NOW);
      assert.equal(typeof result, 'string', JSON.stringify(input));
      assert.match(result as string, message);
    }
  });
});
