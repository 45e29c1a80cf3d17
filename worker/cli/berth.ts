#!/usr/bin/env -S npx tsx
/**
 * `berth`: administer any Berth deployment over its admin HTTP API (worker/routes/admin.ts).
 *
 *   npm run berth -- --url https://registry.example --user admin --password-stdin users list
 *
 * Credentials: --url/--user, --password-stdin (first stdin line) or BERTH_URL, BERTH_USER,
 * BERTH_PASSWORD. When a command also reads a password from stdin (`users add NAME
 * --password-stdin`), the admin password is the first line and the new one the second.
 */
import { createInterface } from 'node:readline';
import { parseArgs, parseDuration, type Parsed } from './args.ts';

const USAGE = `usage: berth [--url URL] [--user USER] [--password-stdin] <command>

  whoami
  users list
  users show NAME
  users add NAME [--admin] [--password-stdin] [--rule 'pattern=actions' ...]
                 (without --password-stdin a random password is generated and printed once)
  users delete NAME
  users passwd NAME [--password-stdin]
  users admin NAME true|false
  rules set NAME 'pattern=actions' ...      (e.g. 'team/**=pull,push' '**=pull'; none clears)
  tokens create --name N --scope 'team/*=pull,push' [--scope ...] [--expires 30d|never] [--owner USER]
  tokens list [--owner USER]
  tokens revoke ID
  gc [--dry-run] [--untagged-manifests] [--keep-unreferenced-layers]
                                            (free storage of deleted images; --dry-run only reports;
                                             --keep-unreferenced-layers keeps layers no manifest uses)

environment: BERTH_URL, BERTH_USER, BERTH_PASSWORD`;

class CliError extends Error {}

async function stdinLines(): Promise<string[]> {
  if (process.stdin.isTTY) process.stderr.write('(reading passwords from stdin, one per line; end with Ctrl-D)\n');
  const lines: string[] = [];
  for await (const line of createInterface({ input: process.stdin })) lines.push(line);
  return lines;
}

function randomPassword(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}

interface Client {
  call(method: string, path: string, body?: unknown): Promise<unknown>;
}

