/**
 * Every object key Berth writes is made here, and only here, so a layout change shows in one place.
 *
 * The key tree (hex = the digest's encoded part; algo = sha256 | sha512):
 *
 *   blobs/<algo>/<hex>                          blob record: {size, data} — published only after
 *                                               the digest was verified; created if absent
 *   data/<uploadId>                             the bytes an upload wrote; blob records point here,
 *                                               so finishing an upload never copies (principle 6)
 *   uploads/<uploadId>/session                  upload session state (JSON)
 *   uploads/<uploadId>/tail.<end>               bytes received but not yet a full part, ending at
 *                                               byte <end>; a new key per state, so a failed
 *                                               request never changes the tail a session names
 *   direct-uploads/<uploadId>                   direct upload session (JSON): the client PUTs the
 *                                               parts of `data/<uploadId>` straight to the store
 *                                               (registry/direct-uploads.ts); listed by cleanup
 *   repositories/<name>/_layers/<algo>/<hex>    this repository may read/mount/reference the blob
 *   repositories/<name>/_manifests/<algo>/<hex> manifest bytes (Content-Type in object metadata)
 *   repositories/<name>/_tags/<tag>             {digest, pushedAt}: pushedAt orders tags for
 *                                               retention (older records have none: the
 *                                               object's own date stands in)
 *   repositories/<name>/_referrers/<algo>/<subject hex>/<algo>/<hex>
 *                                               referrer descriptor (JSON), listed per subject
 *   catalog/<name>                              marker: the repository exists (catalog listing)
 *   (gc.ts lists `blobs/`, `data/` and each repository's `_layers/` to find what nothing links)
 *   auth/users/<account>                        user record: password hash, admin flag, access
 *                                               rules, credential stamp (JSON, worker/auth)
 *   auth/tokens/<id>                            robot/personal access token: SHA-256 of the
 *                                               secret, owner, scopes, expiry (JSON)
 *   auth/signing-key                            the generated ES256 private JWK every instance
 *                                               signs registry tokens with; created if absent
 *   auth/issuer                                 this deployment's random id, the `iss` of its
 *                                               tokens (`berth:<id>`); created if absent
 *   policies/<pattern>                          repository policy for a repository glob (JSON,
 *                                               policy-rules.ts): immutable tags, retention; the
 *                                               glob is the key's tail, so one listing finds the
 *                                               longest match
 *   webhooks/hooks/<id>                         webhook: URL, events, repository glob, secret
 *                                               (JSON, webhooks/hooks.ts)
 *   webhooks/deliveries/<id>/<seq>              one delivery: the envelope as sent, its state
 *                                               and last attempts; <seq> counts down with time,
 *                                               so a listing is the hook's log, newest first
 *   webhooks/pending/<id>/<seq>                 marker (empty) of a delivery still to be tried:
 *                                               the queue every instance and the scheduled job
 *                                               sweep (webhooks/deliveries.ts)
 *
 * Repository name components start with [a-z0-9], so `_layers` and friends never collide with a
 * nested repository name. Listings (catalog, tags, referrers) are prefix listings with
 * startAfter, never a scan of the whole store (principle 5).
 */
import type { ParsedDigest } from '../oci/digest.ts';

export type DigestParts = Pick<ParsedDigest, 'algorithm' | 'hex'>;

