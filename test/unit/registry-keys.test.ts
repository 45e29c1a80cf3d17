/**
 * The key table: every key kind and the string it becomes (worker/registry/keys.ts). A change of
 * the layout shows here in review; a layout change breaks every stored registry, so it must be
 * deliberate.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { keyOf, type Key } from '../../worker/registry/keys.ts';

const a = { algorithm: 'sha256' as const, hex: 'a'.repeat(64) };
const b = { algorithm: 'sha512' as const, hex: 'b'.repeat(128) };

const TABLE: [Key, string][] = [
  [{ kind: 'blob', digest: a }, `blobs/sha256/${a.hex}`],
  [{ kind: 'data', uploadId: 'u1' }, 'data/u1'],
  [{ kind: 'uploadSession', uploadId: 'u1' }, 'uploads/u1/session'],
  [{ kind: 'uploadTail', uploadId: 'u1', end: 42 }, 'uploads/u1/tail.42'],
  [{ kind: 'uploads' }, 'uploads/'],
  [{ kind: 'directUpload', uploadId: 'u1' }, 'direct-uploads/u1'],
  [{ kind: 'directUploads' }, 'direct-uploads/'],
  [{ kind: 'blobRecords' }, 'blobs/'],
  [{ kind: 'dataObjects' }, 'data/'],
  [{ kind: 'layerLink', repo: 'team/app', digest: a }, `repositories/team/app/_layers/sha256/${a.hex}`],
  [{ kind: 'layerLinks', repo: 'team/app' }, 'repositories/team/app/_layers/'],
  [{ kind: 'manifest', repo: 'team/app', digest: b }, `repositories/team/app/_manifests/sha512/${b.hex}`],
  [{ kind: 'manifests', repo: 'team/app' }, 'repositories/team/app/_manifests/'],
  [{ kind: 'tag', repo: 'team/app', tag: 'v1.0' }, 'repositories/team/app/_tags/v1.0'],
  [{ kind: 'tags', repo: 'team/app' }, 'repositories/team/app/_tags/'],
  [{ kind: 'referrer', repo: 'team/app', subject: a, digest: b }, `repositories/team/app/_referrers/sha256/${a.hex}/sha512/${b.hex}`],
  [{ kind: 'referrers', repo: 'team/app', subject: a }, `repositories/team/app/_referrers/sha256/${a.hex}/`],
  [{ kind: 'catalogEntry', repo: 'team/app' }, 'catalog/team/app'],
  [{ kind: 'catalog' }, 'catalog/'],
  [{ kind: 'authUser', account: 'alice' }, 'auth/users/alice'],
  [{ kind: 'authUsers' }, 'auth/users/'],
  [{ kind: 'authToken', id: 't1' }, 'auth/tokens/t1'],
  [{ kind: 'authTokens' }, 'auth/tokens/'],
  [{ kind: 'authSigningKey' }, 'auth/signing-key'],
  [{ kind: 'authIssuer' }, 'auth/issuer'],
  [{ kind: 'policy', pattern: 'prod/**' }, 'policies/prod/**'],
  [{ kind: 'policies' }, 'policies/'],
  [{ kind: 'webhook', id: 'wh_1' }, 'webhooks/hooks/wh_1'],
  [{ kind: 'webhooks' }, 'webhooks/hooks/'],
  [{ kind: 'webhookDelivery', hookId: 'wh_1', seq: '42-ab' }, 'webhooks/deliveries/wh_1/42-ab'],
  [{ kind: 'webhookDeliveries', hookId: 'wh_1' }, 'webhooks/deliveries/wh_1/'],
  [{ kind: 'webhookPending', hookId: 'wh_1', seq: '42-ab' }, 'webhooks/pending/wh_1/42-ab'],
  [{ kind: 'webhookPendings' }, 'webhooks/pending/'],
  [{ kind: 'webhookPendings', hookId: 'wh_1' }, 'webhooks/pending/wh_1/'],
];

it('every key kind maps to its pinned string', () => {
  for (const [key, expected] of TABLE) assert.equal(keyOf(key), expected, key.kind);
});

it('the table covers every key kind', () => {
  // The Key union in keys.ts lists every kind; this keeps the table from falling behind it.
  const source = readFileSync(new URL('../../worker/registry/keys.ts', import.meta.url), 'utf8');
  const union = source.slice(source.indexOf('export type Key ='), source.indexOf('export function keyOf'));
  const kinds = [...union.matchAll(/kind: '([A-Za-z]+)'/g)].map((m) => m[1]);
  assert.ok(kinds.length > 20);
  assert.deepEqual([...new Set(TABLE.map(([key]) => key.kind))].sort(), [...new Set(kinds)].sort());
});
