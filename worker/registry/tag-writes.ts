/**
 * Writing and deleting tags under repository policies (policy-rules.ts). An immutable tag, once
 * it exists, names one digest for good: a push of another digest under it is refused with 403
 * DENIED naming the policy, while a push of the same digest succeeds (CI retries must not fail),
 * and only an admin may delete it.
 *
 * Two concurrent first pushes of an immutable tag cannot both win: the tag is created with a
 * create-if-absent write, and the loser reads the winner's digest and is refused like any later
 * push. (On a store without conditional writes, `BERTH_S3_CONDITIONAL_WRITES=false`, the last
 * of two simultaneous first pushes wins, as it would for a mutable tag.)
 */
import type { ObjectStore } from '../storage/types.ts';
import type { ParsedDigest } from '../oci/digest.ts';
import { RegistryError } from '../oci/errors.ts';
import { keyOf } from './keys.ts';
import { readJson, writeJson } from './json-objects.ts';
import type { Policies } from './policies.ts';
import { isImmutableTag, type RepositoryPolicy } from './policy-rules.ts';

export interface TagRecord {
  digest: string;
  /**
   * The manifest's media type and size (written since they were added; older records may
   * lack them): HEAD by tag answers from this one record. A manifest is immutable
   * under its digest, and deleting it deletes its tags first.
   */
  mediaType?: string;
  size?: number;
  /** When the tag was last pushed (ISO 8601); retention orders tags by it. */
  pushedAt?: string;
  /** Mirrored tags only (registry/mirror/): when the upstream last confirmed the digest (ISO 8601). */
  checkedAt?: string;
}

export type Clock = () => Date;

function moved(repo: string, tag: string, policy: RepositoryPolicy, current: string): RegistryError {
  return new RegistryError(
    'DENIED',
    `tag ${tag} of ${repo} is immutable (policy "${policy.pattern}") and already points to ${current}; push a new tag instead`,
    { repository: repo, tag, policy: policy.pattern, digest: current },
  );
}

export class TagWrites {
  constructor(
    private readonly store: ObjectStore,
    private readonly policies: Policies,
    private readonly now: Clock,
  ) {}

  /**
   * Loads the repository's policy and refuses, before anything is stored, a push that would move
   * an immutable tag. Returns the policy for `write`.
   */
  async check(repo: string, tags: readonly string[], digest: ParsedDigest): Promise<RepositoryPolicy | null> {
    if (tags.length === 0) return null;
    const policy = await this.policies.forRepository(repo);
    for (const tag of tags) {
      if (!policy || !isImmutableTag(policy, tag)) continue;
      const current = await readJson<TagRecord>(this.store, keyOf({ kind: 'tag', repo, tag }));
      if (current && current.digest !== digest.digest) throw moved(repo, tag, policy, current.digest);
    }
    return policy;
  }

  /** Points each tag at `digest`; immutable ones only if absent or already there. */
  async write(
    repo: string,
    tags: readonly string[],
    digest: ParsedDigest,
    policy: RepositoryPolicy | null,
    manifest?: { mediaType: string; size: number },
  ): Promise<void> {
    for (const tag of new Set(tags)) {
      const key = keyOf({ kind: 'tag', repo, tag });
      const record: TagRecord = { digest: digest.digest, ...manifest, pushedAt: this.now().toISOString() };
      if (isImmutableTag(policy, tag) && policy) {
        if (await writeJson(this.store, key, record, { ifNoneMatch: true })) continue;
        const current = await readJson<TagRecord>(this.store, key);
        if (current && current.digest !== digest.digest) throw moved(repo, tag, policy, current.digest);
      }
      await writeJson(this.store, key, record);
    }
  }

  /** Refuses to delete immutable tags unless `isAdmin` says the caller is an admin. */
  async checkDelete(repo: string, tags: readonly string[], isAdmin: () => Promise<boolean>): Promise<void> {
    if (tags.length === 0) return;
    const policy = await this.policies.forRepository(repo);
    const guarded = tags.filter((tag) => isImmutableTag(policy, tag));
    if (guarded.length === 0 || !policy || (await isAdmin())) return;
    throw new RegistryError(
      'DENIED',
      `tag ${guarded[0]} of ${repo} is immutable (policy "${policy.pattern}"); only an admin may delete it`,
      { repository: repo, tags: guarded.slice(0, 20), policy: policy.pattern },
    );
  }
}
