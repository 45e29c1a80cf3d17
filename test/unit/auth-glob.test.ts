import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { globMatches, globProblem, isValidGlob, MAX_GLOB_WILDCARDS, parseGlob } from '../../worker/auth/glob.ts';

/**
 * The meaning globs had as regular expressions (`*` → `[^/]*`, `**` → `.*`), kept here only as
 * the oracle: on short inputs it is fast, and the linear matcher must agree with it everywhere.
 */
function oracle(pattern: string, name: string): boolean {
  const body = pattern
    .split('**')
    .map((part) => part.split('*').map((s) => s.replace(/[.\-/]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${body}$`).test(name);
}

/** A small deterministic generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('glob matcher', () => {
  it('agrees with the regular-expression meaning on 20,000 random patterns and names', () => {
    const next = random(42);
    const pick = (alphabet: string[], max: number): string =>
      Array.from({ length: 1 + Math.floor(next() * max) }, () => alphabet[Math.floor(next() * alphabet.length)]).join('');
    let checked = 0;
    while (checked < 20_000) {
      const pattern = pick(['a', 'b', '/', '*', '**', '-'], 7);
      if (!isValidGlob(pattern)) continue;
      const name = pick(['a', 'b', '/', '-'], 9);
      assert.equal(globMatches(pattern, name), oracle(pattern, name), `${pattern} against ${name}`);
      checked++;
    }
  });

  it('* stays within a segment, ** crosses segments and may match nothing', () => {
    assert.equal(globMatches('team/*', 'team/app'), true);
    assert.equal(globMatches('team/*', 'team/app/sub'), false);
    assert.equal(globMatches('team/**', 'team/app/sub'), true);
    assert.equal(globMatches('team/**/app', 'team/app'), false, 'the slashes around ** are literal');
    assert.equal(globMatches('team/**app', 'team/app'), true);
    assert.equal(globMatches('a*b*c', 'abc'), true);
    assert.equal(globMatches('a*b*c', 'ab/c'), false);
    assert.equal(globMatches('**', 'x'), true);
  });

  it('refuses what is not a glob, naming the problem', () => {
    for (const bad of ['', 'a//b', '/a', 'a/', 'A', 'a b', '***', 'a/(b)', 'x'.repeat(256)]) {
      assert.equal(isValidGlob(bad), false, bad);
      assert.ok(globProblem(bad), bad);
      assert.equal(parseGlob(bad), null, bad);
      assert.equal(globMatches(bad, 'a'), false, bad);
    }
    const wild = '*a'.repeat(MAX_GLOB_WILDCARDS);
    assert.equal(isValidGlob(wild), true);
    assert.match(globProblem(`${wild}*`) ?? '', /wildcards/);
  });

  it('hostile patterns cost one pass over the name (a backtracking regex took minutes here)', () => {
    // Each of these made the regex form try every way of splitting the name among the wildcards.
    // Checked through rules.ts, the entry every rule, robot scope and public-repository check
    // uses, in a child process: a matcher that blocks would block this runner's clock as well.
    const rules = new URL('../../worker/auth/rules.ts', import.meta.url).href;
    const script = `
      const { patternMatches } = await import(${JSON.stringify(rules)});
      const name = 'a'.repeat(255);
      for (const pattern of ['*a'.repeat(15) + '*b', '**a'.repeat(15) + '**b']) {
        for (let i = 0; i < 200; i++) if (patternMatches(pattern, name)) process.exit(3);
        if (!patternMatches(pattern, name.slice(1) + 'b')) process.exit(4);
      }`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 30_000, encoding: 'utf8' });
    assert.equal(run.signal, null, 'the matcher did not finish within 30 s');
    assert.equal(run.status, 0, run.stderr);
  });
});
