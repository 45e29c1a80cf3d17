/**
 * What the local dev commands (`npm run dev:s3`, `npm run dev:lambda`) share: ports read from the
 * environment with a one-line error, and a registry process and its S3 server started and
 * stopped together (Ctrl-C stops both; either exiting stops the other).
 */
import type { ChildProcess } from 'node:child_process';
import { stopProcess } from './process.ts';
import type { S3Server } from './s3-server.ts';

export function envPort(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    console.error(`${name} must be a port number, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

/** Stops `server` and `s3` on SIGINT/SIGTERM, and `s3` when `server` exits on its own. */
export function stopTogether(server: ChildProcess, s3: S3Server, name: string): void {
  let stopping = false;
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await stopProcess(server);
    await s3.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  server.on('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} exited (${code ?? signal}); stopping the S3 server`);
    void shutdown(code ?? 1);
  });
}
