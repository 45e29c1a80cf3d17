/**
 * The Worker in workerd, as `npm run dev:worker` runs it: the same launcher
 * (infra/cloudflare/dev.mjs → wrangler dev, offline), a fresh local R2 directory, the given port.
 * `env` reaches the Worker as vars; BERTH_ and R2_ variables of the test process itself do not,
 * so a developer's shell cannot change what the suite tests (BERTH_DEV_TLS_FRONT, the launcher's
 * TLS front switch, excepted).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnLogged, waitForHttp } from './process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAUNCHER = path.join(ROOT, 'infra/cloudflare/dev.mjs');

export interface WorkerTarget {
  url: string;
  dataDir: string;
  /** The launcher's process id (workerd runs below it). */
  pid: number | undefined;
  logs(): string;
  stop(): Promise<void>;
}

export async function startWorkerTarget(opts: {
  port: number;
  env?: Record<string, string>;
  /** wrangler's devtools port; defaults to port + 1 (so a target uses two ports of the range). */
  inspectorPort?: number;
}): Promise<WorkerTarget> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'berth-worker-'));
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    // BERTH_DEV_TLS_FRONT is the launcher's own switch (to measure with and without its front).
    if (!/^(BERTH_|R2_)/.test(name) || name === 'BERTH_DEV_TLS_FRONT') env[name] = value;
  }
  Object.assign(env, opts.env, {
    PORT: String(opts.port),
    BERTH_DATA_DIR: dataDir,
    BERTH_INSPECTOR_PORT: String(opts.inspectorPort ?? opts.port + 1),
  });
  const spawned = spawnLogged(process.execPath, [LAUNCHER], { cwd: ROOT, env });
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    // wrangler bundles the Worker first: allow for a slow first build on a busy machine.
    await waitForHttp(`${url}/v2/`, spawned.child, spawned.output, 120_000);
  } catch (error) {
    await spawned.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    dataDir,
    pid: spawned.child.pid,
    logs: spawned.output,
    stop: async () => {
      await spawned.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