export type Key =
  | { kind: 'blob'; digest: DigestParts }
  | { kind: 'data'; uploadId: string }
  | { kind: 'uploadSession'; uploadId: string }
  | { kind: 'uploadTail'; uploadId: string; end: number }
  | { kind: 'uploads' }
  | { kind: 'directUpload'; uploadId: string }
  | { kind: 'directUploads' }
  | { kind: 'blobRecords' }
  | { kind: 'dataObjects' }
  | { kind: 'layerLink'; repo: string; digest: DigestParts }
  | { kind: 'layerLinks'; repo: string }
  | { kind: 'manifest'; repo: string; digest: DigestParts }
  | { kind: 'manifests'; repo: string }
  | { kind: 'tag'; repo: string; tag: string }
  | { kind: 'tags'; repo: string }
  | { kind: 'referrer'; repo: string; subject: DigestParts; digest: DigestParts }
  | { kind: 'referrers'; repo: string; subject: DigestParts }
  | { kind: 'catalogEntry'; repo: string }
  | { kind: 'catalog' }
  | { kind: 'authUser'; account: string }
  | { kind: 'authUsers' }
  | { kind: 'authToken'; id: string }
  | { kind: 'authTokens' }
  | { kind: 'authSigningKey' }
  | { kind: 'authIssuer' }
  | { kind: 'policy'; pattern: string }
  | { kind: 'policies' }
  | { kind: 'webhook'; id: string }
  | { kind: 'webhooks' }
  | { kind: 'webhookDelivery'; hookId: string; seq: string }
  | { kind: 'webhookDeliveries'; hookId: string }
  | { kind: 'webhookPending'; hookId: string; seq: string }
  | { kind: 'webhookPendings'; hookId?: string };

const d = (digest: DigestParts): string => `${digest.algorithm}/${digest.hex}`;
const repoRoot = (repo: string): string => `repositories/${repo}`;

/** Turns a key description into its string. Prefix kinds (`tags`, `uploads`…) end with '/'. */
export function keyOf(key: Key): string {
  switch (key.kind) {
    case 'blob': return `blobs/${d(key.digest)}`;
    case 'data': return `data/${key.uploadId}`;
    case 'uploadSession': return `uploads/${key.uploadId}/session`;
    case 'uploadTail': return `uploads/${key.uploadId}/tail.${key.end}`;
    case 'uploads': return 'uploads/';
    case 'directUpload': return `direct-uploads/${key.uploadId}`;
    case 'directUploads': return 'direct-uploads/';
    case 'blobRecords': return 'blobs/';
    case 'dataObjects': return 'data/';
    case 'layerLink': return `${repoRoot(key.repo)}/_layers/${d(key.digest)}`;
    case 'layerLinks': return `${repoRoot(key.repo)}/_layers/`;
    case 'manifest': return `${repoRoot(key.repo)}/_manifests/${d(key.digest)}`;
    case 'manifests': return `${repoRoot(key.repo)}/_manifests/`;
    case 'tag': return `${repoRoot(key.repo)}/_tags/${key.tag}`;
    case 'tags': return `${repoRoot(key.repo)}/_tags/`;
    case 'referrer': return `${repoRoot(key.repo)}/_referrers/${d(key.subject)}/${d(key.digest)}`;
    case 'referrers': return `${repoRoot(key.repo)}/_referrers/${d(key.subject)}/`;
    case 'catalogEntry': return `catalog/${key.repo}`;
    case 'catalog': return 'catalog/';
    case 'authUser': return `auth/users/${key.account}`;
    case 'authUsers': return 'auth/users/';
    case 'authToken': return `auth/tokens/${key.id}`;
    case 'authTokens': return 'auth/tokens/';
    case 'authSigningKey': return 'auth/signing-key';
    case 'authIssuer': return 'auth/issuer';
    case 'policy': return `policies/${key.pattern}`;
    case 'policies': return 'policies/';
    case 'webhook': return `webhooks/hooks/${key.id}`;
    case 'webhooks': return 'webhooks/hooks/';
    case 'webhookDelivery': return `webhooks/deliveries/${key.hookId}/${key.seq}`;
    case 'webhookDeliveries': return `webhooks/deliveries/${key.hookId}/`;
    case 'webhookPending': return `webhooks/pending/${key.hookId}/${key.seq}`;
    case 'webhookPendings': return key.hookId === undefined ? 'webhooks/pending/' : `webhooks/pending/${key.hookId}/`;
  }
}

/** The last component(s) of a listed key after its prefix (tag name, repository name…). */
export function afterPrefix(key: string, prefix: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}
