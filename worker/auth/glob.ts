/**
 * Repository globs, as access rules, robot token scopes and BERTH_PUBLIC_REPOS write them:
 * the repository name grammar's characters plus `*` (any run of characters within one path
 * segment, possibly none) and `**` (any run of characters, `/` included, possibly none).
 * `team/*` matches `team/app` but not `team/app/sub`; `team/**` matches both; `*-dev` matches
 * `app-dev` but not `team/app-dev`.
 *
 * Why not a regular expression: a glob turned into a backtracking regex (`[^/]*a[^/]*a…b`)
 * costs time exponential in its wildcards on a name that almost matches; seven `*` against a
 * 60-character name blocked the event loop for a minute. `Glob.matches` instead walks the name
 * once, keeping the set of pattern positions that can still match (a Thompson NFA): at most
 * (pattern length + 1) steps per character, with both lengths capped, and no backtracking.
 * Patterns are capped at MAX_GLOB_LENGTH characters and MAX_GLOB_WILDCARDS wildcards as well,
 * to keep rules readable.
 */

export const MAX_GLOB_LENGTH = 255;
/** Each `*` or `**` counts once. */
export const MAX_GLOB_WILDCARDS = 16;

/** Longer strings never match (repository names have at most 255 characters). */
export const MAX_SUBJECT_LENGTH = 1024;

const GLOB_CHARS = /^[a-z0-9._\-/*]+$/;
const SLASH = 0x2f;
/** Token values below 0: wildcards; 0 and up: the character code a literal must equal. */
const STAR = -1;
const GLOBSTAR = -2;

export interface Glob {
  readonly pattern: string;
  matches(name: string): boolean;
}

/** Why `pattern` is not a glob, or null when it is one. */
export function globProblem(pattern: string): string | null {
  if (typeof pattern !== 'string' || pattern.length === 0) return 'a pattern must not be empty';
  if (pattern.length > MAX_GLOB_LENGTH) return `a pattern has at most ${MAX_GLOB_LENGTH} characters`;
  if (!GLOB_CHARS.test(pattern)) return 'a pattern has only a-z 0-9 . _ - / and *';
  if (pattern.includes('***')) return 'a pattern has at most two * in a row';
  if (pattern.split('/').includes('')) return 'a pattern has no empty path segment';
  if ((pattern.match(/\*\*?/g)?.length ?? 0) > MAX_GLOB_WILDCARDS) return `a pattern has at most ${MAX_GLOB_WILDCARDS} wildcards`;
  return null;
}

export function isValidGlob(pattern: string): boolean {
  return globProblem(pattern) === null;
}

function tokensOf(pattern: string): Int32Array {
  const tokens: number[] = [];
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '*') tokens.push(pattern.charCodeAt(i));
    else if (pattern[i + 1] === '*') {
      tokens.push(GLOBSTAR);
      i++;
    } else tokens.push(STAR);
  }
  return Int32Array.from(tokens);
}

class CompiledGlob implements Glob {
  private readonly tokens: Int32Array;

  constructor(readonly pattern: string) {
    this.tokens = tokensOf(pattern);
  }

  matches(name: string): boolean {
    if (typeof name !== 'string' || name.length > MAX_SUBJECT_LENGTH) return false;
    const tokens = this.tokens;
    const size = tokens.length + 1;
    let active = new Uint8Array(size);
    let next = new Uint8Array(size);
    active[0] = 1;
    this.skipWildcards(active);
    for (let i = 0; i < name.length; i++) {
      const char = name.charCodeAt(i);
      next.fill(0);
      let any = false;
      for (let at = 0; at < tokens.length; at++) {
        if (!active[at]) continue;
        const token = tokens[at]!;
        if (token === GLOBSTAR || (token === STAR && char !== SLASH)) {
          next[at] = 1; // the wildcard takes this character and may take more
          any = true;
        } else if (token === char) {
          next[at + 1] = 1;
          any = true;
        }
      }
      if (!any) return false;
      this.skipWildcards(next);
      [active, next] = [next, active];
    }
    return active[tokens.length] === 1;
  }

  /** A wildcard may match nothing: whoever stands before one also stands after it. */
  private skipWildcards(positions: Uint8Array): void {
    for (let at = 0; at < this.tokens.length; at++) {
      if (positions[at] && this.tokens[at]! < 0) positions[at + 1] = 1;
    }
  }
}

const compiled = new Map<string, Glob>();
const MAX_COMPILED = 5000;

/** The glob for `pattern`, or null when it is not a valid one (see globProblem). */
export function parseGlob(pattern: string): Glob | null {
  let glob = compiled.get(pattern);
  if (glob) return glob;
  if (!isValidGlob(pattern)) return null;
  glob = new CompiledGlob(pattern);
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(pattern, glob);
  return glob;
}

/**
 * Tag globs (repository policies' `--immutable-tags`, `--protect-tags`): the tag grammar's
 * characters (distribution-spec `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`) plus `*`, matched by the
 * same walk. Tags have no `/`, so `*` is any run of characters and `**` is refused.
 */
const TAG_GLOB = /^[A-Za-z0-9_*][A-Za-z0-9._*-]{0,127}$/;
const compiledTagGlobs = new Map<string, Glob>();

export function isValidTagGlob(pattern: string): boolean {
  return (
    typeof pattern === 'string' &&
    TAG_GLOB.test(pattern) &&
    !pattern.includes('**') &&
    (pattern.match(/\*/g)?.length ?? 0) <= MAX_GLOB_WILDCARDS
  );
}

/** True when `pattern` is a valid tag glob and matches all of `tag`. */
export function tagGlobMatches(pattern: string, tag: string): boolean {
  let glob = compiledTagGlobs.get(pattern);
  if (!glob) {
    if (!isValidTagGlob(pattern)) return false;
    glob = new CompiledGlob(pattern);
    if (compiledTagGlobs.size >= MAX_COMPILED) compiledTagGlobs.clear();
    compiledTagGlobs.set(pattern, glob);
  }
  return glob.matches(tag);
}

/** True when `pattern` is a valid glob and matches all of `name`. */
export function globMatches(pattern: string, name: string): boolean {
  return parseGlob(pattern)?.matches(name) ?? false;
}
