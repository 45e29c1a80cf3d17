/**
 * Signing in and out of the web UI, and keeping a session alive.
 *
 *   GET  /ui/sign-in[?next=]    the form        POST /ui/sign-in   {username, password, next}
 *   POST /ui/sign-out                           GET  /ui/session   204 (cookie renewed) or 401
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { SignInPage } from '../../ui/pages/sign-in.tsx';
import { safeNext, urls } from '../../ui/urls.ts';
import { render, type UiRequest } from './session.ts';

export async function showSignIn(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const next = safeNext(c.req.query('next'));
  if (ui.viewer.kind !== 'anonymous') return c.redirect(next, 303);
  const notice = ui.sessionEnded ? 'Your session ended. Sign in again.' : undefined;
  return render(c, SignInPage({ viewer: ui.viewer, next, notice }));
}

export async function signIn(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const sessions = ui.deps.sessions;
  if (!sessions) return c.redirect(urls.home(), 303);
  const next = safeNext(ui.form.next);
  const username = ui.form.username ?? '';
  const password = ui.form.password ?? '';
  if (username === '' || password === '') {
    return render(c, SignInPage({ viewer: ui.viewer, next, username, error: 'Enter a username and a password or robot token.' }), 400);
  }
  try {
    const session = await sessions.signIn(c.req.raw, c.get('peerAddress'), username, password);
    ui.cookies.setSession(session.token, session.maxAge);
  } catch (error) {
    if (!(error instanceof RegistryError) || (error.code !== 'UNAUTHORIZED' && error.code !== 'TOOMANYREQUESTS')) throw error;
    const retry = error.headers['Retry-After'];
    if (retry) c.header('Retry-After', retry);
    const message = retry ? `Too many failed sign-ins. Try again in ${retry} seconds.` : 'Wrong username, password or token.';
    return render(c, SignInPage({ viewer: ui.viewer, next, username, error: message }), error.status);
  }
  return c.redirect(next, 303);
}

export async function signOut(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  ui.cookies.clearSession();
  return c.redirect(urls.signIn(), 303);
}

/** Polled by the page script: answering renews the cookie (session.ts) when it is half spent. */
export async function renewSession(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  return c.body(null, ui.viewer.kind === 'user' || ui.viewer.kind === 'robot' ? 204 : 401);
}
