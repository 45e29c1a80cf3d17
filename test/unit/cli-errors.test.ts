/**
 * The CLI answers every mistake with one line naming it and a non-zero exit, before any
 * request when it can (the CLI runs as a real process; no registry needed for these).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function berth(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const clean: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('BERTH_')) clean[k] = v;
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'worker/cli/berth.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...clean, ...env },
    input: '',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function oneLine(result: { status: number | null; stderr: string }, pattern: RegExp): void {
  assert.notEqual(result.status, 0);
  const lines = result.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line, got:\n${result.stderr}`);
  assert.match(lines[0]!, pattern);
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

describe('berth CLI mistakes', () => {
  const env = { BERTH_PASSWORD: 'x', BERTH_URL: 'http://127.0.0.1:1' };

  it('--help lists every command', () => {
    const result = berth(['--help']);
    assert.equal(result.status, 0);
    for (const word of ['whoami', 'users add', 'rules set', 'tokens create', 'gc']) assert.ok(result.stdout.includes(word), word);
  });

  it('an unknown command names the valid ones', () => {
    oneLine(berth(['frobnicate'], env), /unknown command "frobnicate" \(one of: repos, tags, show, delete, whoami, users, .*gc/);
  });

  it('an unknown action names the valid ones', () => {
    oneLine(berth(['users', 'rename'], env), /users: unknown action "rename" \(one of: list, show, add, delete, passwd, admin\)/);
  });

  it('an unknown option is named', () => {
    oneLine(berth(['tokens', 'list', '--colour'], env), /tokens list: Unknown option '--colour'/);
  });

  it('a missing argument is named', () => {
    oneLine(berth(['users', 'show'], env), /users show: missing NAME/);
    oneLine(berth(['tokens', 'create', '--scope', 'a=pull'], env), /tokens create: missing --name/);
  });

  it('a URL without a scheme says so', () => {
    oneLine(berth(['--url', '127.0.0.1:5000', 'whoami'], { BERTH_PASSWORD: 'x' }), /has no scheme: write http:\/\/127\.0\.0\.1:5000/);
  });

  it('an unreachable registry names the URL and the cause', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    oneLine(berth(['--url', url, 'whoami'], { BERTH_PASSWORD: 'x' }), new RegExp(`cannot reach ${url.replace(/\./g, '\\.')}: .*ECONNREFUSED`));
  });

  it('no password and no URL are named', () => {
    oneLine(berth(['whoami'], { BERTH_URL: 'http://127.0.0.1:1' }), /no password: use --password-stdin or BERTH_PASSWORD/);
    oneLine(berth(['whoami'], { BERTH_PASSWORD: 'x' }), /no registry URL/);
  });

  it('a password on the command line is refused', () => {
    oneLine(berth(['--password', 'secret', 'whoami'], env), /not on the command line/);
  });
});
