/** Robot tokens: the viewer's own (an admin's: everyone's), create (secret shown once), revoke. */
import type { PublicRobotToken } from '../../auth/robot-tokens.ts';
import { Layout } from '../layout.tsx';
import { ActionButton, CopyLine, Csrf, Notice, Table, Time } from '../parts.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export const EXPIRY_CHOICES: { value: string; label: string; seconds: number }[] = [
  { value: '30d', label: '30 days', seconds: 30 * 86_400 },
  { value: '90d', label: '90 days', seconds: 90 * 86_400 },
  { value: '1y', label: '1 year', seconds: 365 * 86_400 },
  { value: 'never', label: 'never', seconds: 0 },
];

export interface TokensProps {
  viewer: Viewer;
  tokens: PublicRobotToken[];
  /** Just created: the only time its secret is shown. */
  created?: { token: PublicRobotToken; secret: string };
  revoked?: string;
  error?: string;
  /** What was typed, kept when creation failed. */
  form?: { name?: string; scopes?: string; owner?: string };
}

function scopesText(token: PublicRobotToken): string {
  return token.scopes.map((s) => `${s.pattern}=${s.actions.join(',')}`).join(' ');
}

export function TokensPage({ viewer, tokens, created, revoked, error, form = {} }: TokensProps) {
  return (
    <Layout title="Robot tokens" viewer={viewer} section="tokens">
      <h1>Robot tokens</h1>
      <p>
        A robot token is a password for machines (CI, deploy jobs): use it with any username in <code>docker login</code>.
        It may do what its scopes allow, and never more than its owner.
      </p>
      {created && (
        <Notice kind="ok">
          <p>
            Token <strong>{created.token.name}</strong> created. Copy its secret now: it is shown only this once.
          </p>
          <CopyLine id="secret" label="Token secret" value={created.secret} />
        </Notice>
      )}
      {revoked && <Notice kind="ok">Token {revoked} revoked.</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      <h2>Tokens</h2>
      {tokens.length === 0 ? (
        <p class="muted">No robot tokens yet.</p>
      ) : (
        <Table caption="Robot tokens" head={['Name', 'ID', 'Owner', 'Scopes', 'Created', 'Expires', 'Revoke']}>
          {tokens.map((t) => (
            <tr data-name={t.name}>
              <td>{t.name}</td>
              <td class="mono">{t.id}</td>
              <td>{t.owner}</td>
              <td class="mono">{scopesText(t)}</td>
              <td>
                <Time iso={t.createdAt} />
              </td>
              <td>{t.expiresAt ? <Time iso={t.expiresAt} /> : 'never'}</td>
              <td>
                <ActionButton
                  action={urls.revokeToken()}
                  csrf={viewer.csrf}
                  fields={{ id: t.id }}
                  label="Revoke"
                  name={`Revoke token ${t.name}`}
                  confirm={`Revoke token ${t.name}? Clients using it are refused at once.`}
                />
              </td>
            </tr>
          ))}
        </Table>
      )}
      <h2>Create a token</h2>
      <form method="post" action={urls.tokens()} class="stack">
        <Csrf token={viewer.csrf} />
        <label>
          Name
          <input type="text" name="name" required pattern="[\w.@\-]{1,64}" value={form.name ?? ''} aria-describedby="name-help" />
        </label>
        <span id="name-help" class="muted">
          1-64 letters, digits, <code>_ . @ -</code>
        </span>
        <label>
          Scopes, one per line
          <textarea name="scopes" required aria-describedby="scopes-help" placeholder="team/*=pull,push">
            {form.scopes ?? ''}
          </textarea>
        </label>
        <span id="scopes-help" class="muted">
          <code>pattern=actions</code>: <code>*</code> matches within a path segment, <code>**</code> across; actions
          are <code>pull</code>, <code>push</code>, <code>delete</code>.
        </span>
        <label>
          Expires after
          <select name="expires">
            {EXPIRY_CHOICES.map((c) => (
              <option value={c.value} selected={c.value === '90d'}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        {viewer.admin && (
          <label>
            Owner (empty: you)
            <input type="text" name="owner" value={form.owner ?? ''} />
          </label>
        )}
        <div>
          <button type="submit">Create token</button>
        </div>
      </form>
    </Layout>
  );
}
