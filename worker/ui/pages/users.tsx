/** Users and their access rules (admins only): list, create, edit rules, delete. */
import type { UserRecord } from '../../auth/users.ts';
import { Layout } from '../layout.tsx';
import { ActionButton, Csrf, Notice, Table } from '../parts.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export interface UsersProps {
  viewer: Viewer;
  users: UserRecord[];
  /** The signed-in admin (cannot delete itself). */
  self: string;
  done?: string;
  error?: string;
  form?: { account?: string; rules?: string };
}

export function rulesText(user: Pick<UserRecord, 'rules'>): string {
  return user.rules.map((r) => `${r.pattern}=${r.actions.join(',')}`).join('\n');
}

function RulesForm({ viewer, user }: { viewer: Viewer; user: UserRecord }) {
  const id = `rules-${user.account}`;
  return (
    <form method="post" action={urls.userRules()}>
      <Csrf token={viewer.csrf} />
      <input type="hidden" name="account" value={user.account} />
      <label for={id} class="vh">
        Rules of {user.account}
      </label>
      <textarea id={id} name="rules" rows={Math.max(2, user.rules.length + 1)}>
        {rulesText(user)}
      </textarea>
      <button type="submit" class="secondary small">
        Save rules
      </button>
    </form>
  );
}

export function UsersPage({ viewer, users, self, done, error, form = {} }: UsersProps) {
  return (
    <Layout title="Users" viewer={viewer} section="users">
      <h1>Users</h1>
      <p>
        Rules give a user actions on repositories matching a pattern; the longest matching pattern decides. Admins may
        do everything.
      </p>
      {done && <Notice kind="ok">{done}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      <Table caption="Users" head={['Account', 'Admin', 'Rules (one pattern=actions per line)', 'Delete']}>
        {users.map((user) => (
          <tr data-name={user.account}>
            <td>{user.account}</td>
            <td>{user.admin ? 'yes' : 'no'}</td>
            <td>{user.admin ? <span class="muted">everything</span> : <RulesForm viewer={viewer} user={user} />}</td>
            <td>
              {user.account === self ? (
                <span class="muted">you</span>
              ) : (
                <ActionButton
                  action={urls.deleteUser()}
                  csrf={viewer.csrf}
                  fields={{ account: user.account }}
                  label="Delete"
                  name={`Delete user ${user.account}`}
                  confirm={`Delete user ${user.account} and revoke its robot tokens?`}
                />
              )}
            </td>
          </tr>
        ))}
      </Table>
      <h2>Add a user</h2>
      <form method="post" action={urls.users()} class="stack">
        <Csrf token={viewer.csrf} />
        <label>
          Account
          <input type="text" name="account" required autocomplete="off" value={form.account ?? ''} />
        </label>
        <label>
          Password (at least 8 characters)
          <input type="password" name="password" required minlength={8} autocomplete="new-password" />
        </label>
        <label class="check">
          <input type="checkbox" name="admin" value="true" /> Administrator
        </label>
        <label>
          Rules, one per line
          <textarea name="rules" placeholder="team/**=pull,push">
            {form.rules ?? ''}
          </textarea>
        </label>
        <div>
          <button type="submit">Add user</button>
        </div>
      </form>
    </Layout>
  );
}
