/**
 * Repository policies in the bucket (policy-rules.ts says what they mean): one object per
 * pattern, so setting two patterns at once never loses either, and the pattern is the key's tail,
 * so finding the policy that governs a repository is one prefix listing plus one read of the
 * winner. Nothing is cached: an immutable tag is immutable on every instance the moment its
 * policy is stored.
 */
import type { ObjectStore } from '../storage/types.ts';
import { afterPrefix, keyOf } from './keys.ts';
import { readJson, writeJson } from './json-objects.ts';
import { listKeyPages } from './list-pages.ts';
import { mapLimit } from './concurrency.ts';
import { governingPattern, type RepositoryPolicy } from './policy-rules.ts';

/** Far more than anyone sets by hand; bounds the listing each push reads. */
export const MAX_POLICIES = 1000;

export class Policies {
  constructor(private readonly store: ObjectStore) {}

  async patterns(): Promise<string[]> {
    const prefix = keyOf({ kind: 'policies' });
    const patterns: string[] = [];
    for await (const keys of listKeyPages(this.store, prefix)) {
      patterns.push(...keys.map((key) => afterPrefix(key, prefix)));
      if (patterns.length >= MAX_POLICIES) break;
    }
    return patterns;
  }

  async list(): Promise<RepositoryPolicy[]> {
    const found = await mapLimit(await this.patterns(), 16, (pattern) => this.get(pattern));
    return found.filter((p): p is RepositoryPolicy => p !== null);
  }

  get(pattern: string): Promise<RepositoryPolicy | null> {
    return readJson<RepositoryPolicy>(this.store, keyOf({ kind: 'policy', pattern }));
  }

  /** The policy governing `repository` (longest matching pattern), or null. */
  async forRepository(repository: string): Promise<RepositoryPolicy | null> {
    const pattern = governingPattern(await this.patterns(), repository);
    return pattern === undefined ? null : this.get(pattern);
  }

  /** Creates or replaces the policy of `policy.pattern`; false when the limit is reached. */
  async set(policy: RepositoryPolicy): Promise<boolean> {
    const key = keyOf({ kind: 'policy', pattern: policy.pattern });
    if (!(await this.store.head(key)) && (await this.patterns()).length >= MAX_POLICIES) return false;
    await writeJson(this.store, key, policy);
    return true;
  }

  async delete(pattern: string): Promise<boolean> {
    const key = keyOf({ kind: 'policy', pattern });
    if (!(await this.store.head(key))) return false;
    await this.store.delete(key);
    return true;
  }
}
