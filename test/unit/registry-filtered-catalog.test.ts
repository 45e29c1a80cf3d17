/** listRepositoriesWhere: the catalog as one account sees it (web UI, /v2/_catalog for non-admins). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { listRepositoriesWhere } from '../../worker/registry/listings.ts';
import { keyOf } from '../../worker/registry/keys.ts';
import { memoryStore } from '../support/auth-memory-store.ts';

async function storeWith(names: string[]): Promise<ReturnType<typeof memoryStore>> {
  const store = memoryStore();
  for (const repo of names) await store.put(keyOf({ kind: 'catalogEntry', repo }), '');
  return store;
}

describe('filtered catalog pages', () => {
  const names = Array.from({ length: 30 }, (_, i) => `${i % 3 === 0 ? 'team' : 'other'}/r${String(i).padStart(2, '0')}`);
  const team = names.filter((n) => n.startsWith('team/')).sort();

  it('keeps only what the predicate accepts, in order, a page at a time', async () => {
    const store = await storeWith(names);
    const seen: string[] = [];
    let last: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await listRepositoriesWhere(store, { n: 4, last }, (n) => n.startsWith('team/'));
      seen.push(...page.names);
      assert.ok(page.names.length <= 4);
      if (!page.more) break;
      last = page.next;
    }
    assert.deepEqual(seen, team);
  });

  it('says "no more" exactly when no accepted name follows', async () => {
    const store = await storeWith(names);
    const all = await listRepositoriesWhere(store, { n: team.length }, (n) => n.startsWith('team/'));
    assert.deepEqual(all.names, team);
    assert.equal(all.more, false);
    const none = await listRepositoriesWhere(store, { n: 10 }, () => false);
    assert.deepEqual(none, { names: [], more: false });
  });

  it('stops after its budget with a cursor to go on from, instead of scanning everything', async () => {
    const store = await storeWith(names);
    const first = await listRepositoriesWhere(store, { n: 50 }, (n) => n === 'team/r27', 5);
    assert.deepEqual(first.names, []);
    assert.equal(first.more, true);
    assert.ok(first.next, 'a cursor');
    let last: string | undefined = first.next;
    const found: string[] = [];
    for (let i = 0; i < 10 && last !== undefined; i++) {
      const page = await listRepositoriesWhere(store, { n: 50, last }, (n) => n === 'team/r27', 5);
      found.push(...page.names);
      last = page.more ? page.next : undefined;
    }
    assert.deepEqual(found, ['team/r27']);
  });
});
