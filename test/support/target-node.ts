/** The Node server on the embedded default (filesystem store), as `npm start` runs it. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnLogged, waitForHttp } from './process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface NodeTarget {
  url: string;
  dataDir: string;
  /** The server process (for its memory and file modes in tests). */
  pid: number;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * `dataDir`: an existing store directory to serve (removed on stop, like the default temporary
 * one, unless `keepData`: a restart test starts a second server on it).
 */
export async function startNodeTarget(opts: { port: number; env?: Record<string, string>; dataDir?: string; keepData?: boolean }): Promise<NodeTarget> {
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'berth-node-')));
  const spawned = spawnLogged(process.execPath, ['--import', 'tsx', 'worker/runtime/node.ts'], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(opts.port), BERTH_DATA_DIR: dataDir, BERTH_STORAGE: 'fs', ...opts.env },
  });
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitForHttp(`${url}/v2/`, spawned.child, spawned.output);
  } catch (error) {
    await spawned.stop();
    throw error;
  }
  return {
    url,
    dataDir,
    pid: spawned.child.pid!,
    logs: spawned.output,
    stop: async () => {
      await spawned.stop();
      if (!opts.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
