/**
 * One manifest: facts, `docker pull` lines, config summary (entrypoint, env NAMES, labels), layers,
 * referrers and the manifest itself. For an index, the platforms are links; the chosen one's
 * image is shown below the index's own facts.
 */
import type { Digest } from '../../oci/digest.ts';
import type { ConfigSummary } from '../../oci/image-config.ts';
import { formatImageRef } from '../../oci/image-ref.ts';
import type { Reference } from '../../oci/reference.ts';
import type { ImageDetails, PlatformEntry } from '../../registry/images.ts';
import { artifactLabel } from '../format.ts';
import { Layout } from '../layout.tsx';
import { Bytes, CopyLine, Notice, ShortDigest, Table, Time } from '../parts.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export interface ImageProps {
  viewer: Viewer;
  name: string;
  reference: Reference;
  details: ImageDetails;
  /** For an index: the platform shown and its image. */
  selected?: { entry: PlatformEntry; details: ImageDetails | null };
}

function List({ items }: { items: string[] | undefined }) {
  if (!items || items.length === 0) return <span class="muted">none</span>;
  return <code>{JSON.stringify(items)}</code>;
}

function ConfigFacts({ config }: { config: ConfigSummary }) {
  const labels = Object.entries(config.labels);
  return (
    <>
      <dl class="facts">
        <dt>Entrypoint</dt>
        <dd>
          <List items={config.entrypoint} />
        </dd>
        <dt>Command</dt>
        <dd>
          <List items={config.cmd} />
        </dd>
        <dt>Working dir</dt>
        <dd>{config.workingDir ?? <span class="muted">default</span>}</dd>
        <dt>User</dt>
        <dd>{config.user ?? <span class="muted">default (root)</span>}</dd>
        <dt>Environment</dt>
        <dd>
          {config.envNames.length === 0 ? <span class="muted">none</span> : <code>{config.envNames.join(' ')}</code>}
          <span class="muted"> (names only)</span>
        </dd>
        <dt>Exposed ports</dt>
        <dd>{config.exposedPorts.length === 0 ? <span class="muted">none</span> : config.exposedPorts.join(', ')}</dd>
        {config.volumes.length > 0 && (
          <>
            <dt>Volumes</dt>
            <dd>{config.volumes.join(', ')}</dd>
          </>
        )}
      </dl>
      <h3>Labels</h3>
      {labels.length === 0 ? (
        <p class="muted">No labels.</p>
      ) : (
        <Table caption="Labels" head={['Label', 'Value']}>
          {labels.map(([key, value]) => (
            <tr>
              <td class="mono">{key}</td>
              <td class="mono">{value}</td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

function ImageBody({ viewer, name, details, heading }: { viewer: Viewer; name: string; details: ImageDetails; heading: string }) {
  const { summary } = details;
  return (
    <section aria-labelledby={`${heading}-config`}>
      <h2 id={`${heading}-config`}>Config</h2>
      {details.configSummary ? (
        <ConfigFacts config={details.configSummary} />
      ) : (
        <p class="muted">{details.configNote ?? 'This manifest has no image config.'}</p>
      )}
      <h2>Layers</h2>
      {details.layers.length === 0 ? (
        <p class="muted">No layers.</p>
      ) : (
        <Table caption="Layers" head={['#', 'Digest', 'Media type', 'Size']}>
          {details.layers.map((layer, index) => (
            <tr>
              <td class="num">{index + 1}</td>
              <td class="mono">{layer.digest}</td>
              <td class="mono">{layer.mediaType}</td>
              <td class="num">
                <Bytes value={layer.size} />
              </td>
            </tr>
          ))}
        </Table>
      )}
      <Referrers name={name} details={details} />
      <h2>Manifest</h2>
      <p class="muted">
        {summary.mediaType}, <Bytes value={summary.manifestSize} />
      </p>
      {details.manifestTruncated && <Notice kind="warn">The manifest is long; only its beginning is shown.</Notice>}
      <pre tabindex={0} aria-label={`Manifest ${summary.digest}`}>
        {details.manifestText}
      </pre>
      {viewer.may(name, 'delete') && <DeleteManifest name={name} digest={summary.digest} />}
    </section>
  );
}

function Referrers({ name, details, title = 'Referrers' }: { name: string; details: ImageDetails; title?: string }) {
  return (
    <>
      <h2>{title}</h2>
      {details.referrers.length === 0 ? (
        <p class="muted">No signatures, SBOMs or other artifacts refer to this manifest.</p>
      ) : (
        <Table caption="Referrers" head={['Kind', 'Digest', 'Size']}>
          {details.referrers.map((r) => (
            <tr>
              <td>{artifactLabel(r.artifactType)}</td>
              <td>
                <a href={urls.image(name, { kind: 'digest', digest: r.digest })}>
                  <ShortDigest digest={r.digest} />
                </a>
              </td>
              <td class="num">
                <Bytes value={r.size} />
              </td>
            </tr>
          ))}
        </Table>
      )}
    </>
  );
}

function DeleteManifest({ name, digest }: { name: string; digest: Digest }) {
  return (
    <p class="actions">
      <a class="button secondary" href={urls.confirmDelete(formatImageRef(name, { kind: 'digest', digest }))}>
        Delete this manifest…
      </a>
    </p>
  );
}

function Facts({ viewer, name, reference, details }: Omit<ImageProps, 'selected'>) {
  const { summary } = details;
  return (
    <>
      <dl class="facts">
        <dt>Digest</dt>
        <dd class="mono">{summary.digest}</dd>
        <dt>Kind</dt>
        <dd>
          {summary.kind === 'index' ? `index of ${summary.platforms.length} manifests` : summary.artifactType ? `artifact (${artifactLabel(summary.artifactType)})` : 'image'}
        </dd>
        <dt>Size</dt>
        <dd>
          <Bytes value={summary.size} /> <span class="muted">({summary.kind === 'index' ? 'all platforms' : 'config and layers'})</span>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time iso={summary.created} />
        </dd>
        {summary.platform && (
          <>
            <dt>Platform</dt>
            <dd>{summary.platform}</dd>
          </>
        )}
        {details.subject && (
          <>
            <dt>Refers to</dt>
            <dd>
              <a href={urls.image(name, { kind: 'digest', digest: details.subject.digest })}>
                <ShortDigest digest={details.subject.digest} />
              </a>
            </dd>
          </>
        )}
      </dl>
      <h2>Pull</h2>
      {reference.kind === 'tag' && (
        <CopyLine id="pull-tag" label="Pull by tag" value={`docker pull ${viewer.registryHost}/${formatImageRef(name, reference)}`} />
      )}
      <CopyLine id="pull-digest" label="Pull by digest" value={`docker pull ${viewer.registryHost}/${name}@${summary.digest}`} />
    </>
  );
}

function PlatformNav({ name, reference, details, selected }: Required<Pick<ImageProps, 'selected'>> & Omit<ImageProps, 'viewer' | 'selected'>) {
  return (
    <nav class="platforms" aria-label="Platforms">
      <ul>
        {details.summary.platforms.map((p) => (
          <li>
            <a
              href={urls.image(name, reference, p.descriptor.digest)}
              aria-current={p.descriptor.digest === selected.entry.descriptor.digest ? 'true' : undefined}
            >
              {p.attestation ? `attestation ${p.platform ? `(${p.platform})` : ''}`.trim() : p.platform || 'unknown platform'}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function ImagePage(props: ImageProps) {
  const { viewer, name, reference, details, selected } = props;
  const title = formatImageRef(name, reference);
  return (
    <Layout title={title} viewer={viewer} section="repositories">
      <p class="muted">
        <a href={urls.home()}>Repositories</a> / <a href={urls.repository(name)}>{name}</a> /
      </p>
      <h1 class="mono">{title}</h1>
      <Facts viewer={viewer} name={name} reference={reference} details={details} />
      {reference.kind === 'tag' && viewer.may(name, 'delete') && (
        <p class="actions">
          <a class="button secondary" href={urls.confirmDelete(title)}>
            Delete tag {reference.tag}…
          </a>
        </p>
      )}
      {selected ? (
        <>
          <h2>Platforms</h2>
          <PlatformNav name={name} reference={reference} details={details} selected={selected} />
          <h2 class="mono">{selected.entry.platform || selected.entry.descriptor.digest}</h2>
          {selected.details ? (
            <>
              <dl class="facts">
                <dt>Digest</dt>
                <dd class="mono">
                  <a href={urls.image(name, { kind: 'digest', digest: selected.entry.descriptor.digest })}>{selected.entry.descriptor.digest}</a>
                </dd>
                <dt>Size</dt>
                <dd>
                  <Bytes value={selected.details.summary.size} />
                </dd>
                <dt>Created</dt>
                <dd>
                  <Time iso={selected.details.summary.created} />
                </dd>
              </dl>
              <ImageBody viewer={viewer} name={name} details={selected.details} heading="platform" />
            </>
          ) : (
            <Notice kind="warn">This platform's manifest is not stored in the repository.</Notice>
          )}
          <h2>Index manifest</h2>
          <pre tabindex={0} aria-label={`Index manifest ${details.summary.digest}`}>
            {details.manifestText}
          </pre>
          <Referrers name={name} details={details} title="Referrers of the index" />
          {viewer.may(name, 'delete') && <DeleteManifest name={name} digest={details.summary.digest} />}
        </>
      ) : (
        <ImageBody viewer={viewer} name={name} details={details} heading="image" />
      )}
    </Layout>
  );
}