function client(url: string, user: string, password: string): Client {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return {
    async call(method, path, body) {
      const res = await fetch(`${url.replace(/\/+$/, '')}${path}`, {
        method,
        headers: { Authorization: auth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) {
        let message = text;
        try {
          const parsed = JSON.parse(text) as { errors?: { code: string; message: string }[] };
          message = parsed.errors?.map((e) => `${e.code}: ${e.message}`).join('; ') ?? text;
        } catch {
          // not JSON: show as is
        }
        const hint = res.status === 429 ? ` (retry after ${res.headers.get('retry-after')} s)` : '';
        throw new CliError(`${method} ${path}: HTTP ${res.status} ${message}${hint}`);
      }
      return text ? JSON.parse(text) : null;
    },
  };
}

function need(value: string | undefined, what: string): string {
  if (!value) throw new CliError(`missing ${what}\n\n${USAGE}`);
  return value;
}

const enc = encodeURIComponent;
const print = (value: unknown): void => console.log(JSON.stringify(value, null, 2));

async function run(args: Parsed, api: Client, nextPassword: () => string | undefined): Promise<void> {
  const [group, verb, ...rest] = args.positionals;
  const opt = (k: string): string | undefined => args.options.get(k)?.at(-1);
  const name = rest[0];
  switch (`${group} ${verb ?? ''}`.trim()) {
    case 'whoami':
      return print(await api.call('GET', '/admin/whoami'));
    case 'users list': {
      const { users } = (await api.call('GET', '/admin/users')) as { users: { account: string; admin: boolean; rules: { pattern: string; actions: string[] }[] }[] };
      for (const u of users) {
        console.log(`${u.account}${u.admin ? ' (admin)' : ''}\t${u.rules.map((r) => `${r.pattern}=${r.actions.join(',')}`).join(' ')}`);
      }
      return;
    }
    case 'users show':
      return print(await api.call('GET', `/admin/users/${enc(need(name, 'NAME'))}`));
    case 'users add': {
      const account = need(name, 'NAME');
      const given = args.flags.has('password-stdin') ? nextPassword() : undefined;
      if (args.flags.has('password-stdin') && !given) throw new CliError('no password on stdin for the new user');
      const password = given ?? randomPassword();
      await api.call('POST', '/admin/users', { account, password, admin: args.flags.has('admin'), rules: args.options.get('rule') ?? [] });
      console.log(given ? `created ${account}` : `created ${account} with password ${password} (shown once)`);
      return;
    }
    case 'users delete':
      await api.call('DELETE', `/admin/users/${enc(need(name, 'NAME'))}`);
      return console.log(`deleted ${name}`);
    case 'users passwd': {
      const account = need(name, 'NAME');
      const given = args.flags.has('password-stdin') ? nextPassword() : undefined;
      const password = given ?? randomPassword();
      await api.call('PUT', `/admin/users/${enc(account)}/password`, { password });
      return console.log(given ? `password of ${account} changed` : `new password of ${account}: ${password} (shown once)`);
    }
    case 'users admin': {
      const value = need(rest[1], 'true|false');
      if (value !== 'true' && value !== 'false') throw new CliError('users admin NAME true|false');
      return print(await api.call('PUT', `/admin/users/${enc(need(name, 'NAME'))}/admin`, { admin: value === 'true' }));
    }
    case 'rules set':
      return print(await api.call('PUT', `/admin/users/${enc(need(name, 'NAME'))}/rules`, { rules: rest.slice(1) }));
    case 'tokens create': {
      const expires = opt('expires');
      const body: Record<string, unknown> = { name: need(opt('name'), '--name'), scopes: args.options.get('scope') ?? [] };
      if (expires !== undefined) body.expiresInSeconds = parseDuration(expires);
      if (opt('owner')) body.owner = opt('owner');
      const created = (await api.call('POST', '/admin/tokens', body)) as { id: string; expiresAt: string | null; secret: string };
      console.error(`token ${created.id} created (expires ${created.expiresAt ?? 'never'}); the secret is shown once:`);
      console.log(created.secret);
      return;
    }
    case 'tokens list': {
      const owner = opt('owner');
      const { tokens } = (await api.call('GET', `/admin/tokens${owner ? `?owner=${enc(owner)}` : ''}`)) as {
        tokens: { id: string; name: string; owner: string; expiresAt: string | null; scopes: { pattern: string; actions: string[] }[] }[];
      };
      for (const t of tokens) {
        console.log(`${t.id}\t${t.name}\towner=${t.owner}\texpires=${t.expiresAt ?? 'never'}\t${t.scopes.map((s) => `${s.pattern}=${s.actions.join(',')}`).join(' ')}`);
      }
      return;
    }
    case 'tokens revoke':
      await api.call('DELETE', `/admin/tokens/${enc(need(name, 'ID'))}`);
      return console.log(`revoked ${name}`);
    case 'gc': {
      const query =
        `dryRun=${args.flags.has('dry-run')}&untaggedManifests=${args.flags.has('untagged-manifests')}` +
        `&keepUnreferencedLayers=${args.flags.has('keep-unreferenced-layers')}`;
      const report = (await api.call('POST', `/admin/gc?${query}`)) as {
        dryRun: boolean;
        complete: boolean;
        records: { deleted: number };
        dataObjects: { deleted: number; bytes: number };
        manifestsDeleted: number;
        links: { unlinked: number; bytes: number };
        unparsableManifests: { repository: string; digest: string; reason: string }[];
      };
      const verb = report.dryRun ? 'would delete' : 'deleted';
      console.error(
        `gc ${verb} ${report.links.unlinked} layer link(s), ${report.records.deleted} blob record(s), ` +
          `${report.dataObjects.deleted} data object(s) (${report.dataObjects.bytes} bytes), ${report.manifestsDeleted} manifest(s)` +
          `${report.complete ? '' : '; stopped early, run again'}`,
      );
      for (const m of report.unparsableManifests) {
        console.error(`warning: ${m.repository}@${m.digest} does not parse (${m.reason}); that repository kept all its layers`);
      }
      return print(report);
    }
    default:
      throw new CliError(USAGE);
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return;
  }
  const args = parseArgs(argv);
  // `--password-stdin` before the command is the admin's; after it, the new user's.
  let commandStart = argv.length;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--url' || argv[i] === '--user') i++;
    else if (!argv[i]!.startsWith('--')) {
      commandStart = i;
      break;
    }
  }
  const adminFromStdin = argv.slice(0, commandStart).includes('--password-stdin');
  const commandFromStdin = argv.slice(commandStart).includes('--password-stdin');
  const lines = adminFromStdin || commandFromStdin ? await stdinLines() : [];
  let next = 0;
  const nextPassword = (): string | undefined => lines[next++];

  const url = args.options.get('url')?.at(-1) ?? process.env.BERTH_URL;
  const user = args.options.get('user')?.at(-1) ?? process.env.BERTH_USER ?? 'admin';
  const password = adminFromStdin ? nextPassword() : process.env.BERTH_PASSWORD;
  if (args.options.has('password')) throw new CliError('pass passwords with --password-stdin or BERTH_PASSWORD, not on the command line');
  if (!url) throw new CliError('no registry URL: use --url or BERTH_URL');
  if (!password) throw new CliError('no password: use --password-stdin or BERTH_PASSWORD');
  // The command's own --password-stdin flag is read inside `run`, so keep it as a flag there.
  if (!commandFromStdin) args.flags.delete('password-stdin');
  await run(args, client(url, user, password), nextPassword);
}

main().catch((error: unknown) => {
  console.error(error instanceof CliError ? error.message : `berth: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
