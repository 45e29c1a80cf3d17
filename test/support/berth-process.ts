/**
 * A Berth Node server process on a data directory the test owns, so a test can stop it (by
 * signal, by PID) and start another on the same data, or run several side by side.
 */
import { fileURLToPath } from 'node:url';
import { spawnLogged, waitForHttp, type Spawned } from './process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BerthProcess extends Spawned {
  url: string;
  /** Sends `signal` to the server and resolves with its exit code once it exits. */
  signal(signal: NodeJS.Signals): Promise<number | null>;
  /** Parsed JSON lines the server logged so far. */
  logLines(): Record<string, unknown>[];
}

export async function startBerth(options: { port: number; env: Record<string, string>; scheme?: 'http' | 'https'; ready?: (url: string) => Promise<void> }): Promise<BerthProcess> {
  const spawned = spawnLogged(process.execPath, ['--import', 'tsx', 'worker/runtime/node.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', HOST: '127.0.0.1', PORT: String(options.port), BERTH_ACCESS_LOG: 'true', ...options.env },
  });
  const url = `${options.scheme ?? 'http'}://127.0.0.1:${options.port}`;
  try {
    if (options.ready) await options.ready(url);
    else await waitForHttp(`${url}/healthz`, spawned.child, spawned.output);
  } catch (error) {
    await spawned.stop();
    throw error;
  }
  const exited = new Promise<number | null>((resolve) => {
    if (spawned.child.exitCode !== null) resolve(spawned.child.exitCode);
    else spawned.child.once('exit', (code) => resolve(code));
  });
  return {
    ...spawned,
    url,
    signal(signal) {
      spawned.child.kill(signal);
      return exited;
    },
    logLines() {
      return spawned
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            return {};
          }
        });
    },
  };
}
