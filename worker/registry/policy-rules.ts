/**
 * Repository policies as pure data and rules: what a policy may say, which policy governs a
 * repository, and which tags its globs cover. Stored and loaded by policies.ts.
 *
 * A policy is set for a repository glob with the same syntax and the same choice as access rules
 * (auth/glob.ts, auth/rules.ts): among the patterns matching a repository, the longest one
 * decides, and it decides alone (a more specific policy replaces a broader one; they are not
 * merged), so
 * `prod/**` immutable plus `prod/scratch` with only retention leaves prod/scratch mutable.
 *
 * Tag globs (`--immutable-tags`, `--protect-tags`): the tag grammar plus `*`, any run of
 * characters (auth/glob.ts: the same one-pass matcher as repository globs).
 */
import { globMatches, isValidGlob, isValidTagGlob, tagGlobMatches } from '../auth/glob.ts';

export { isValidTagGlob, tagGlobMatches };

export interface RepositoryPolicy {
  /** Repository glob (auth/glob.ts syntax). */
  pattern: string;
  /** A tag matching one of these, once it exists, never points to another digest. */
  immutableTags: string[];
  /** Retention keeps the N most recently pushed tags… */
  keepLast?: number;
  /** …and/or the tags pushed within the last D days (a tag is kept if either rule keeps it). */
  keepDays?: number;
  /** Retention never deletes a tag matching one of these. */
  protectTags: string[];
  /** Retention deletes manifests no tag keeps once they are older than this (seconds). */
  deleteUntaggedAfterSeconds?: number;
  /** Retention may delete tags that `immutableTags` covers (off: immutable tags are kept forever). */
  expireImmutable: boolean;
  updatedAt: string;
}

export const MAX_TAG_GLOBS = 50;
export const MAX_KEEP_LAST = 100_000;
export const MAX_KEEP_DAYS = 36_500;
/** Untagged manifests younger than this are never deleted: a multi-platform push uploads its
 *  children untagged before the index that names them, and `push --digest` tags later. */
export const MIN_UNTAGGED_SECONDS = 3600;
const MAX_UNTAGGED_SECONDS = 100 * 365 * 86_400;

export function anyGlobMatches(globs: readonly string[], tag: string): boolean {
  return globs.some((glob) => tagGlobMatches(glob, tag));
}

/** The pattern that governs `repository`: the longest one matching it, or undefined. */
export function governingPattern(patterns: readonly string[], repository: string): string | undefined {
  let best: string | undefined;
  for (const pattern of patterns) {
    if (globMatches(pattern, repository) && (best === undefined || pattern.length > best.length)) best = pattern;
  }
  return best;
}

export function isImmutableTag(policy: RepositoryPolicy | null, tag: string): boolean {
  return policy !== null && anyGlobMatches(policy.immutableTags, tag);
}

/** True when the policy asks retention to do anything at all. */
export function hasRetention(policy: RepositoryPolicy): boolean {
  return policy.keepLast !== undefined || policy.keepDays !== undefined || policy.deleteUntaggedAfterSeconds !== undefined;
}

/** Checks an untrusted policy (admin API body); answers the policy or the reason it is refused. */
export function validatePolicy(input: Record<string, unknown>, now: Date): RepositoryPolicy | string {
  const { pattern } = input;
  if (typeof pattern !== 'string' || !isValidGlob(pattern)) {
    return 'pattern must be a repository glob (lowercase name characters, * within a segment, ** across)';
  }
  const immutableTags = globList(input.immutableTags, 'immutableTags');
  if (typeof immutableTags === 'string') return immutableTags;
  const protectTags = globList(input.protectTags, 'protectTags');
  if (typeof protectTags === 'string') return protectTags;
  const policy: RepositoryPolicy = { pattern, immutableTags, protectTags, expireImmutable: false, updatedAt: now.toISOString() };
  const keepLast = wholeNumber(input.keepLast, 'keepLast', 1, MAX_KEEP_LAST);
  if (typeof keepLast === 'string') return keepLast;
  if (keepLast !== undefined) policy.keepLast = keepLast;
  const keepDays = wholeNumber(input.keepDays, 'keepDays', 1, MAX_KEEP_DAYS);
  if (typeof keepDays === 'string') return keepDays;
  if (keepDays !== undefined) policy.keepDays = keepDays;
  const untagged = wholeNumber(input.deleteUntaggedAfterSeconds, 'deleteUntaggedAfterSeconds', MIN_UNTAGGED_SECONDS, MAX_UNTAGGED_SECONDS);
  if (typeof untagged === 'string') return untagged;
  if (untagged !== undefined) policy.deleteUntaggedAfterSeconds = untagged;
  if (input.expireImmutable !== undefined && typeof input.expireImmutable !== 'boolean') return 'expireImmutable must be true or false';
  policy.expireImmutable = input.expireImmutable === true;
  if (policy.expireImmutable && policy.immutableTags.length === 0) return 'expireImmutable needs immutableTags';
  if (policy.immutableTags.length === 0 && policy.protectTags.length === 0 && !hasRetention(policy)) {
    return 'a policy needs at least one of immutableTags, keepLast, keepDays, protectTags, deleteUntaggedAfterSeconds';
  }
  return policy;
}

function globList(value: unknown, name: string): string[] | string {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_TAG_GLOBS) return `${name} must be a list of at most ${MAX_TAG_GLOBS} tag globs`;
  for (const glob of value) {
    if (typeof glob !== 'string' || !isValidTagGlob(glob)) {
      return `${name}: "${String(glob).slice(0, 150)}" is not a tag glob (tag characters A-Z a-z 0-9 . _ - and *)`;
    }
  }
  return [...new Set(value as string[])];
}

function wholeNumber(value: unknown, name: string, min: number, max: number): number | undefined | string {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    return `${name} must be a whole number from ${min} to ${max}`;
  }
  return value;
}
