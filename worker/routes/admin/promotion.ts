/**
 * Promotion in the admin API (registry/promotion.ts): `berth tag SRC DST`.
 *
 *   POST /admin/tags {source: "repo:tag" | "repo@digest", target: "repo:tag"}
 *
 * The caller needs what a pull of the source and a push of the target would need (a robot token
 * for CI may promote within its scopes); the answer says what was written.
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { formatImageReference, parseImageReference } from '../../oci/image-reference.ts';
import type { AccessRequest } from '../../auth/types.ts';
import { subjectOf } from '../../auth/policy.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import { readJsonBody } from './json-body.ts';
import { announce } from '../events.ts';

function referenceField(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string') throw new RegistryError('INVALID_REQUEST', `${name} must be "repository:tag" or "repository@digest"`);
  return value;
}

export async function promote(c: Context<AppEnv>, auth: TokenAuthorizer): Promise<Response> {
  const caller = await auth.caller(c.req.raw, c.get('peerAddress'));
  if (caller.kind === 'anonymous') throw auth.adminUnauthorized(c.req.raw);
  const body = await readJsonBody(c);
  const source = parseImageReference(referenceField(body, 'source'));
  const target = parseImageReference(referenceField(body, 'target'));
  if (target.reference.kind !== 'tag') throw new RegistryError('TAG_INVALID', 'target must be repository:tag');
  // A mirror's names are the upstream's: promoting into them is a push there.
  c.get('registry').mirror.refusePush(target.repository);
  const needed: AccessRequest[] = [
    { type: 'repository', name: source.repository, actions: ['pull'] },
    { type: 'repository', name: target.repository, actions: ['pull', 'push'] },
  ];
  const refused = needed.filter((access) => !auth.policy.permits(caller.identity, access));
  if (refused.length > 0) {
    throw new RegistryError('DENIED', `promotion needs pull on ${source.repository} and push on ${target.repository}`,
      refused.map((m) => ({ Type: m.type, Name: m.name, Action: m.actions.join(',') })));
  }
  const result = await c.get('registry').promotion.promote(source, { repository: target.repository, tag: target.reference.tag });
  // A promotion is a push of the target tag, for webhooks as for clients.
  announce(c, 'push', { repository: result.repository, digest: result.digest, mediaType: result.mediaType, size: result.size, tag: result.tag }, subjectOf(caller.identity));
  return Response.json({ source: formatImageReference(source), ...result }, { status: 201 });
}
