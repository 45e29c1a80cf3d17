/** Asks before deleting a tag or a manifest (works without the script). */
import { formatImageRef } from '../../oci/image-ref.ts';
import type { Reference } from '../../oci/reference.ts';
import { Layout } from '../layout.tsx';
import { Csrf } from '../parts.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export interface ConfirmDeleteProps {
  viewer: Viewer;
  name: string;
  reference: Reference;
}

export function ConfirmDeletePage({ viewer, name, reference }: ConfirmDeleteProps) {
  const ref = formatImageRef(name, reference);
  const what = reference.kind === 'tag' ? 'tag' : 'manifest';
  return (
    <Layout title={`Delete ${ref}`} viewer={viewer} section="repositories">
      <h1>
        Delete {what} <span class="mono">{ref}</span>?
      </h1>
      {reference.kind === 'tag' ? (
        <p>
          The tag goes away; the image it points at stays, under its digest and any other tags. Garbage collection frees
          its storage once no tag or manifest keeps it.
        </p>
      ) : (
        <p>
          The manifest goes away, with every tag that points at it, and pulls of it fail from now on. Garbage collection
          then frees the layers no other manifest uses.
        </p>
      )}
      <form method="post" action={urls.delete()} class="actions">
        <Csrf token={viewer.csrf} />
        <input type="hidden" name="ref" value={ref} />
        <button type="submit" class="danger">
          Delete {what}
        </button>
        <a href={urls.repository(name)}>Cancel</a>
      </form>
    </Layout>
  );
}
