/** Runs the `berth` CLI as a real process against a registry, and calls the admin API directly. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `berth ARGS` with BERTH_URL/BERTH_USER/BERTH_PASSWORD set from `creds` (no other BERTH_* leaks in). */
export function berth(url: string, creds: { username: string; password: string }, args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BERTH_')) env[k] = v;
  Object.assign(env, { BERTH_URL: url, BERTH_USER: creds.username, BERTH_PASSWORD: creds.password });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'worker/cli/berth.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** One admin API call with Basic credentials and a JSON body. */
export function adminCall(url: string, creds: { username: string; password: string }, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${url}${path}`, {
    method,
    headers: {
      Authorization: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`,
      // Admin writes are JSON even without a body (the API refuses anything else: CSRF).
      ...(method === 'GET' ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
