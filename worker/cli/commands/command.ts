/** The shape of a CLI command, and groups of subcommands (`users add`, `tokens list`…). */
import { CliError } from '../args.ts';
import type { CommandContext } from '../context.ts';

export interface Command {
  /** The word after `berth`. */
  name: string;
  /** Usage lines shown by `berth --help`, indented by two spaces. */
  usage: string;
  run(ctx: CommandContext, argv: string[]): Promise<void>;
}

export type Action = (ctx: CommandContext, argv: string[]) => Promise<void>;

/** A command whose first argument picks an action; an unknown one is named with the valid ones. */
export function group(name: string, usage: string, actions: Record<string, Action>): Command {
  return {
    name,
    usage,
    async run(ctx, argv) {
      const [action, ...rest] = argv;
      const valid = Object.keys(actions).join(', ');
      if (action === undefined) throw new CliError(`${name}: missing action (one of: ${valid})`);
      const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
      if (!run) throw new CliError(`${name}: unknown action "${action}" (one of: ${valid})`);
      await run(ctx, rest);
    },
  };
}

/** The positional `what` at `index`, or a one-line error naming it. */
export function required(positionals: readonly string[], index: number, command: string, what: string): string {
  const value = positionals[index];
  if (value === undefined || value === '') throw new CliError(`${command}: missing ${what}`);
  return value;
}

/** Refuses extra positionals (a typo there would otherwise be silently ignored). */
export function noMore(positionals: readonly string[], count: number, command: string): void {
  if (positionals.length > count) throw new CliError(`${command}: unexpected argument "${positionals[count]}"`);
}
