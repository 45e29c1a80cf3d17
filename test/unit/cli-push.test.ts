import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CliError } from '../../worker/cli/args.ts';
import { dockerCredentials } from '../../worker/cli/push/credentials.ts';
import { formatBytes, LineProgress } from '../../worker/cli/push/progress.ts';
import { parseSource, parseTarget } from '../../worker/cli/push/reference.ts';

describe('berth push references', () => {
  it('reads skopeo transport names', () => {
    assert.deepEqual(parseSource('docker-daemon:app'), { transport: 'docker-daemon', image: 'app:latest' });
    assert.deepEqual(parseSource('docker-daemon:team/app:1.0'), { transport: 'docker-daemon', image: 'team/app:1.0' });
    assert.deepEqual(parseSource('oci:./layout'), { transport: 'oci', dir: './layout' });
    assert.deepEqual(parseSource('oci:/a/b:v1'), { transport: 'oci', dir: '/a/b', ref: 'v1' });
    assert.deepEqual(parseSource('docker-archive:img.tar'), { transport: 'docker-archive', file: 'img.tar' });
  });

  it('refuses unknown transports and empty sources with a CliError', () => {
    for (const bad of ['docker://x', 'x', 'oci:', 'docker-daemon:', 'docker-archive:', ':x']) {
      assert.throws(() => parseSource(bad), CliError, bad);
    }
  });

  it('reads targets the way docker does: an optional host, a tag defaulting to latest', () => {
    assert.deepEqual(parseTarget('team/app:v1'), { repository: 'team/app', tag: 'v1' });
    assert.deepEqual(parseTarget('team/app'), { repository: 'team/app', tag: 'latest' });
    assert.deepEqual(parseTarget('127.0.0.1:5000/team/app:v1'), { host: '127.0.0.1:5000', repository: 'team/app', tag: 'v1' });
    assert.deepEqual(parseTarget('localhost/app'), { host: 'localhost', repository: 'app', tag: 'latest' });
    assert.deepEqual(parseTarget('registry.example/a/b:c'), { host: 'registry.example', repository: 'a/b', tag: 'c' });
  });

  it('refuses references docker would refuse', () => {
    for (const bad of ['Team/app:v1', 'team//app', 'team/app:', 'team/app:-x', 'team/app@sha256:' + 'a'.repeat(64), '-app', 'a'.repeat(300)]) {
      assert.throws(() => parseTarget(bad), CliError, bad);
    }
  });
});

describe('berth push credentials from docker login', () => {
  const configDir = (config: object): string => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    return dir;
  };

  it('reads auth (base64 user:password) under the host, with or without a scheme', () => {
    const auth = Buffer.from('alice:s3cret:with:colons').toString('base64');
    for (const key of ['127.0.0.1:5000', 'http://127.0.0.1:5000']) {
      const found = dockerCredentials('127.0.0.1:5000', { DOCKER_CONFIG: configDir({ auths: { [key]: { auth } } }) });
      assert.deepEqual(found && { ...found, from: '' }, { kind: 'basic', username: 'alice', password: 's3cret:with:colons', from: '' });
    }
  });

  it('prefers an identity token (a refresh token) over the empty auth docker writes next to it', () => {
    const found = dockerCredentials('reg.example', { DOCKER_CONFIG: configDir({ auths: { 'reg.example': { auth: 'YWRtaW46', identitytoken: 'refresh-me' } } }) });
    assert.equal(found?.kind, 'refresh');
    assert.equal(found?.kind === 'refresh' ? found.refreshToken : '', 'refresh-me');
  });

  it('answers null without a login for the host, and names a broken config', () => {
    assert.equal(dockerCredentials('other.example', { DOCKER_CONFIG: configDir({ auths: { 'reg.example': { auth: 'eDp5' } } }) }), null);
    assert.equal(dockerCredentials('reg.example', { DOCKER_CONFIG: join(tmpdir(), 'no-such-berth-dir') }), null);
    const dir = mkdtempSync(join(tmpdir(), 'berth-docker-config-'));
    writeFileSync(join(dir, 'config.json'), '{not json');
    assert.throws(() => dockerCredentials('reg.example', { DOCKER_CONFIG: dir }), /is not valid JSON/);
  });
});

describe('berth push progress lines (not a terminal)', () => {
  it('prints a start line, periodic lines with rate and ETA, and a done line', async () => {
    const lines: string[] = [];
    const progress = new LineProgress((line) => lines.push(line), 20);
    progress.start('a', 'layer a', 10 * 1024 * 1024);
    progress.advance('a', 5 * 1024 * 1024);
    await new Promise((resolve) => setTimeout(resolve, 60));
    progress.done('a', 'published');
    progress.stop();
    assert.equal(lines[0], 'layer a: 10.0 MiB to send');
    assert.ok(lines.some((l) => /^layer a: 5\.0 MiB \/ 10\.0 MiB \(50%\), .+\/s, ETA /.test(l)), lines.join('\n'));
    assert.match(lines.at(-1)!, /^layer a: published, 5\.0 MiB sent in /);
  });

  it('formats sizes', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 1024 ** 3].map(formatBytes), ['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '1.0 GiB']);
  });
});
