/**
 * Garbage collection from the web UI (admins), the same run as `POST /admin/gc`.
 *
 *   GET /ui/gc      POST /ui/gc {dryRun, untaggedManifests?}
 */
import type { Context } from 'hono';
import type { AppEnv } from '../../types.ts';
import { GcPage } from '../../ui/pages/gc.tsx';
import { requireAdmin } from './guards.ts';
import { render, type UiRequest } from './session.ts';

export async function gcPage(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  requireAdmin(ui);
  return render(c, GcPage({ viewer: ui.viewer, graceSeconds: c.get('config').gcGraceSeconds }));
}

export async function runGcForm(c: Context<AppEnv>, ui: UiRequest): Promise<Response> {
  requireAdmin(ui);
  const report = await c.get('registry').collectGarbage({
    dryRun: ui.form.dryRun !== 'false',
    untaggedManifests: ui.form.untaggedManifests === 'true',
    keepUnreferencedLayers: false,
    graceSeconds: c.get('config').gcGraceSeconds,
  });
  return render(c, GcPage({ viewer: ui.viewer, graceSeconds: c.get('config').gcGraceSeconds, report }));
}
