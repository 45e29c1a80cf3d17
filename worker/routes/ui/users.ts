/**
 * Users and their rules in the web UI (admins), through the admin API's operations (routes/admin/users.ts).
 *
 *   GET /ui/users     POST /ui/users {account, password, admin?, rules}
 *   POST /ui/users/rules {account, rules}      POST /ui/users/delete {account}
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { UsersPage, type UsersProps } from '../../ui/pages/users.tsx';
import { urls } from '../../ui/urls.ts';
import { addUser, allUsers, removeUser, replaceRules } from '../admin/users.ts';
import { requireAdmin, ruleLines } from './guards.ts';
import { render, type UiRequest } from './session.ts';

async function page(c: Context<AppEnv>, ui: UiRequest, extra: Partial<UsersProps> = {}, status = 200): Promise<Response> {
  const { user, auth } = requireAdmin(ui);
  return render(c, UsersPage({ viewer: ui.viewer, users: await allUsers(auth), self: user.account, ...extra }), status);
}

export async function listUsersPage(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const done = c.req.query('done');
  return page(c, ui, done ? { done } : {});
}

/** Runs an admin change; a refusal (bad input, unknown user…) is shown on the page with what was typed. */
async function change(c: Context<AppEnv>, ui: UiRequest, done: string, task: () => Promise<unknown>, form: UsersProps['form'] = {}): Promise<Response> {
  try {
    await task();
  } catch (error) {
    if (!(error instanceof RegistryError) || error.status >= 500) throw error;
    return page(c, ui, { error: error.message, form }, error.status);
  }
  return c.redirect(urls.users({ done }), 303);
}

export async function createUserForm(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { auth } = requireAdmin(ui);
  const { account = '', password = '', rules = '' } = ui.form;
  const body = { account, password, admin: ui.form.admin === 'true', rules: ruleLines(rules) };
  return change(c, ui, `Added user ${account}.`, () => addUser(auth, body), { account, rules });
}

export async function setRulesForm(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { auth } = requireAdmin(ui);
  const account = ui.form.account ?? '';
  return change(c, ui, `Saved the rules of ${account}.`, () => replaceRules(auth, account, ruleLines(ui.form.rules)));
}

export async function deleteUserForm(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { user, auth } = requireAdmin(ui);
  const account = ui.form.account ?? '';
  return change(c, ui, `Deleted user ${account}.`, () => removeUser(auth, user, account));
}
