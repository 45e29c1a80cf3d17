/**
 * What the end-to-end client tests need from a registry target, and how they find one.
 *
 * Target modules (test/support/target-<name>.ts) export `start<Name>Target({ port, env })`
 * resolving to an `E2eTarget`. Only `url` and `stop` are required; the optional members switch
 * on extra checks, and a check whose member is missing is skipped with a printed reason.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Credentials } from './clients.ts';
import { testPort } from './ports.ts';

export interface E2eTarget {
  /** Base URL, `http://127.0.0.1:<port>` (clients treat 127.0.0.0/8 as insecure). */
  url: string;
  stop(): Promise<void> | void;
  /**
   * Everything the registry process wrote to stdout so far. With BERTH_ACCESS_LOG=1 in its env,
   * Berth prints one JSON line per request (worker/observe/observe-requests.ts):
   *   {"time":…,"level":"info","msg":"request","method":"GET","path":"/v2/<name>/blobs/sha256:…",
   *    "status":307,"bytesIn":0,"bytesOut":0,…}
   * where `bytesOut` counts the response body bytes Berth itself sent.
   */
  logs?(): string;
  /** A push+pull account; omitted when the target runs without authentication. */
  credentials?: Credentials;
  /** Largest request body the deployment accepts; the large test layer is shrunk to fit. */
  maxBodyBytes?: number;
  /** True when blob GETs must be 307 redirects to the store (the S3 target). */
  redirectsBlobs?: boolean;
  /** Creates an account that may pull but not push `repository` (needs the auth admin API). */
  createPullOnlyUser?(repository: string): Promise<Credentials>;
  /** Creates a robot token allowed to push and pull `repository`; used as a password. */
  createRobotToken?(repository: string): Promise<Credentials>;
}

export interface TargetOptions {
  port: number;
  env: Record<string, string>;
}

type StartTarget = (options: TargetOptions) => Promise<E2eTarget>;

const SUPPORT_DIR = dirname(fileURLToPath(import.meta.url));

/** Ports inside this suite's range (15400-15499); a target may use port+1…port+9 for helpers. */
export const TARGET_PORTS: Record<string, number> = { node: testPort(15410), s3: testPort(15420), worker: testPort(15430), reference: testPort(15480) };

export type LoadedTarget = { start: StartTarget; port: number } | { skip: string };

/** Finds `start<Name>Target` in test/support/target-<name>.ts, or says why it cannot. */
export async function loadTarget(name: string): Promise<LoadedTarget> {
  const port = TARGET_PORTS[name];
  if (port === undefined) return { skip: `unknown target "${name}" (known: ${Object.keys(TARGET_PORTS).join(', ')})` };
  const file = join(SUPPORT_DIR, `target-${name}.ts`);
  if (!existsSync(file)) return { skip: `test/support/target-${name}.ts does not exist yet` };
  const exportName = `start${name[0]?.toUpperCase()}${name.slice(1)}Target`;
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const start = mod[exportName];
  if (typeof start !== 'function') return { skip: `test/support/target-${name}.ts does not export ${exportName}()` };
  return { start: start as StartTarget, port };
}

export interface AccessLine {
  method: string;
  path: string;
  status: number;
  /** Response body bytes sent. */
  bytes: number;
  /** Request body bytes the registry read. */
  received: number;
}

interface LoggedRequest {
  msg: 'request';
  method: string;
  path: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
}

/** Parses the access-log lines out of a target's stdout; other lines are ignored. */
export function accessLines(stdout: string): AccessLine[] {
  const lines: AccessLine[] = [];
  for (const raw of stdout.split('\n')) {
    const text = raw.trim();
    if (!text.startsWith('{')) continue;
    try {
      const value = JSON.parse(text) as Partial<LoggedRequest>;
      if (value.msg === 'request' && typeof value.path === 'string' && typeof value.bytesOut === 'number') {
        lines.push({ method: String(value.method), path: value.path, status: Number(value.status), bytes: value.bytesOut, received: Number(value.bytesIn ?? 0) });
      }
    } catch {
      // Not every `{` line is ours (a dependency may log JSON too).
    }
  }
  return lines;
}

/** Blob GETs: `/v2/<name>/blobs/<digest>` (distribution-spec end-2), query string ignored. */
export const isBlobGet = (line: AccessLine): boolean =>
  line.method === 'GET' && /^\/v2\/.+\/blobs\/sha256:[0-9a-f]{64}(?:\?.*)?$/.test(line.path);

/**
 * Berth's admin API (worker/routes/admin/; README "Administration"), used to make the extra
 * accounts when a target has no `createPullOnlyUser` / `createRobotToken` of its own.
 */
export class BerthAdmin {
  constructor(
    private readonly url: string,
    private readonly admin: Credentials,
  ) {}

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(`${this.admin.username}:${this.admin.password}`).toString('base64')}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  /** Why the admin API cannot be used, or null when `GET /admin/whoami` says we are an admin. */
  async unavailable(): Promise<string | null> {
    const res = await this.request('GET', '/admin/whoami');
    const text = await res.text();
    if (res.status !== 200) return `no Berth admin API at ${this.url} (GET /admin/whoami answered ${res.status})`;
    return (JSON.parse(text) as { admin?: boolean }).admin === true ? null : `${this.admin.username} is not an admin`;
  }

  private async expect(res: Response, status: number, what: string): Promise<unknown> {
    const text = await res.text();
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${text}`);
    return text ? (JSON.parse(text) as unknown) : null;
  }

  async createPullOnlyUser(repository: string): Promise<Credentials> {
    const creds = { username: `e2e-reader-${Date.now().toString(36)}`, password: 'e2e-reader-password' };
    const res = await this.request('POST', '/admin/users', {
      account: creds.username,
      password: creds.password,
      rules: [{ pattern: repository, actions: ['pull'] }],
    });
    await this.expect(res, 201, 'POST /admin/users');
    return creds;
  }

  /** A robot token is used as a password with any username (worker/auth/robot-tokens.ts). */
  async createRobotToken(repository: string): Promise<Credentials> {
    const res = await this.request('POST', '/admin/tokens', {
      name: 'e2e-robot',
      scopes: [{ pattern: repository, actions: ['pull', 'push'] }],
      expiresInSeconds: 3600,
    });
    const body = (await this.expect(res, 201, 'POST /admin/tokens')) as { secret?: unknown };
    if (typeof body.secret !== 'string') throw new Error('POST /admin/tokens returned no secret');
    return { username: 'ci-robot', password: body.secret };
  }
}
