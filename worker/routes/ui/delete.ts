/**
 * Deleting a tag or a manifest, for viewers with `delete` on the repository: a confirmation page,
 * then the same domain call as `DELETE /v2/<name>/manifests/<reference>` (end-9).
 *
 *   GET /ui/delete?ref=<name>:<tag>|<name>@<digest>      POST /ui/delete {ref}
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { RegistryError } from '../../oci/errors.ts';
import { formatImageRef, parseImageRef } from '../../oci/image-ref.ts';
import type { Reference } from '../../oci/reference.ts';
import { ConfirmDeletePage } from '../../ui/pages/confirm-delete.tsx';
import { urls } from '../../ui/urls.ts';
import { requireAccess } from './guards.ts';
import { render, type UiRequest } from './session.ts';

function target(ui: UiRequest, text: string | undefined): { name: string; reference: Reference } {
  const { name, reference } = parseImageRef(text ?? '');
  if (!reference) throw new RegistryError('INVALID_REQUEST', 'Name a tag (name:tag) or a manifest (name@digest) to delete.');
  requireAccess(ui, name, 'delete');
  return { name, reference };
}

export async function confirmDelete(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { name, reference } = target(ui, c.req.query('ref'));
  await c.get('registry').manifests.stat(name, reference); // a missing target is a 404 page, not a form
  return render(c, ConfirmDeletePage({ viewer: ui.viewer, name, reference }));
}

export async function deleteImage(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  const { name, reference } = target(ui, ui.form.ref);
  // Immutable tags (repository policies) may be deleted by admins only, as on the API.
  const isAdmin = async (): Promise<boolean> => ui.viewer.admin;
  await c.get('registry').manifests.delete(name, reference, isAdmin);
  return c.redirect(urls.repository(name, { deleted: formatImageRef(name, reference) }), 303);
}
