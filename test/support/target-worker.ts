/**
 * The Worker in workerd, as `npm run dev:worker` runs it: the same launcher
 * (infra/cloudflare/dev.mjs → wrangler dev, offline), a fresh local R2 directory, the given port.
 * `env` reaches the Worker as vars; BERTH_ and R2_ variables of the test process itself do not,
 * so a developer's shell cannot change what the suite tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { spawnLogged, waitForHttp } from './process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LAUNCHER = path.join(ROOT, 'infra/cloudflare/dev.mjs');

export interface WorkerTarget {
  url: string;
  dataDir: string;
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
    if (!/^(BERTH_|R2_)/.test(name)) env[name] = value;
  }
  // wrangler listens on port + 2 behind a small front on `port` (see plainHttpFront).
  const innerPort = opts.port + 2;
  Object.assign(env, opts.env, {
    PORT: String(innerPort),
    BERTH_DATA_DIR: dataDir,
    BERTH_INSPECTOR_PORT: String(opts.inspectorPort ?? opts.port + 1),
  });
  const spawned = spawnLogged(process.execPath, [LAUNCHER], { cwd: ROOT, env });
  const url = `http://127.0.0.1:${opts.port}`;
  let front: Front | undefined;
  try {
    // wrangler bundles the Worker first: allow for a slow first build on a busy machine.
    await waitForHttp(`http://127.0.0.1:${innerPort}/v2/`, spawned.child, spawned.output, 120_000);
    front = await plainHttpFront(opts.port, innerPort);
  } catch (error) {
    await spawned.stop();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    dataDir,
    logs: spawned.output,
    stop: async () => {
      // wrangler first: its connections closing end the front's, so the front can close.
      await spawned.stop();
      await front?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * docker, podman and skopeo try TLS first on a loopback registry and fall back to plain HTTP
 * when the server answers the ClientHello with anything but a handshake. `wrangler dev` keeps
 * such a connection open until the client gives up (about 10 s per client, measured), which on
 * Cloudflare never happens (TLS ends at the edge). This front closes connections that start with
 * a TLS record (0x16) and relays everything else to wrangler untouched.
 */
interface Front {
  /** Closes the listener and every connection (clients such as dockerd keep idle ones open). */
  stop(): Promise<void>;
}

function plainHttpFront(port: number, innerPort: number): Promise<Front> {
  const open = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.once('data', (first: Buffer) => {
      if (first[0] === 0x16) {
        socket.destroy();
        return;
      }
      socket.pause();
      const upstream = net.connect(innerPort, '127.0.0.1', () => {
        upstream.write(first);
        socket.pipe(upstream);
        upstream.pipe(socket);
      });
      open.add(upstream);
      const close = (): void => {
        socket.destroy();
        upstream.destroy();
      };
      upstream.on('error', close);
      socket.on('error', close);
      upstream.on('close', () => {
        open.delete(upstream);
        socket.end();
      });
      socket.on('close', () => upstream.end());
    });
    socket.on('error', () => socket.destroy());
  });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const socket of open) socket.destroy();
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ stop }));
  });
}
