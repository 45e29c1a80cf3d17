/** A repository: its tags with digest, size, created and push times, platforms and referrers. */
import type { Descriptor } from '../../oci/manifest.ts';
import type { ImageSummary, TagView } from '../../registry/images.ts';
import { formatImageRef } from '../../oci/image-ref.ts';
import { artifactLabel } from '../format.ts';
import { Layout } from '../layout.tsx';
import { Bytes, CopyLine, Notice, ShortDigest, Table, Time } from '../parts.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export interface RepositoryProps {
  viewer: Viewer;
  name: string;
  rows: TagView[];
  next?: string;
  paged: boolean;
  deleted?: string;
}

function Platforms({ summary }: { summary: ImageSummary }) {
  if (summary.kind === 'image') return <>{summary.platform ?? ''}</>;
  const platforms = summary.platforms.filter((p) => !p.attestation).map((p) => p.platform || 'unknown');
  return <>{platforms.join(', ')}</>;
}

function Referrers({ name, referrers }: { name: string; referrers: Descriptor[] }) {
  if (referrers.length === 0) return <span class="muted">none</span>;
  return (
    <ul class="plain">
      {referrers.map((r) => (
        <li>
          <a href={urls.image(name, { kind: 'digest', digest: r.digest })}>{artifactLabel(r.artifactType)}</a>
        </li>
      ))}
    </ul>
  );
}

function Row({ viewer, name, row }: { viewer: Viewer; name: string; row: TagView }) {
  const { entry, summary } = row;
  const tagRef = { kind: 'tag', tag: entry.tag } as const;
  return (
    <tr data-name={entry.tag.toLowerCase()}>
      <td>
        <a href={urls.image(name, tagRef)}>{entry.tag}</a>
      </td>
      <td>
        {entry.digest ? (
          <a href={urls.image(name, { kind: 'digest', digest: entry.digest })}>
            <ShortDigest digest={entry.digest} />
          </a>
        ) : (
          <span class="muted">unreadable</span>
        )}
      </td>
      <td class="num">{summary ? <Bytes value={summary.size} /> : ''}</td>
      <td>{summary ? <Time iso={summary.created} /> : <span class="muted">manifest missing</span>}</td>
      <td>{summary ? <Platforms summary={summary} /> : ''}</td>
      <td>
        <Time iso={entry.pushedAt} />
      </td>
      <td>
        <Referrers name={name} referrers={row.referrers} />
      </td>
      {viewer.may(name, 'delete') && (
        <td>
          <a class="button secondary small" href={urls.confirmDelete(formatImageRef(name, tagRef))} aria-label={`Delete tag ${entry.tag}`}>
            Delete
          </a>
        </td>
      )}
    </tr>
  );
}

export function RepositoryPage({ viewer, name, rows, next, paged, deleted }: RepositoryProps) {
  const canDelete = viewer.may(name, 'delete');
  const head = ['Tag', 'Digest', 'Size', 'Created', 'Platforms', 'Pushed', 'Referrers', ...(canDelete ? ['Delete'] : [])];
  const firstTag = rows[0]?.entry.tag;
  return (
    <Layout title={name} viewer={viewer} section="repositories">
      <p class="muted">
        <a href={urls.home()}>Repositories</a> /
      </p>
      <h1>{name}</h1>
      {deleted && <Notice kind="ok">Deleted {deleted}.</Notice>}
      {firstTag && <CopyLine id="pull" label="Pull command" value={`docker pull ${viewer.registryHost}/${name}:${firstTag}`} />}
      {rows.length === 0 ? (
        <Notice kind="info">{paged ? 'No more tags.' : 'This repository has no tags.'}</Notice>
      ) : (
        <Table caption={`Tags of ${name}`} head={head}>
          {rows.map((row) => (
            <Row viewer={viewer} name={name} row={row} />
          ))}
        </Table>
      )}
      {(next !== undefined || paged) && (
        <p class="pager">
          {paged && <a href={urls.repository(name)}>First page</a>}
          {paged && next !== undefined && ' · '}
          {next !== undefined && <a href={urls.repository(name, { last: next })}>Next page</a>}
        </p>
      )}
    </Layout>
  );
}
