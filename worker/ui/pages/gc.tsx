/** Garbage collection (admins): a dry run or a real run, and the report (registry/gc.ts). */
import type { GcReport } from '../../registry/gc.ts';
import { Layout } from '../layout.tsx';
import { Bytes, Csrf, Notice } from '../parts.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export interface GcProps {
  viewer: Viewer;
  report?: GcReport;
  graceSeconds: number;
}

function RunForm({ viewer }: { viewer: Viewer }) {
  return (
    <form method="post" action={urls.gc()} class="stack">
      <Csrf token={viewer.csrf} />
      <label class="check">
        <input type="checkbox" name="untaggedManifests" value="true" /> Also delete manifests that no tag or index keeps
      </label>
      <div class="actions">
        <button type="submit" name="dryRun" value="true" class="secondary">
          Dry run (report only)
        </button>
        <button type="submit" name="dryRun" value="false" class="danger" data-confirm="Collect garbage now? What it deletes cannot be brought back.">
          Collect garbage
        </button>
      </div>
    </form>
  );
}

function Report({ report }: { report: GcReport }) {
  const verb = report.dryRun ? 'Would delete' : 'Deleted';
  return (
    <>
      <h2>{report.dryRun ? 'Dry run report' : 'Report'}</h2>
      {!report.complete && <Notice kind="warn">The run stopped early; run it again to finish.</Notice>}
      <dl class="facts">
        <dt>Layer links</dt>
        <dd>
          {verb} {report.links.unlinked} (<Bytes value={report.links.bytes} />)
        </dd>
        <dt>Blob records</dt>
        <dd>
          {verb} {report.records.deleted}
        </dd>
        <dt>Data objects</dt>
        <dd>
          {verb} {report.dataObjects.deleted} (<Bytes value={report.dataObjects.bytes} />)
        </dd>
        <dt>Manifests</dt>
        <dd>
          {verb} {report.manifestsDeleted}
        </dd>
      </dl>
      {report.unparsableManifests.length > 0 && (
        <Notice kind="warn">
          {report.unparsableManifests.length} manifest(s) do not parse; their repositories kept all their layers.
        </Notice>
      )}
      <h3>Full report</h3>
      <pre tabindex={0} aria-label="Full garbage collection report">
        {JSON.stringify(report, null, 2)}
      </pre>
    </>
  );
}

export function GcPage({ viewer, report, graceSeconds }: GcProps) {
  return (
    <Layout title="Garbage collection" viewer={viewer} section="gc">
      <h1>Garbage collection</h1>
      <p>
        Deleting a tag or manifest frees no storage by itself: garbage collection removes the layers and data nothing
        references any more. It runs online, while pushes and pulls go on, and spares anything younger than{' '}
        {graceSeconds} seconds.
      </p>
      <RunForm viewer={viewer} />
      {report && <Report report={report} />}
    </Layout>
  );
}
