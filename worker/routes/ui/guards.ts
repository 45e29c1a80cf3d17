/** Who may open which UI page; refusals are RegistryErrors that session.ts renders (or redirects, for sign-in). */
import { RegistryError } from '../../oci/errors.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import type { UserRecord } from '../../auth/users.ts';
import type { RepositoryAction } from '../../ui/viewer.ts';
import type { UiRequest } from './session.ts';

/** The viewer may do `action` on `repo`; an anonymous viewer is asked to sign in first. */
export function requireAccess(ui: UiRequest, repo: string, action: RepositoryAction): void {
  if (ui.viewer.may(repo, action)) return;
  if (ui.viewer.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED');
  const what = action === 'pull' ? `see ${repo}` : `${action} in ${repo}`;
  throw new RegistryError('DENIED', `Your account may not ${what}.`);
}

/** A user signed in with a password (robot tokens manage no accounts), and the auth layer. */
export function requireUser(ui: UiRequest): { user: UserRecord; auth: TokenAuthorizer } {
  if (!ui.deps.auth) throw new RegistryError('NOT_FOUND', 'Authentication is off (BERTH_AUTH=none): there are no accounts or tokens.');
  if (ui.viewer.kind === 'anonymous') throw new RegistryError('UNAUTHORIZED');
  if (!ui.user) throw new RegistryError('DENIED', 'Robot tokens and users are managed by a user signed in with a password.');
  return { user: ui.user, auth: ui.deps.auth };
}

export function requireAdmin(ui: UiRequest): { user: UserRecord; auth: TokenAuthorizer } {
  const found = requireUser(ui);
  if (!found.user.admin) throw new RegistryError('DENIED', 'Only administrators may open this page.');
  return found;
}

/** A textarea of `pattern=actions` lines as the rule list the admin API takes. */
export function ruleLines(text: string | undefined): string[] {
  return (text ?? '').split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
}
