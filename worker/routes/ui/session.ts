/**
 * What every UI request goes through (worker/app.ts wraps each UI route in `page` or `action`):
 * - the viewer, from the session cookie (auth/browser-sessions.ts), renewed when half spent;
 *   anonymous viewers get a pre-session form token in a cookie of its own;
 * - for state-changing requests (`action`): the origin check, the form read through the one
 *   byte-capped reader (http/capped-body.ts) and the form token (ui/csrf.ts), before the handler runs;
 * - security headers: a strict Content-Security-Policy (only Berth's own script and
 *   stylesheet, nothing inline), no framing, no sniffing, no caching of pages;
 * - errors as pages: a RegistryError becomes its status with a readable message, anything else
 *   a logged 500. An anonymous viewer who needs to sign in is sent to the sign-in page.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { JSXNode } from 'hono/jsx';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { readCappedText } from '../../http/capped-body.ts';
import type { BrowserSessions } from '../../auth/browser-sessions.ts';
import { randomBytes, toBase64Url } from '../../auth/bytes.ts';
import { baseUrl } from '../../auth/challenge.ts';
import { isAdmin, type Identity } from '../../auth/policy.ts';
import type { TokenAuthorizer } from '../../auth/token-authorizer.ts';
import type { UserRecord } from '../../auth/users.ts';
import { originAllowed, sameToken } from '../../ui/csrf.ts';
import { ErrorPage } from '../../ui/pages/error.tsx';
import { urls } from '../../ui/urls.ts';
import { errorFields, type Logger } from '../../observe/logger.ts';
import type { RepositoryAction, Viewer } from '../../ui/viewer.ts';

/** UI forms are a few KiB (the largest: a user's rules). */
export const MAX_FORM_BYTES = 64 * 1024;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface UiDeps {
  /** null when authentication is off (BERTH_AUTH=none). */
  auth: TokenAuthorizer | null;
  sessions: BrowserSessions | null;
  logger: Logger;
}

export interface UiRequest {
  viewer: Viewer;
  /** The signed-in user, when signed in with a password (robots manage no accounts). */
  user: UserRecord | null;
  deps: UiDeps;
  /** The form of an `action` (checked); empty for a `page`. */
  form: Record<string, string>;
  /** The origin the browser reaches Berth at. */
  origin: string;
  /** Session cookie handling for sign-in and sign-out. */
  cookies: SessionCookies;
  /** A session cookie came with the request but no longer stands for a session. */
  sessionEnded: boolean;
}

export type UiHandler = (c: Context<AppEnv>, ui: UiRequest) => Promise<Response>;

export interface SessionCookies {
  setSession(token: string, maxAge: number): void;
  clearSession(): void;
}

/** `__Host-` cookies are bound to this exact origin (RFC 6265bis §4.1.3.2); browsers allow them only over HTTPS. */
function cookieNames(secure: boolean): { session: string; preSession: string } {
  return secure ? { session: '__Host-berth_session', preSession: '__Host-berth_csrf' } : { session: 'berth_session', preSession: 'berth_csrf' };
}

function requestOrigin(c: Context<AppEnv>, deps: UiDeps): string {
  return deps.auth ? new URL(baseUrl(c.req.raw, deps.auth.settings)).origin : new URL(c.req.url).origin;
}

export function uiRoutes(deps: UiDeps): { page: (h: UiHandler) => (c: Context<AppEnv>) => Promise<Response>; action: (h: UiHandler) => (c: Context<AppEnv>) => Promise<Response> } {
  return {
    page: (handler) => (c) => run(c, deps, handler, false),
    action: (handler) => (c) => run(c, deps, handler, true),
  };
}

async function run(c: Context<AppEnv>, deps: UiDeps, handler: UiHandler, changesState: boolean): Promise<Response> {
  let response: Response;
  let ui: UiRequest | undefined;
  try {
    ui = await resolve(c, deps);
    if (changesState) {
      const refused = await checkAction(c, ui);
      response = refused ?? (await handler(c, ui));
    } else {
      response = await handler(c, ui);
    }
  } catch (error) {
    response = await errorResponse(c, ui, deps, error);
  }
  return withSecurityHeaders(response);
}

