/** The repositories the viewer may pull, a page at a time, with a filter box. */
import { Layout } from '../layout.tsx';
import { Notice } from '../parts.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export interface CatalogProps {
  viewer: Viewer;
  names: string[];
  filter: string;
  /** `last` of the next page, when there is one. */
  next?: string;
  /** This is not the first page. */
  paged: boolean;
}

function Empty({ viewer, filter, paged }: Pick<CatalogProps, 'viewer' | 'filter' | 'paged'>) {
  if (filter) return <Notice kind="info">No repository you may pull matches “{filter}”.</Notice>;
  if (paged) return <Notice kind="info">No more repositories.</Notice>;
  if (viewer.kind === 'anonymous') {
    return (
      <Notice kind="info">
        No public repositories here. <a href={urls.signIn()}>Sign in</a> to see yours.
      </Notice>
    );
  }
  if (viewer.admin) {
    return (
      <Notice kind="info">
        This registry is empty. Push an image to see it here:
        <pre>{`docker login ${viewer.registryHost}\ndocker tag alpine ${viewer.registryHost}/team/alpine:latest\ndocker push ${viewer.registryHost}/team/alpine:latest`}</pre>
      </Notice>
    );
  }
  return (
    <Notice kind="info">
      Your account may not pull any repository here yet. An administrator can give it access rules.
    </Notice>
  );
}

export function CatalogPage({ viewer, names, filter, next, paged }: CatalogProps) {
  return (
    <Layout title="Repositories" viewer={viewer} section="repositories">
      <h1>Repositories</h1>
      <form method="get" action={urls.home()} class="search" role="search">
        <label for="filter" class="vh">
          Filter repositories
        </label>
        <input type="search" id="filter" name="q" value={filter} placeholder="Filter by name" data-filter="repositories" />
        <button type="submit">Filter</button>
      </form>
      {names.length === 0 ? (
        <Empty viewer={viewer} filter={filter} paged={paged} />
      ) : (
        <ul class="plain repos" id="repositories">
          {names.map((name) => (
            <li data-name={name}>
              <a href={urls.repository(name)}>{name}</a>
            </li>
          ))}
        </ul>
      )}
      {(next !== undefined || paged) && (
        <p class="pager">
          {paged && <a href={urls.home({ q: filter })}>First page</a>}
          {paged && next !== undefined && ' · '}
          {next !== undefined && <a href={urls.home({ q: filter, last: next })}>Next page</a>}
        </p>
      )}
    </Layout>
  );
}
