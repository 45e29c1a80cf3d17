/**
 * The browsing commands of the CLI (`berth repos|tags|show|delete`) against a running Node
 * server, each run as its own process the way a person runs it; their one-line errors; `npx
 * berth` as the README has it (this repository's own bin, nothing fetched); and the server's
 * first-start message, whose password-change command is run exactly as printed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { startNodeTarget, type NodeTarget } from '../support/target-node.ts';
import { testPort } from '../support/ports.ts';
import { pushBrowseFixtures, READER, SECRET_ENV_VALUE, type BrowseFixtures } from '../support/browse-fixtures.ts';

// This suite's ports: 15256 (server), 15257 (first-start server), 15258 (nothing listens there).
const PORT = testPort(15256);
const FIRST_START_PORT = testPort(15257);
const CLOSED_PORT = testPort(15258);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN = { username: 'admin', password: 'cli-admin-password-1' };
/**
 * The CLI bundled once (esbuild, npm packages external), so the many runs below start in a
 * fraction of tsx's compile time; `npx berth` and the first-start command run the source as a
 * person does.
 */
const CLI_BUNDLE = path.join(ROOT, '.tmp', 'cli-test', 'berth.mjs');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string> = {}, input = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    // The developer's own BERTH_URL/USER/PASSWORD must not leak into what is tested.
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^BERTH_(URL|USER|PASSWORD)$/.test(k)));
    const child = spawn(command, args, { cwd: ROOT, env: { ...clean, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe('berth repos, tags, show, delete against a running server', { timeout: 300_000 }, () => {
  let target: NodeTarget;
  let fixtures: BrowseFixtures;
  let url: string;
  const berth = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    run(process.execPath, [CLI_BUNDLE, ...args], { BERTH_URL: url, BERTH_USER: ADMIN.username, BERTH_PASSWORD: ADMIN.password, ...env });
  const asReader = { BERTH_USER: READER.username, BERTH_PASSWORD: READER.password };

  /** A mistake is one line on stderr, naming it, with a non-zero exit. */
  function oneLineError(result: Run, code: number, pattern: RegExp): void {
    assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line: ${result.stderr}`);
    assert.match(lines[0]!, pattern);
  }

  before(async () => {
    await build({ entryPoints: [path.join(ROOT, 'worker/cli/berth.ts')], outfile: CLI_BUNDLE, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning' });
    target = await startNodeTarget({ port: PORT, env: { BERTH_ADMIN_PASSWORD: ADMIN.password, BERTH_PBKDF2_ITERATIONS: '10000' } });
    url = target.url;
    fixtures = await pushBrowseFixtures(url, ADMIN);
  });
  after(async () => {
    await target?.stop();
  });

  it('repos lists what the account may pull, filtered, as text and JSON', async () => {
    const all = await berth(['repos']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(all.stdout.trim().split('\n'), ['other/private', 'team/app', 'team/multi', 'team/scratch']);
    const filtered = await berth(['repos', 'multi', '--json']);
    assert.deepEqual(JSON.parse(filtered.stdout), ['team/multi']);
    const reader = await berth(['repos', '--json'], asReader);
    assert.deepEqual(JSON.parse(reader.stdout), ['team/app', 'team/multi', 'team/scratch'], 'a pull-only account sees its own');
  });

  it('tags shows digest, size, created and platforms', async () => {
    const text = await berth(['tags', 'team/app']);
    assert.equal(text.code, 0, text.stderr);
    const [header, first] = text.stdout.trim().split('\n');
    assert.match(header!, /^TAG\s+DIGEST\s+SIZE\s+CREATED\s+PLATFORMS$/);
    assert.match(first!, new RegExp(`^1\\.0\\s+${fixtures.app.digest.slice(0, 19)}\\s+5\\.4 KiB\\s+2026-11-05 10:20 UTC\\s+linux/amd64$`));
    const json = JSON.parse((await berth(['tags', 'team/multi', '--json'])).stdout) as { tag: string; digest: string; size: number; platforms: string[] }[];
    assert.deepEqual(json.map((t) => [t.tag, t.digest, t.platforms]), [['2.0', fixtures.indexDigest, ['linux/amd64', 'linux/arm64/v8']]]);
    assert.ok(json[0]!.size > fixtures.amd64.size + fixtures.arm64.size, 'an index counts all its platforms');
  });

  it('show prints the image page as text and JSON: env names only, layers, referrers, platforms', async () => {
    const text = await berth(['show', 'team/app:1.0']);
    assert.equal(text.code, 0, text.stderr);
    assert.ok(text.stdout.includes(`digest     ${fixtures.app.digest}`));
    assert.ok(text.stdout.includes('env        PATH API_TOKEN (names only)'));
    assert.ok(text.stdout.includes('entrypoint ["/usr/bin/app","--serve"]'));
    for (const layer of fixtures.app.layerDigests) assert.ok(text.stdout.includes(layer), layer);
    assert.ok(text.stdout.includes(`cosign signature  ${fixtures.signatureDigest}`));
    assert.ok(!text.stdout.includes(SECRET_ENV_VALUE), 'never an env value');
    const byHost = await berth(['show', `${new URL(url).host}/team/app@${fixtures.app.digest}`, '--json']);
    const image = JSON.parse(byHost.stdout) as { digest: string; size: number; config: { envNames: string[] } };
    assert.equal(image.digest, fixtures.app.digest);
    assert.equal(image.size, fixtures.app.size);
    assert.deepEqual(image.config.envNames, ['PATH', 'API_TOKEN']);
    assert.ok(!byHost.stdout.includes(SECRET_ENV_VALUE));
    const index = JSON.parse((await berth(['show', 'team/multi:2.0', '--json'])).stdout) as {
      kind: string; platforms: { platform: string; attestation: boolean; image?: { layers: { digest: string }[] } }[];
    };
    assert.equal(index.kind, 'index');
    assert.deepEqual(index.platforms.map((p) => [p.platform, p.attestation]), [['linux/amd64', false], ['linux/arm64/v8', false], ['unknown/unknown', true]]);
    assert.deepEqual(index.platforms[1]!.image?.layers.map((l) => l.digest), fixtures.arm64.layerDigests);
  });

  it('delete removes a tag (and refuses a pull-only account)', async () => {
    oneLineError(await berth(['delete', 'team/scratch:old'], asReader), 1, /^berth: delete team\/scratch:old: HTTP 403 DENIED/);
    const done = await berth(['delete', 'team/scratch:old', '--json']);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(JSON.parse(done.stdout), { deleted: 'team/scratch:old', kind: 'tag' });
    oneLineError(await berth(['show', 'team/scratch:old']), 1, /MANIFEST_UNKNOWN/);
  });

  it('answers mistakes with one line and a non-zero exit', async () => {
    oneLineError(await berth(['tags', 'team/nope']), 1, /^berth: tags team\/nope: HTTP 404 NAME_UNKNOWN/);
    oneLineError(await berth(['show', 'team/app']), 2, /names a repository; write REPO:TAG or REPO@DIGEST/);
    oneLineError(await berth(['show', 'Team/App:1']), 2, /"Team\/App:1" is not a repository or image reference/);
    oneLineError(await berth(['show', 'team/app@sha256:123']), 2, /digest must be 64 lowercase hex/);
    oneLineError(await berth(['tags']), 2, /^berth: tags: missing REPO$/);
    oneLineError(await berth(['repos', '--bogus']), 2, /^berth: repos: Unknown option '--bogus'/);
    oneLineError(await berth(['frob']), 2, /^berth: unknown command "frob" \(one of: repos, tags, show, delete, /);
    oneLineError(await berth(['repos'], { BERTH_URL: new URL(url).host }), 2, /has no scheme: write http:\/\//);
    oneLineError(await berth(['repos'], { BERTH_URL: `http://127.0.0.1:${CLOSED_PORT}` }), 1, new RegExp(`^berth: cannot reach http://127\\.0\\.0\\.1:${CLOSED_PORT}: .*ECONNREFUSED`));
    oneLineError(await berth(['repos'], { BERTH_PASSWORD: 'wrong-password' }), 1, /HTTP 401 .*check the user and password/);
  });

  it('npx berth runs this repository\'s CLI (offline: nothing is fetched)', async () => {
    const result = await run('npx', ['berth', '--url', url, 'repos', 'app'], { BERTH_PASSWORD: ADMIN.password, npm_config_offline: 'true' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'team/app');
  });
});

describe('the first-start message', { timeout: 120_000 }, () => {
  let target: NodeTarget | undefined;
  after(async () => {
    await target?.stop();
  });

  it('prints the generated password and a password-change command that runs as printed', async () => {
    target = await startNodeTarget({ port: FIRST_START_PORT, env: { BERTH_ADMIN_PASSWORD: '', BERTH_PBKDF2_ITERATIONS: '10000' } });
    const logs = target.logs();
    const match = /created user \\?"admin\\?" with password (\S+) — shown once; change it with: (npx berth [^"\n]+?)(?:"|\n|$)/.exec(logs);
    assert.ok(match, `first-start message in:\n${logs}`);
    const [, password, command] = match as unknown as [string, string, string];
    assert.equal(command, `npx berth --url http://127.0.0.1:${FIRST_START_PORT} --password-stdin users passwd admin`);
    const changed = await run('bash', ['-c', command], { npm_config_offline: 'true' }, `${password}\n`);
    assert.equal(changed.code, 0, changed.stderr);
    const fresh = /new password of admin: (\S+) \(shown once\)/.exec(changed.stdout)?.[1];
    assert.ok(fresh, changed.stdout);
    const check = (p: string): Promise<number> =>
      fetch(`${target!.url}/admin/whoami`, { headers: { Authorization: `Basic ${btoa(`admin:${p}`)}` } }).then((r) => r.status);
    assert.equal(await check(fresh), 200, 'the new password works');
    assert.equal(await check(password), 401, 'the printed one no longer does');
  });
});
