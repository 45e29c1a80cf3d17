/** `berth users …` and `berth rules set`: accounts and their access rules (admin API). */
import { CliError, flag, parseCommandArgs, stringOptions } from '../args.ts';
import type { CommandContext } from '../context.ts';
import { group, noMore, required, type Command } from './command.ts';

interface UserView {
  account: string;
  admin: boolean;
  rules: { pattern: string; actions: string[] }[];
}

const enc = encodeURIComponent;

function randomPassword(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64url');
}

/** The new password: the next stdin line with --password-stdin, else a generated one. */
async function newPassword(ctx: CommandContext, fromStdin: boolean, command: string): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: randomPassword(), generated: true };
  const password = await ctx.stdinLine();
  if (!password) throw new CliError(`${command}: no password on stdin for the user`);
  return { password, generated: false };
}

export const usersCommand: Command = group(
  'users',
  `users list
  users show NAME
  users add NAME [--admin] [--password-stdin] [--rule 'pattern=actions' ...]
                 (without --password-stdin a random password is generated and printed once)
  users delete NAME
  users passwd NAME [--password-stdin]
                 (your own: the password you signed in with is sent as the current one)
  users admin NAME true|false`,
  {
    async list(ctx, argv) {
      noMore(parseCommandArgs('users list', argv, {}).positionals, 0, 'users list');
      const { users } = await (await ctx.admin()).call<{ users: UserView[] }>('GET', '/admin/users');
      for (const u of users) {
        console.log(`${u.account}${u.admin ? ' (admin)' : ''}\t${u.rules.map((r) => `${r.pattern}=${r.actions.join(',')}`).join(' ')}`);
      }
    },
    async show(ctx, argv) {
      const { positionals } = parseCommandArgs('users show', argv, {});
      const name = required(positionals, 0, 'users show', 'NAME');
      noMore(positionals, 1, 'users show');
      ctx.printJson(await (await ctx.admin()).call('GET', `/admin/users/${enc(name)}`));
    },
    async add(ctx, argv) {
      const args = parseCommandArgs('users add', argv, {
        admin: { type: 'boolean' },
        'password-stdin': { type: 'boolean' },
        rule: { type: 'string', multiple: true },
      });
      const account = required(args.positionals, 0, 'users add', 'NAME');
      noMore(args.positionals, 1, 'users add');
      const api = await ctx.admin(); // the admin's password is the first stdin line
      const { password, generated } = await newPassword(ctx, flag(args, 'password-stdin'), 'users add');
      await api.call('POST', '/admin/users', { account, password, admin: flag(args, 'admin'), rules: stringOptions(args, 'rule') });
      console.log(generated ? `created ${account} with password ${password} (shown once)` : `created ${account}`);
    },
    async delete(ctx, argv) {
      const { positionals } = parseCommandArgs('users delete', argv, {});
      const name = required(positionals, 0, 'users delete', 'NAME');
      noMore(positionals, 1, 'users delete');
      await (await ctx.admin()).call('DELETE', `/admin/users/${enc(name)}`);
      console.log(`deleted ${name}`);
    },
    async passwd(ctx, argv) {
      const args = parseCommandArgs('users passwd', argv, { 'password-stdin': { type: 'boolean' } });
      const account = required(args.positionals, 0, 'users passwd', 'NAME');
      noMore(args.positionals, 1, 'users passwd');
      const api = await ctx.admin();
      const { password, generated } = await newPassword(ctx, flag(args, 'password-stdin'), 'users passwd');
      // The server asks for the current password when the account is your own; you gave it to sign in.
      const login = await ctx.login();
      const body = login.username === account ? { password, currentPassword: login.password } : { password };
      await api.call('PUT', `/admin/users/${enc(account)}/password`, body);
      console.log(generated ? `new password of ${account}: ${password} (shown once)` : `password of ${account} changed`);
    },
    async admin(ctx, argv) {
      const { positionals } = parseCommandArgs('users admin', argv, {});
      const name = required(positionals, 0, 'users admin', 'NAME');
      const value = required(positionals, 1, 'users admin', 'true|false');
      noMore(positionals, 2, 'users admin');
      if (value !== 'true' && value !== 'false') throw new CliError(`users admin: expected true or false, got "${value}"`);
      ctx.printJson(await (await ctx.admin()).call('PUT', `/admin/users/${enc(name)}/admin`, { admin: value === 'true' }));
    },
  },
);

export const rulesCommand: Command = group(
  'rules',
  `rules set NAME 'pattern=actions' ...      (e.g. 'team/**=pull,push' '**=pull'; none clears)`,
  {
    async set(ctx, argv) {
      const { positionals } = parseCommandArgs('rules set', argv, {});
      const name = required(positionals, 0, 'rules set', 'NAME');
      ctx.printJson(await (await ctx.admin()).call('PUT', `/admin/users/${enc(name)}/rules`, { rules: positionals.slice(1) }));
    },
  },
);
