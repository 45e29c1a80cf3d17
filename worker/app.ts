/**
 * createRegistry: the one Hono app every runtime serves (principle 1). Runtime entries build the
 * config, the store and the authorizer and hand them here; no route knows where it runs.
 *
 * Every URL the app answers is mounted in this file:
 * - `/v2/…`: matched by the pure endpoint table (`oci/routes.ts`); `handlerFor` below maps each
 *   endpoint and method to its handler and `accessFor` to the access it needs.
 * - `/token` and `/admin/…` (token auth only): `mountAccountRoutes` below.
 * - `/` and `/ui/…`: the web UI, `mountWebUi` below.
 */
import { Hono, type Context } from 'hono';
import type { AppEnv } from './types.ts';
import { plainPlatform, type Platform } from './platform.ts';
import type { RegistryConfig } from './config.ts';
import type { ObjectStore } from './storage/types.ts';
import type { AccessRequest, Action, Authorizer, Principal } from './auth/types.ts';
import { RegistryError, renderError } from './oci/errors.ts';
import { assertName, isValidName } from './oci/reference.ts';
import { tryParseDigest } from './oci/digest.ts';
import { hasDotSegment } from './http/dot-segments.ts';
import { ROUTE_METHODS, matchV2Route, nearMiss, type V2Route } from './oci/routes.ts';
import { Registry } from './registry/registry.ts';
import { apiVersionCheck } from './routes/base.ts';
import { deleteBlob, getBlob } from './routes/blobs.ts';
import { cancelUpload, finishUpload, patchUpload, startUpload, uploadStatus } from './routes/uploads.ts';
import { deleteManifest, getManifest, putManifest } from './routes/manifests.ts';
import { tagsList } from './routes/tags.ts';
import { CATALOG_SCOPE, catalog } from './routes/catalog.ts';
import { referrers } from './routes/referrers.ts';
import { getToken, postToken } from './routes/token.ts';
import { createUser, deleteUser, listUsers, setAdmin, setPassword, setRules, showUser, whoami } from './routes/admin/users.ts';
import { createToken, listTokens, revokeToken } from './routes/admin/tokens.ts';
import { runGc } from './routes/admin/gc.ts';
import { adminRequests } from './routes/admin/guards.ts';
import { promote } from './routes/admin/promotion.ts';
import { runRetention } from './routes/admin/retention.ts';
import { addWebhook, listWebhooks, removeWebhook, testWebhook, webhookLog } from './routes/admin/webhooks.ts';
import { deletePolicy, listPolicies, policyFor, setPolicy } from './routes/admin/policies.ts';
import { TokenAuthorizer } from './auth/token-authorizer.ts';
import {
  cancelDirectUpload, directUploadParts, directUploadStatus, finishDirectUpload, startDirectUpload,
} from './routes/direct-uploads.ts';
import { healthz, readyz } from './routes/health.ts';
import { mountMetrics } from './routes/metrics.ts';
import { HTTPException } from 'hono/http-exception';
import { createLogger, errorFields, type Logger } from './observe/logger.ts';
import { noMetrics, type Metrics } from './observe/metrics.ts';
import { observeRequests } from './observe/observe-requests.ts';
import { BrowserSessions } from './auth/browser-sessions.ts';
import { uiRoutes } from './routes/ui/session.ts';
import { uiAsset } from './routes/ui/assets.ts';
import { home, repositoryOrImage, toUi, uiNotFound } from './routes/ui/browse.ts';
import { renewSession, showSignIn, signIn, signOut } from './routes/ui/sign-in.ts';
import { confirmDelete, deleteImage } from './routes/ui/delete.ts';
import { createTokenForm, listTokensPage, revokeTokenForm } from './routes/ui/tokens.ts';
import { createUserForm, deleteUserForm, listUsersPage, setRulesForm } from './routes/ui/users.ts';
import { gcPage, runGcForm } from './routes/ui/gc.ts';

export interface RegistryOptions {
  config: RegistryConfig;
  store: ObjectStore;
  authorizer: Authorizer;
  /** The runtime's facts (peer address, background work); each entry passes its own. */
  platform?: Platform;
  /** Where operational lines go (observe/logger.ts); never receives secrets. */
  logger?: Logger;
  /** Log one line per request (observe/observe-requests.ts lists the fields). */
  accessLog?: boolean;
  /** What the runtime measures into (observe/metrics.ts); nothing by default. */
  metrics?: Metrics;
  /** BERTH_METRICS_TOKEN: `GET /metrics` exists only with it (and a metrics that can scrape). */
  metricsToken?: string;
  /** True once the instance is shutting down: `/readyz` answers 503. */
  draining?: () => boolean;
  /** Node: webhook retries wait in the process (registry/webhooks/dispatcher.ts). */
  webhookTimers?: boolean;
}

