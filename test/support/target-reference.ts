/**
 * The reference target: Debian's `docker-registry` (CNCF Distribution 2.8.2) on filesystem
 * storage with htpasswd Basic auth. It is the baseline the client tests were written against and
 * the yardstick for timings: `BERTH_E2E_TARGETS=reference npm test`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { E2eTarget, TargetOptions } from './e2e-target.ts';

const USER = 'e2e';
const PASSWORD = 'berth-e2e-secret';
/** bcrypt (cost 5) of PASSWORD: Distribution's htpasswd accepts only bcrypt. */
const PASSWORD_BCRYPT = '$2b$05$OpwbehjTQl0DQM16ynlA4OAnuN4fU63GQb/wSSz6ONgYlwmxBFSly';

async function waitForPort(url: string, timeoutMs: number, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const why = exited();
    if (why) throw new Error(why);
    try {
      await fetch(`${url}/v2/`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

export interface Distribution {
  url: string;
  credentials: { username: string; password: string };
  logs(): string;
  /** Stops the process; its data directory stays, so a restart serves the same content. */
  stop(): Promise<void>;
}

/**
 * Distribution on `port` with its config and data under `dir` (kept across restarts), htpasswd
 * Basic auth for USER/PASSWORD.
 */
export async function startDistribution({ port, dir }: { port: number; dir: string }): Promise<Distribution> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'htpasswd'), `${USER}:${PASSWORD_BCRYPT}\n`);
  const config = [
    'version: 0.1',
    'log: { level: warn, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
    `http: { addr: 127.0.0.1:${port}, secret: berth-e2e-reference }`,
    `auth: { htpasswd: { realm: berth-e2e, path: ${join(dir, 'htpasswd')} } }`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), config);

  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-1_000_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit: string | null = null;
  child.on('exit', (code, signal) => (exit = `docker-registry exited (${code ?? signal}): ${output.slice(-2000)}`));
  child.on('error', (err) => (exit = `docker-registry failed to start: ${err.message}`));

  const url = `http://127.0.0.1:${port}`;
  await waitForPort(url, 15_000, () => exit);
  return {
    url,
    credentials: { username: USER, password: PASSWORD },
    logs: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
    },
  };
}

export async function startReferenceTarget({ port }: TargetOptions): Promise<E2eTarget> {
  const dir = resolve('.tmp', 'e2e', `reference-${port}`);
  rmSync(dir, { recursive: true, force: true });
  const registry = await startDistribution({ port, dir });
  return {
    url: registry.url,
    credentials: registry.credentials,
    logs: registry.logs,
    async stop() {
      await registry.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