async function resolve(c: Context<AppEnv>, deps: UiDeps): Promise<UiRequest> {
  const origin = requestOrigin(c, deps);
  const secure = origin.startsWith('https:');
  const names = cookieNames(secure);
  const options = { httpOnly: true, secure, sameSite: 'Strict', path: '/' } as const;
  const cookies: SessionCookies = {
    setSession: (token, maxAge) => setCookie(c, names.session, token, { ...options, maxAge }),
    clearSession: () => void deleteCookie(c, names.session, options),
  };
  const registryHost = new URL(origin).host;
  const preSessionToken = (): string => {
    const existing = getCookie(c, names.preSession);
    if (existing && /^[A-Za-z0-9_-]{32}$/.test(existing)) return existing;
    const minted = toBase64Url(randomBytes(24));
    setCookie(c, names.preSession, minted, options);
    return minted;
  };
  const base = { deps, origin, cookies, form: {}, user: null, sessionEnded: false };

  if (!deps.auth || !deps.sessions) {
    const viewer: Viewer = { kind: 'open', label: '', admin: false, csrf: preSessionToken(), may: () => true, registryHost };
    return { ...base, viewer };
  }
  const auth = deps.auth;
  const token = getCookie(c, names.session);
  const session = token ? await deps.sessions.resume(c.req.raw, token) : null;
  if (!session) {
    if (token) cookies.clearSession();
    const viewer: Viewer = { kind: 'anonymous', label: '', admin: false, csrf: preSessionToken(), may: mayFor(auth, null), registryHost };
    return { ...base, viewer, sessionEnded: token !== undefined };
  }
  if (session.renewed) cookies.setSession(session.renewed.token, session.renewed.maxAge);
  const identity = session.identity;
  const viewer: Viewer = {
    kind: identity.kind,
    label: identity.kind === 'user' ? identity.user.account : `${identity.owner.account} (token ${identity.token.name})`,
    admin: isAdmin(identity),
    csrf: session.csrf,
    may: mayFor(auth, identity),
    registryHost,
  };
  return { ...base, viewer, user: identity.kind === 'user' ? identity.user : null };
}

function mayFor(auth: TokenAuthorizer, identity: Identity | null): (repo: string, action: RepositoryAction) => boolean {
  const known = new Map<string, readonly string[]>();
  return (repo, action) => {
    let allowed = known.get(repo);
    if (!allowed) {
      allowed = auth.policy.allowedActions(identity, { type: 'repository', name: repo });
      known.set(repo, allowed);
    }
    return allowed.includes(action);
  };
}

/** The checks before a state-changing handler runs; a Response when the request is refused. */
async function checkAction(c: Context<AppEnv>, ui: UiRequest): Promise<Response | undefined> {
  if (!originAllowed(c.req.raw.headers, ui.origin)) {
    throw new RegistryError('DENIED', 'This form was sent from another site, so it was refused.');
  }
  if (!/^application\/x-www-form-urlencoded\b/i.test(c.req.header('content-type') ?? '')) {
    throw new RegistryError('INVALID_REQUEST', 'Expected a form.');
  }
  const text = await readCappedText(c.req.raw, {
    limit: MAX_FORM_BYTES,
    tooLarge: (limit) => new RegistryError('PAYLOAD_TOO_LARGE', `Forms are limited to ${limit} bytes.`),
  });
  const form: Record<string, string> = {};
  // The first value of a repeated field counts, as URLSearchParams.get has it.
  for (const [key, value] of new URLSearchParams(text)) if (!Object.hasOwn(form, key)) form[key] = value;
  if (!sameToken(form.csrf, ui.viewer.csrf)) {
    if (ui.sessionEnded) return c.redirect(urls.signIn(), 303);
    throw new RegistryError('DENIED', 'This form has expired or did not come from this page. Reload the page and try again.');
  }
  ui.form = form;
  return undefined;
}

function errorResponse(c: Context<AppEnv>, ui: UiRequest | undefined, deps: UiDeps, error: unknown): Promise<Response> | Response {
  if (!(error instanceof RegistryError)) {
    deps.logger.error('unhandled error', { id: c.get('requestId'), ui: true, method: c.req.method, path: c.req.path, error: errorFields(error) });
  }
  const viewer: Viewer = ui?.viewer ?? { kind: 'anonymous', label: '', admin: false, csrf: '', may: () => false, registryHost: new URL(c.req.url).host };
  if (error instanceof RegistryError && error.code === 'UNAUTHORIZED' && viewer.kind === 'anonymous') {
    const next = c.req.method === 'GET' ? new URL(c.req.url).pathname + new URL(c.req.url).search : undefined;
    return c.redirect(urls.signIn(next), 303);
  }
  const status = error instanceof RegistryError ? error.status : 500;
  const message = error instanceof RegistryError ? error.message : 'Berth could not answer this request. The error was logged.';
  if (error instanceof RegistryError && error.headers['Retry-After']) c.header('Retry-After', error.headers['Retry-After']);
  return render(c, ErrorPage({ viewer, status, message }), status);
}

/** A whole HTML document (with its doctype: standards mode) from a page element. */
export async function render(c: Context<AppEnv>, page: JSXNode | HtmlEscapedString | Promise<HtmlEscapedString>, status = 200): Promise<Response> {
  return c.html(`<!DOCTYPE html>${await page}`, status as ContentfulStatusCode);
}

function withSecurityHeaders(response: Response): Response {
  const headers = response.headers;
  headers.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  headers.set('X-Content-Type-Options', 'nosniff');
  headers.set('X-Frame-Options', 'DENY');
  headers.set('Referrer-Policy', 'same-origin');
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cache-Control', 'no-store');
  return response;
}
