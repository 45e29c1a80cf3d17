/** `berth tokens …`: robot tokens (admin API). */
import { parseCommandArgs, parseDuration, stringOption, stringOptions } from '../args.ts';
import { group, noMore, required, type Command } from './command.ts';

interface TokenView {
  id: string;
  name: string;
  owner: string;
  expiresAt: string | null;
  scopes: { pattern: string; actions: string[] }[];
}

const enc = encodeURIComponent;

export const tokensCommand: Command = group(
  'tokens',
  `tokens create --name N --scope 'team/*=pull,push' [--scope ...] [--expires 30d|never] [--owner USER]
  tokens list [--owner USER]
  tokens revoke ID`,
  {
    async create(ctx, argv) {
      const args = parseCommandArgs('tokens create', argv, {
        name: { type: 'string' },
        scope: { type: 'string', multiple: true },
        expires: { type: 'string' },
        owner: { type: 'string' },
      });
      noMore(args.positionals, 0, 'tokens create');
      const name = required([stringOption(args, 'name') ?? ''], 0, 'tokens create', '--name');
      const body: Record<string, unknown> = { name, scopes: stringOptions(args, 'scope') };
      const expires = stringOption(args, 'expires');
      if (expires !== undefined) body.expiresInSeconds = parseDuration(expires);
      const owner = stringOption(args, 'owner');
      if (owner) body.owner = owner;
      const created = await (await ctx.admin()).call<TokenView & { secret: string }>('POST', '/admin/tokens', body);
      console.error(`token ${created.id} created (expires ${created.expiresAt ?? 'never'}); the secret is shown once:`);
      console.log(created.secret);
    },
    async list(ctx, argv) {
      const args = parseCommandArgs('tokens list', argv, { owner: { type: 'string' } });
      noMore(args.positionals, 0, 'tokens list');
      const owner = stringOption(args, 'owner');
      const { tokens } = await (await ctx.admin()).call<{ tokens: TokenView[] }>('GET', `/admin/tokens${owner ? `?owner=${enc(owner)}` : ''}`);
      for (const t of tokens) {
        console.log(`${t.id}\t${t.name}\towner=${t.owner}\texpires=${t.expiresAt ?? 'never'}\t${t.scopes.map((s) => `${s.pattern}=${s.actions.join(',')}`).join(' ')}`);
      }
    },
    async revoke(ctx, argv) {
      const { positionals } = parseCommandArgs('tokens revoke', argv, {});
      const id = required(positionals, 0, 'tokens revoke', 'ID');
      noMore(positionals, 1, 'tokens revoke');
      await (await ctx.admin()).call('DELETE', `/admin/tokens/${enc(id)}`);
      console.log(`revoked ${id}`);
    },
  },
);
