/**
 * Who `berth push` signs in as, first match wins:
 *   1. --user with --password-stdin, or BERTH_USER/BERTH_PASSWORD (a password or a robot token
 *      `berth_pat_…`, which Berth accepts as the password of any username);
 *   2. a prior `docker login HOST`: `auths[HOST]` in $DOCKER_CONFIG/config.json (default
 *      ~/.docker/config.json), its `auth` (base64 user:password) or `identitytoken` (a refresh
 *      token, exchanged at the registry's token endpoint), or the `credHelpers`/`credsStore`
 *      helper `docker-credential-<name> get` that docker itself would ask.
 * None at all is fine for a registry that allows anonymous push; otherwise the first 401 says so.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../args.ts';

export type PushCredentials =
  | { kind: 'basic'; username: string; password: string; from: string }
  | { kind: 'refresh'; username: string; refreshToken: string; from: string }
  | { kind: 'none' };

interface DockerConfig {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The keys docker may have stored a login under: `host`, `http://host`, `https://host`. */
function keysFor(host: string): string[] {
  return [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `http://${host}/v2/`, `https://${host}/v2/`];
}

function readDockerConfig(env: NodeJS.ProcessEnv): { config: DockerConfig; path: string } | null {
  const dir = env.DOCKER_CONFIG?.trim() || join(homedir(), '.docker');
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  try {
    return { config: JSON.parse(text) as DockerConfig, path };
  } catch {
    throw new CliError(`${path} is not valid JSON`);
  }
}

function fromHelper(helper: string, host: string): PushCredentials | null {
  const program = `docker-credential-${helper}`;
  for (const key of keysFor(host)) {
    const out = spawnSync(program, ['get'], { input: key, encoding: 'utf8', timeout: 20_000 });
    if (out.error) throw new CliError(`${program} (from docker's config) cannot be run: ${out.error.message}`);
    if (out.status !== 0) continue;
    const { Username, Secret } = JSON.parse(out.stdout) as { Username?: string; Secret?: string };
    if (!Secret) continue;
    // docker's convention: the username "<token>" marks an identity (refresh) token.
    if (Username === '<token>') return { kind: 'refresh', username: '<token>', refreshToken: Secret, from: program };
    return { kind: 'basic', username: Username ?? '', password: Secret, from: program };
  }
  return null;
}

export function dockerCredentials(host: string, env: NodeJS.ProcessEnv = process.env): PushCredentials | null {
  const found = readDockerConfig(env);
  if (!found) return null;
  const { config, path } = found;
  const helper = config.credHelpers?.[host];
  if (helper) return fromHelper(helper, host);
  for (const key of keysFor(host)) {
    const entry = config.auths?.[key];
    if (!entry) continue;
    if (entry.identitytoken) return { kind: 'refresh', username: entry.username ?? '', refreshToken: entry.identitytoken, from: path };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new CliError(`${path}: the login for ${key} is not user:password`);
      return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1), from: path };
    }
    if (entry.username && entry.password) return { kind: 'basic', username: entry.username, password: entry.password, from: path };
  }
  if (config.credsStore) return fromHelper(config.credsStore, host);
  return null;
}
