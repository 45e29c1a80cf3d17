/**
 * Which tags retention deletes in one repository: a pure function of the tags, the governing
 * policy (policy-rules.ts) and the time, so the rules are tested without a store.
 *
 * - Exempt, whatever their age: tags matching `protectTags`, and tags `immutableTags` covers
 *   unless the policy sets `expireImmutable`. Exempt tags do not count towards `keepLast`.
 * - Of the others, ordered by the time they were last pushed (newest first), a tag is kept when
 *   it is one of the `keepLast` newest, or when it was pushed less than `keepDays` days ago;
 *   with both set, either rule keeps it (Harbor's and zot's "retain" rules combine the same way).
 * - A policy with neither rule deletes no tag (it may still delete untagged manifests).
 */
import { anyGlobMatches, type RepositoryPolicy } from './policy-rules.ts';

export interface TagState {
  tag: string;
  digest: string;
  /** When the tag was last pushed. */
  pushedAt: Date;
}

const DAY_MS = 86_400_000;

export function isExempt(policy: RepositoryPolicy, tag: string): boolean {
  if (anyGlobMatches(policy.protectTags, tag)) return true;
  return !policy.expireImmutable && anyGlobMatches(policy.immutableTags, tag);
}

/** The tags to delete, newest first. */
export function tagsToExpire(tags: readonly TagState[], policy: RepositoryPolicy, now: Date): TagState[] {
  if (policy.keepLast === undefined && policy.keepDays === undefined) return [];
  const candidates = tags
    .filter((t) => !isExempt(policy, t.tag))
    // Newest first; equal times fall back to the name so every run decides the same way.
    .sort((a, b) => b.pushedAt.getTime() - a.pushedAt.getTime() || (a.tag < b.tag ? 1 : a.tag > b.tag ? -1 : 0));
  const cutoff = policy.keepDays === undefined ? undefined : now.getTime() - policy.keepDays * DAY_MS;
  return candidates.filter((t, index) => {
    const keptByCount = policy.keepLast !== undefined && index < policy.keepLast;
    const keptByAge = cutoff !== undefined && t.pushedAt.getTime() > cutoff;
    return !keptByCount && !keptByAge;
  });
}
