/**
 * What `berth push` remembers between runs, under the cache directory ($BERTH_CACHE_DIR, else
 * $XDG_CACHE_HOME/berth, else ~/.cache/berth), so an interrupted push, run again, continues:
 *   uploads/<key>.json   the upload in progress for (registry, repository, blob): its Location
 *   known/<key>.json     which repository of a registry holds a blob, to mount instead of upload
 * Files are written whole (temporary file, rename) and readable only by the user.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.BERTH_CACHE_DIR?.trim();
  if (explicit) return explicit;
  const xdg = env.XDG_CACHE_HOME?.trim();
  return join(xdg || join(homedir(), '.cache'), 'berth');
}

const keyOf = (...parts: string[]): string => createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 40);

async function readJsonFile<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function writeJsonFile(file: string, value: unknown): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(value), { mode: 0o600 });
  await rename(temporary, file);
}

export interface UploadState {
  kind: 'direct' | 'chunked';
  location: string;
}

export class PushState {
  constructor(
    private readonly dir: string,
    private readonly registry: string,
  ) {}

  private uploadFile(repository: string, digest: string): string {
    return join(this.dir, 'uploads', `${keyOf(this.registry, repository, digest)}.json`);
  }

  upload(repository: string, digest: string): Promise<UploadState | null> {
    return readJsonFile<UploadState>(this.uploadFile(repository, digest));
  }

  saveUpload(repository: string, digest: string, state: UploadState): Promise<void> {
    return writeJsonFile(this.uploadFile(repository, digest), state);
  }

  forgetUpload(repository: string, digest: string): Promise<void> {
    return rm(this.uploadFile(repository, digest), { force: true });
  }

  private knownFile(): string {
    return join(this.dir, 'known', `${keyOf(this.registry)}.json`);
  }

  /** A repository of this registry that holds `digest`, as far as earlier pushes know. */
  async holder(digest: string): Promise<string | undefined> {
    return (await readJsonFile<Record<string, string>>(this.knownFile()))?.[digest];
  }

  async remember(digests: Record<string, string>): Promise<void> {
    const known = (await readJsonFile<Record<string, string>>(this.knownFile())) ?? {};
    await writeJsonFile(this.knownFile(), { ...known, ...digests });
  }
}
