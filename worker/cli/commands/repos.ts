/** `berth repos [FILTER]`: the repositories this account may pull (GET /v2/_catalog, every page). */
import { flag, parseCommandArgs } from '../args.ts';
import { noMore, type Command } from './command.ts';

const PAGE = 1000;

export const reposCommand: Command = {
  name: 'repos',
  usage: 'repos [FILTER] [--json]                    (repositories you may pull; FILTER: part of the name)',
  async run(ctx, argv) {
    const args = parseCommandArgs('repos', argv, { json: { type: 'boolean' } });
    noMore(args.positionals, 1, 'repos');
    const filter = (args.positionals[0] ?? '').toLowerCase();
    const client = await ctx.registry();
    const names: string[] = [];
    for await (const page of client.pages<{ repositories?: string[] }>(`/v2/_catalog?n=${PAGE}`, 'repos')) {
      for (const name of page.repositories ?? []) if (name.includes(filter)) names.push(name);
    }
    if (flag(args, 'json')) ctx.printJson(names);
    else for (const name of names) console.log(name);
    if (names.length === 0 && !flag(args, 'json')) console.error(filter ? `no repository you may pull matches "${filter}"` : 'no repositories you may pull');
  },
};
