/**
 * Who may do what. Admins may do everything; a user's rules decide per repository (longest
 * match, rules.ts); a robot token may do what both its own scopes and its owner allow; anyone,
 * even anonymous, may pull repositories matching BERTH_PUBLIC_REPOS. The catalog lists every
 * repository, so only admins get `registry:catalog:*`. Every user (never a robot) may get
 * `registry:admin:*`, the admin API's scope: the API itself decides what each user may do there
 * (their own tokens and password; admins everything).
 */
import { ALL_REPOSITORY_ACTIONS } from './scope.ts';
import { globMatches } from './glob.ts';
import { matchRules } from './rules.ts';
import type { RobotToken } from './robot-tokens.ts';
import type { UserRecord } from './users.ts';
import type { AccessRequest, Action } from './types.ts';

export type Identity =
  | { kind: 'user'; user: UserRecord }
  | { kind: 'robot'; token: RobotToken; owner: UserRecord };

export function subjectOf(identity: Identity): string {
  return identity.kind === 'user' ? identity.user.account : identity.token.owner;
}

export function isAdmin(identity: Identity | null): boolean {
  // Robot tokens never carry the admin flag: they are for pushing and pulling, not for the admin API.
  return identity?.kind === 'user' && identity.user.admin;
}

function userActions(user: UserRecord, name: string): Action[] {
  return user.admin ? [...ALL_REPOSITORY_ACTIONS] : matchRules(user.rules, name);
}

export class Policy {
  constructor(private readonly publicRepos: readonly string[]) {}

  isPublic(name: string): boolean {
    return this.publicRepos.some((p) => globMatches(p, name));
  }

  /** Every action `identity` may perform on the resource of `access` (explicit, never `*` for repositories). */
  allowedActions(identity: Identity | null, access: Pick<AccessRequest, 'type' | 'name'>): Action[] {
    if (access.type === 'registry') {
      if (access.name === 'catalog') return isAdmin(identity) ? ['*'] : [];
      return access.name === 'admin' && identity?.kind === 'user' ? ['*'] : [];
    }
    const allowed = new Set<Action>(this.isPublic(access.name) ? ['pull'] : []);
    if (identity?.kind === 'user') for (const a of userActions(identity.user, access.name)) allowed.add(a);
    if (identity?.kind === 'robot') {
      const owner = userActions(identity.owner, access.name);
      for (const a of matchRules(identity.token.scopes, access.name)) if (owner.includes(a)) allowed.add(a);
    }
    return ALL_REPOSITORY_ACTIONS.filter((a) => allowed.has(a));
  }

  /** True when every action of `needed` is allowed. */
  permits(identity: Identity | null, needed: AccessRequest): boolean {
    const allowed = this.allowedActions(identity, needed);
    if (allowed.includes('*')) return true;
    return needed.actions.every((a) =>
      a === '*' ? needed.type === 'repository' && ALL_REPOSITORY_ACTIONS.every((x) => allowed.includes(x)) : allowed.includes(a),
    );
  }

  /** What a token may carry: the intersection of what was asked and what is allowed (token.md). */
  grant(identity: Identity | null, asked: readonly AccessRequest[]): AccessRequest[] {
    const granted: AccessRequest[] = [];
    for (const request of asked) {
      const allowed = this.allowedActions(identity, request);
      const actions = request.actions.includes('*')
        ? allowed
        : request.actions.filter((a) => allowed.includes(a));
      if (actions.length > 0) granted.push({ type: request.type, name: request.name, actions });
    }
    return granted;
  }
}
