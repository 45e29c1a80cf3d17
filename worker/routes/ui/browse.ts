/**
 * Browsing: the repositories the viewer may pull, a repository's tags, an image.
 *
 *   GET /ui/[?q=&last=]                        repositories (filter, pages)
 *   GET /ui/r/<name>[?last=]                   a repository's tags
 *   GET /ui/r/<name>:<tag>, /ui/r/<name>@<digest>[?platform=<digest>]   an image or index
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { parseImageRef } from '../../oci/image-ref.ts';
import type { Reference } from '../../oci/reference.ts';
import type { ImageDetails, PlatformEntry } from '../../registry/images.ts';
import { CatalogPage } from '../../ui/pages/catalog.tsx';
import { ImagePage } from '../../ui/pages/image.tsx';
import { RepositoryPage } from '../../ui/pages/repository.tsx';
import { urls } from '../../ui/urls.ts';
import { requireAccess } from './guards.ts';
import { render, type UiRequest } from './session.ts';

const PAGE_SIZE = 50;

/** `GET /` and `GET /ui`: the UI lives under /ui/. */
export function toUi(c: Context<AppEnv>): Response {
  return c.redirect(urls.home(), 302);
}

/** Any other /ui/ address: a page saying so, not the registry's JSON 404. */
export async function uiNotFound(): Promise<Response> {
  throw new RegistryError('NOT_FOUND', 'There is no such page.');
}
const REPOSITORY_PREFIX = '/ui/r/';

export async function home(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { viewer } = ui;
  // Without public repositories an anonymous visitor can see nothing: straight to the sign-in form.
  if (viewer.kind === 'anonymous' && (ui.deps.auth?.settings.publicRepos.length ?? 0) === 0) return c.redirect(urls.signIn(), 303);
  const filter = (c.req.query('q') ?? '').trim().toLowerCase().slice(0, 255);
  const last = c.req.query('last') || undefined;
  const result = await c.get('registry').listings.repositoriesWhere(
    { n: PAGE_SIZE, last },
    (name) => (filter === '' || name.includes(filter)) && viewer.may(name, 'pull'),
  );
  return render(c, CatalogPage({ viewer, names: result.names, filter, next: result.more ? result.next : undefined, paged: last !== undefined }));
}

export async function repositoryOrImage(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { name, reference } = parseImageRef(c.req.path.slice(REPOSITORY_PREFIX.length));
  requireAccess(ui, name, 'pull');
  return reference ? image(c, ui, name, reference) : repository(c, ui, name);
}

async function repository(c: Context<AppEnv>, ui: UiRequest, name: string): Promise<Response> {
  const last = c.req.query('last') || undefined;
  const { rows, more } = await c.get('registry').images.tagViews(name, { n: PAGE_SIZE, last });
  const next = more ? rows.at(-1)?.entry.tag : undefined;
  const deleted = c.req.query('deleted');
  return render(c, RepositoryPage({ viewer: ui.viewer, name, rows, next, paged: last !== undefined, deleted }));
}

async function image(c: Context<AppEnv>, ui: UiRequest, name: string, reference: Reference): Promise<Response> {
  const images = c.get('registry').images;
  const details = await images.details(name, reference);
  let selected: { entry: PlatformEntry; details: ImageDetails | null } | undefined;
  const entry = details.summary.kind === 'index' ? pickPlatform(details.summary.platforms, c.req.query('platform')) : undefined;
  if (entry) {
    const child = await images.details(name, { kind: 'digest', digest: entry.descriptor.digest }).catch((error: unknown) => {
      if (error instanceof RegistryError) return null;
      throw error;
    });
    selected = { entry, details: child };
  }
  return render(c, ImagePage({ viewer: ui.viewer, name, reference, details, selected }));
}

/** The platform asked for, else the first that is not an attestation. */
function pickPlatform(platforms: PlatformEntry[], wanted: string | undefined): PlatformEntry | undefined {
  return platforms.find((p) => p.descriptor.digest === wanted) ?? platforms.find((p) => !p.attestation) ?? platforms[0];
}
