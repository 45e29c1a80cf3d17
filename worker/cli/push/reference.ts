/**
 * The two arguments of `berth push SOURCE REPO:TAG`, parsed the way skopeo and docker read them,
 * so a reference docker would refuse is refused here too, in one line naming the problem.
 *
 * SOURCE uses skopeo's transport names (containers-transports(5)): `docker-daemon:IMAGE[:TAG]`,
 * `oci:DIR[:REF]`, `docker-archive:FILE`. The target is `[HOST/]REPO[:TAG]` (tag `latest` by
 * default, as docker's); a HOST must be the `--url` deployment's.
 */
import { isValidName, isValidTag, MAX_NAME_LENGTH } from '../../oci/reference.ts';
import { CliError } from '../args.ts';

export type Source =
  | { transport: 'docker-daemon'; image: string }
  | { transport: 'oci'; dir: string; ref?: string }
  | { transport: 'docker-archive'; file: string };

export const TRANSPORTS = ['docker-daemon', 'oci', 'docker-archive'] as const;

export function parseSource(text: string): Source {
  const colon = text.indexOf(':');
  const transport = colon > 0 ? text.slice(0, colon) : '';
  const rest = colon > 0 ? text.slice(colon + 1) : '';
  switch (transport) {
    case 'docker-daemon':
      if (!rest) throw new CliError('push: docker-daemon: needs an image, e.g. docker-daemon:app:1.0');
      return { transport, image: rest.includes(':') || rest.includes('@') ? rest : `${rest}:latest` };
    case 'oci': {
      // `oci:DIR:REF`; a DIR may itself hold ':' only when a REF follows (as in skopeo).
      const at = rest.lastIndexOf(':');
      const dir = at > 0 ? rest.slice(0, at) : rest;
      const ref = at > 0 ? rest.slice(at + 1) : undefined;
      if (!dir) throw new CliError('push: oci: needs a directory, e.g. oci:./layout:v1');
      return ref ? { transport, dir, ref } : { transport, dir };
    }
    case 'docker-archive':
      if (!rest) throw new CliError('push: docker-archive: needs a file, e.g. docker-archive:image.tar');
      return { transport, file: rest };
    default:
      throw new CliError(
        `push: unknown transport in "${text}" (use ${TRANSPORTS.map((t) => `${t}:`).join(', ')})`,
      );
  }
}

export interface Target {
  /** The registry host the reference names, when it names one. */
  host?: string;
  repository: string;
  tag: string;
}

/** docker's rule: the first component is a host when it has a '.' or ':' or is `localhost`. */
function isHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

export function parseTarget(text: string): Target {
  if (text.includes('@')) throw new CliError(`push: "${text}": push to a tag (REPO:TAG), not a digest`);
  let rest = text;
  let host: string | undefined;
  const slash = rest.indexOf('/');
  if (slash > 0 && isHost(rest.slice(0, slash))) {
    host = rest.slice(0, slash);
    rest = rest.slice(slash + 1);
  }
  const colon = rest.lastIndexOf(':');
  const repository = colon > 0 ? rest.slice(0, colon) : rest;
  const tag = colon > 0 ? rest.slice(colon + 1) : 'latest';
  if (repository.length > MAX_NAME_LENGTH) throw new CliError(`push: repository name longer than ${MAX_NAME_LENGTH} characters`);
  if (!isValidName(repository)) {
    throw new CliError(
      `push: invalid repository name "${repository}" (lowercase letters, digits and . _ - separators, components joined by /)`,
    );
  }
  if (!isValidTag(tag)) throw new CliError(`push: invalid tag "${tag}" (up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -)`);
  return host ? { host, repository, tag } : { repository, tag };
}
