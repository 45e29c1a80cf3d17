/**
 * A Docker daemon of the test's own, configured as dockerd is for a daemon-wide Docker Hub
 * mirror (`--registry-mirror`), so `docker pull alpine:3` asks the mirror for `library/alpine`.
 * The shared daemon (test/support/dockerd.sh) cannot be reconfigured: it serves everyone.
 *
 * Everything of this daemon is its own: socket, pidfile, exec root (its containerd's state) and
 * data root under `dir`, an empty config file (never /etc/docker/daemon.json), no iptables, no
 * bridge, the vfs storage driver. It is stopped by PID, and its directories removed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type RunResult } from './clients.ts';
import { spawnLogged, type Spawned } from './process.ts';

export interface PrivateDockerd {
  /** Runs the docker CLI against this daemon. */
  docker(args: string[]): Promise<RunResult>;
  logs(): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

/**
 * `dir` holds the data root; the socket and exec root go under `shortDir`, since unix socket
 * paths are limited to about 100 bytes.
 */
export async function startPrivateDockerd(opts: { dir: string; shortDir: string; mirror: string }): Promise<PrivateDockerd> {
  rmSync(opts.shortDir, { recursive: true, force: true });
  mkdirSync(join(opts.shortDir, 'exec'), { recursive: true });
  mkdirSync(join(opts.dir, 'data'), { recursive: true });
  const config = join(opts.shortDir, 'daemon.json');
  writeFileSync(config, '{}\n');
  const host = `unix://${join(opts.shortDir, 'docker.sock')}`;
  const spawned: Spawned = spawnLogged('dockerd', [
    `--config-file=${config}`,
    '--storage-driver=vfs',
    '--iptables=false', '--ip-masq=false', '--bridge=none',
    `--data-root=${join(opts.dir, 'data')}`,
    `--exec-root=${join(opts.shortDir, 'exec')}`,
    `--pidfile=${join(opts.shortDir, 'dockerd.pid')}`,
    `--host=${host}`,
    `--registry-mirror=${opts.mirror}`,
  ], { env: process.env });
  const docker = (args: string[]): Promise<RunResult> => run('docker', ['--host', host, ...args], { timeoutMs: 120_000 });
  const stop = async (): Promise<void> => {
    await spawned.stop();
    rmSync(opts.shortDir, { recursive: true, force: true });
    rmSync(opts.dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (spawned.child.exitCode !== null) {
      await stop();
      throw new Error(`private dockerd exited with ${spawned.child.exitCode}:\n${spawned.output().slice(-2000)}`);
    }
    if ((await docker(['info', '--format', '{{.ServerVersion}}'])).code === 0) break;
    if (Date.now() > deadline) {
      const output = spawned.output();
      await stop();
      throw new Error(`private dockerd did not answer within ${START_TIMEOUT_MS} ms:\n${output.slice(-2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { docker, logs: spawned.output, stop };
}