type Handler = (c: Context<AppEnv>) => Promise<Response> | Response;

export function createRegistry(options: RegistryOptions): Hono<AppEnv> {
  const logger = options.logger ?? createLogger({ level: 'info' });
  const registry = new Registry(options.store, options.config, { mirror: { logger }, logger, webhookTimers: options.webhookTimers });
  const metrics = options.metrics ?? noMetrics;
  const platform = options.platform ?? plainPlatform;
  const app = new Hono<AppEnv>();

  app.use('*', ...observeRequests({ logger, metrics, platform, accessLog: options.accessLog ?? false, trustProxy: options.config.trustProxy }));
  app.use('*', async (c, next) => {
    c.set('registry', registry);
    c.set('config', options.config);
    c.set('authorizer', options.authorizer);
    c.set('metrics', metrics);
    c.set('peerAddress', platform.clientAddress(c));
    c.set('background', (task) => platform.waitUntil(c, task));
    await next();
    c.res.headers.set('Docker-Distribution-API-Version', 'registry/2.0');
  });
  app.use('*', async (c, next) => {
    const target = platform.requestTarget(c);
    if (target !== undefined && hasDotSegment(target)) throw dotSegmentRefusal(c.req.path);
    await next();
  });

  app.get('/healthz', () => healthz());
  app.get('/readyz', (c) => readyz(c, options.draining ?? (() => false)));
  mountMetrics(app, metrics, options.metricsToken);
  if (options.authorizer instanceof TokenAuthorizer) mountAccountRoutes(app, options.authorizer);
  mountWebUi(app, options.authorizer, logger);

  app.all('/v2', (c) => dispatch(c, options.authorizer));
  app.all('/v2/*', (c) => dispatch(c, options.authorizer));

  app.notFound((c) => renderError(new RegistryError('NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`), c.req.method));
  app.onError((error, c) => {
    if (error instanceof RegistryError) return renderError(error, c.req.method);
    if (error instanceof HTTPException) return error.getResponse();
    // The client hung up mid-request (an upload cut off, a body timeout): no server fault to
    // log, and nobody receives this answer. An upload cut off this way publishes nothing.
    if (c.req.raw.signal.aborted) return renderError(new RegistryError('BLOB_UPLOAD_INVALID', 'the client closed the connection'), c.req.method);
    logger.error('unhandled error', { id: c.get('requestId'), method: c.req.method, path: c.req.path, error: errorFields(error) });
    return renderError(new RegistryError('INTERNAL_ERROR'), c.req.method);
  });
  return app;
}

/** A path with `.` or `..` segments (http/dot-segments.ts) acts on nothing. */
function dotSegmentRefusal(normalizedPath: string): RegistryError {
  const message = 'the path has "." or ".." segments; send the path without them';
  return normalizedPath === '/v2' || normalizedPath.startsWith('/v2/')
    ? new RegistryError('NAME_INVALID', message)
    : new RegistryError('INVALID_REQUEST', message);
}

/** The token endpoint and the admin API (README "Authentication"), which exist with token auth. */
function mountAccountRoutes(app: Hono<AppEnv>, auth: TokenAuthorizer): void {
  type AccountHandler = (c: Context<AppEnv>, auth: TokenAuthorizer) => Promise<Response>;
  const to = (handler: AccountHandler) => (c: Context<AppEnv>) => handler(c, auth);
  app.get('/token', to(getToken));
  app.post('/token', to(postToken));
  app.use('/admin/*', adminRequests(auth));
  app.get('/admin/whoami', to(whoami));
  app.get('/admin/users', to(listUsers));
  app.post('/admin/users', to(createUser));
  app.get('/admin/users/:account', to(showUser));
  app.delete('/admin/users/:account', to(deleteUser));
  app.put('/admin/users/:account/password', to(setPassword));
  app.put('/admin/users/:account/rules', to(setRules));
  app.put('/admin/users/:account/admin', to(setAdmin));
  app.get('/admin/tokens', to(listTokens));
  app.post('/admin/tokens', to(createToken));
  app.delete('/admin/tokens/:id', to(revokeToken));
  app.post('/admin/gc', to(runGc));
  app.post('/admin/tags', to(promote));
  app.get('/admin/policies', to(listPolicies));
  app.get('/admin/policies/for', to(policyFor));
  app.put('/admin/policies', to(setPolicy));
  app.delete('/admin/policies', to(deletePolicy));
  app.post('/admin/retention', to(runRetention));
  app.get('/admin/webhooks', to(listWebhooks));
  app.post('/admin/webhooks', to(addWebhook));
  app.delete('/admin/webhooks/:id', to(removeWebhook));
  app.post('/admin/webhooks/:id/test', to(testWebhook));
  app.get('/admin/webhooks/:id/deliveries', to(webhookLog));
}

/**
 * ── Web UI ── (README "Web UI"): server-rendered pages under /ui/, handlers in routes/ui/,
 * views in ui/. `page` resolves the viewer's session; `action` also checks the body cap, the
 * origin and the form token before a handler changes anything (routes/ui/session.ts).
 */
function mountWebUi(app: Hono<AppEnv>, authorizer: Authorizer, logger: Logger): void {
  const auth = authorizer instanceof TokenAuthorizer ? authorizer : null;
  const { page, action } = uiRoutes({ auth, sessions: auth ? new BrowserSessions(auth) : null, logger });
  app.get('/', toUi);
  app.get('/ui', toUi);
  app.get('/ui/assets/:file', uiAsset);
  app.get('/ui/', page(home));
  app.get('/ui/sign-in', page(showSignIn));
  app.post('/ui/sign-in', action(signIn));
  app.post('/ui/sign-out', action(signOut));
  app.get('/ui/session', page(renewSession));
  app.get('/ui/r/*', page(repositoryOrImage));
  app.get('/ui/delete', page(confirmDelete));
  app.post('/ui/delete', action(deleteImage));
  app.get('/ui/tokens', page(listTokensPage));
  app.post('/ui/tokens', action(createTokenForm));
  app.post('/ui/tokens/revoke', action(revokeTokenForm));
  app.get('/ui/users', page(listUsersPage));
  app.post('/ui/users', action(createUserForm));
  app.post('/ui/users/rules', action(setRulesForm));
  app.post('/ui/users/delete', action(deleteUserForm));
  app.get('/ui/gc', page(gcPage));
  app.post('/ui/gc', action(runGcForm));
  app.all('/ui/*', page(uiNotFound));
}

async function dispatch(c: Context<AppEnv>, authorizer: Authorizer): Promise<Response> {
  const pathname = new URL(c.req.url).pathname;
  let route = matchV2Route(pathname);
  if (!route) {
    const miss = nearMiss(pathname, c.req.method);
    throw miss ? new RegistryError(miss.code, miss.message) : new RegistryError('NOT_FOUND', 'no such registry endpoint');
  }
  const method = c.req.method;
  const allowed = ROUTE_METHODS[route.kind];
  if (!allowed.includes(method)) {
    throw new RegistryError('UNSUPPORTED', `${method} is not supported here`, undefined, {
      status: 405,
      headers: { Allow: allowed.join(', ') },
    });
  }
  if ('name' in route) {
    assertName(route.name);
    if (isUploadRoute(route) || (route.kind === 'manifest' && method === 'PUT')) c.get('registry').mirror.refusePush(route.name);
  }
  route = await throughDefaultMirror(c.get('registry'), route, method);
  const needed = accessFor(route, method);
  const source = route.kind === 'uploads' ? mountSource(new URL(c.req.url).searchParams, route.name) : null;
  const peer = c.get('peerAddress');
  if (route.kind === 'catalog') c.set('principal', await authorizeCatalog(c.req.raw, authorizer, needed, peer));
  else c.set('principal', source ? await authorizeMount(c.req.raw, authorizer, needed, source, peer) : await authorizer.authorize(c.req.raw, needed, peer));
  return handlerFor(route, method)(c);
}

/** The repository a cross-repository mount (`?mount=<digest>&from=<name>`) reads from, if well-formed. */
function mountSource(params: URLSearchParams, target: string): AccessRequest | null {
  const from = params.get('from');
  const mount = params.get('mount');
  if (from === null || mount === null || from === target || !isValidName(from) || !tryParseDigest(mount)) return null;
  return { type: 'repository', name: from, actions: ['pull'] };
}

/**
 * A mount needs pull on its source as well (Docker token spec; docker asks for both scopes).
 * A token that lacks it but could carry it gets the usual 401 challenge naming both scopes, so
 * the client fetches a better token; an account that may never pull the source gets a normal
 * upload instead of a refusal.
 */
async function authorizeMount(
  req: Request, authorizer: Authorizer, needed: AccessRequest[], source: AccessRequest, peer: string | undefined,
): Promise<Principal> {
  try {
    return await authorizer.authorize(req, [...needed, source], peer);
  } catch (error) {
    if (error instanceof RegistryError && error.code === 'DENIED') return authorizer.authorize(req, needed, peer);
    throw error;
  }
}

/**
 * BERTH_MIRROR_DEFAULT (dockerd's `registry-mirrors`): the pull of an unprefixed name Berth holds
 * no repository of is the pull of its mirror name (`library/alpine` → `hub/library/alpine`),
 * authorized and served as that. Blob HEADs stay Berth's own: docker asks them while pushing a
 * new repository, and an upstream must not make it skip uploading a layer.
 */
async function throughDefaultMirror(registry: Registry, route: V2Route, method: string): Promise<V2Route> {
  const pull = (route.kind === 'manifest' && (method === 'GET' || method === 'HEAD')) || (route.kind === 'blob' && method === 'GET');
  if (!pull) return route;
  const alias = await registry.mirror.defaultAlias(route.name);
  return alias ? { ...route, name: alias } : route;
}

/**
 * The catalog lists every repository to those with `registry:catalog:*` (admins). An account
 * that sent its password or robot secret on the request and may not list everything gets the
 * repositories it may pull instead (catalog.ts filters them), rather than a refusal. A Bearer
 * token keeps the token spec's behaviour: its scopes decide, and without the catalog scope the
 * usual challenge or denial follows.
 */
async function authorizeCatalog(req: Request, authorizer: Authorizer, needed: AccessRequest[], peer: string | undefined): Promise<Principal> {
  try {
    return await authorizer.authorize(req, needed, peer);
  } catch (error) {
    if (!(error instanceof RegistryError) || error.code !== 'DENIED') throw error;
    const principal = await authorizer.authorize(req, [], peer);
    if (!principal.policy) throw error;
    return principal;
  }
}

/** The scope each operation needs, in the Docker token spec's terms. */
function accessFor(route: V2Route, method: string): AccessRequest[] {
  if (route.kind === 'base') return [];
  if (route.kind === 'catalog') return [CATALOG_SCOPE];
  let actions: Action[] = ['pull'];
  if (method === 'DELETE' && (route.kind === 'manifest' || route.kind === 'blob')) actions = ['delete'];
  else if (isUploadRoute(route) || (route.kind === 'manifest' && method === 'PUT')) {
    actions = ['pull', 'push'];
  }
  return [{ type: 'repository', name: route.name, actions }];
}

/** Blob uploads, standard and direct (Berth's extension), all need push. */
function isUploadRoute(route: V2Route): boolean {
  return ['uploads', 'upload', 'directUploads', 'directUpload', 'directUploadParts'].includes(route.kind);
}

function handlerFor(route: V2Route, method: string): Handler {
  switch (route.kind) {
    case 'base': return () => apiVersionCheck();
    case 'catalog': return (c) => catalog(c);
    case 'tags': return (c) => tagsList(c, route.name);
    case 'referrers': return (c) => referrers(c, route.name, route.digest);
    case 'blob':
      return method === 'DELETE' ? (c) => deleteBlob(c, route.name, route.digest) : (c) => getBlob(c, route.name, route.digest);
    case 'manifest':
      if (method === 'PUT') return (c) => putManifest(c, route.name, route.reference);
      if (method === 'DELETE') return (c) => deleteManifest(c, route.name, route.reference);
      return (c) => getManifest(c, route.name, route.reference);
    case 'uploads': return (c) => startUpload(c, route.name);
    case 'upload':
      if (method === 'PATCH') return (c) => patchUpload(c, route.name, route.uploadId);
      if (method === 'PUT') return (c) => finishUpload(c, route.name, route.uploadId);
      if (method === 'DELETE') return (c) => cancelUpload(c, route.name, route.uploadId);
      return (c) => uploadStatus(c, route.name, route.uploadId);
    case 'directUploads': return (c) => startDirectUpload(c, route.name);
    case 'directUploadParts': return (c) => directUploadParts(c, route.name, route.uploadId);
    case 'directUpload':
      if (method === 'PUT') return (c) => finishDirectUpload(c, route.name, route.uploadId);
      if (method === 'DELETE') return (c) => cancelDirectUpload(c, route.name, route.uploadId);
      return (c) => directUploadStatus(c, route.name, route.uploadId);
  }
}

