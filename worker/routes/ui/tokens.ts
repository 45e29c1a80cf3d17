/**
 * Robot tokens in the web UI, through the same operations as the admin API (routes/admin/tokens.ts).
 *
 *   GET /ui/tokens        POST /ui/tokens {name, scopes, expires, owner?}     POST /ui/tokens/revoke {id}
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { EXPIRY_CHOICES, TokensPage } from '../../ui/pages/tokens.tsx';
import { urls } from '../../ui/urls.ts';
import { issueToken, tokensOf, withdrawToken } from '../admin/tokens.ts';
import { requireUser, ruleLines } from './guards.ts';
import { render, type UiRequest } from './session.ts';

export async function listTokensPage(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { user, auth } = requireUser(ui);
  return render(c, TokensPage({ viewer: ui.viewer, tokens: await tokensOf(auth, user), revoked: c.req.query('revoked') }));
}

export async function createTokenForm(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { user, auth } = requireUser(ui);
  const { name = '', scopes = '', expires = '90d', owner = '' } = ui.form;
  const choice = EXPIRY_CHOICES.find((e) => e.value === expires);
  try {
    if (!choice) throw new RegistryError('INVALID_REQUEST', 'Pick an expiry from the list.');
    const body: Record<string, unknown> = { name, scopes: ruleLines(scopes), expiresInSeconds: choice.seconds };
    if (owner.trim() !== '') body.owner = owner.trim();
    const created = await issueToken(auth, user, body);
    const tokens = await tokensOf(auth, user);
    // The secret is on this page only: never in a URL, never cached.
    return render(c, TokensPage({ viewer: ui.viewer, tokens, created }), 201);
  } catch (error) {
    if (!(error instanceof RegistryError) || error.status >= 500) throw error;
    const tokens = await tokensOf(auth, user);
    return render(c, TokensPage({ viewer: ui.viewer, tokens, error: error.message, form: { name, scopes, owner } }), error.status);
  }
}

export async function revokeTokenForm(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { user, auth } = requireUser(ui);
  const id = ui.form.id ?? '';
  await withdrawToken(auth, user, id);
  return c.redirect(urls.tokens({ revoked: id }), 303);
}
