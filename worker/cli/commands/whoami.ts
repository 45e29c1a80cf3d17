/** `berth whoami`: the signed-in account, its admin flag and rules. */
import { parseCommandArgs } from '../args.ts';
import type { Command } from './command.ts';
import { noMore } from './command.ts';

export const whoamiCommand: Command = {
  name: 'whoami',
  usage: 'whoami',
  async run(ctx, argv) {
    noMore(parseCommandArgs('whoami', argv, {}).positionals, 0, 'whoami');
    ctx.printJson(await (await ctx.admin()).call('GET', '/admin/whoami'));
  },
};
