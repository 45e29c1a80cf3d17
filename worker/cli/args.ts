/**
 * Argument parsing for the CLI, on Node's own `util.parseArgs` (strict: an unknown option or a
 * missing value is a one-line error naming it). Each command declares its options; the entry
 * splits global options (before the command) from the command's own.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A mistake of the user's: printed as one line (no stack), exit code 2. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'CliError';
  }
}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface ParsedArgs {
  positionals: string[];
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
}

/** Parses `argv` strictly against `options`; errors become a CliError naming the command. */
export function parseCommandArgs(command: string, argv: readonly string[], options: OptionSpec): ParsedArgs {
  try {
    const { positionals, values } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { positionals, values };
  } catch (error) {
    // Node's messages name the option ("Unknown option '--x'", "Option '--name <value>' argument missing").
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new CliError(`${command}: ${message}`);
  }
}

/** The last value of a string option. */
export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  const last = Array.isArray(value) ? value.at(-1) : value;
  return typeof last === 'string' ? last : undefined;
}

/** Every value of a repeatable string option. */
export function stringOptions(args: ParsedArgs, name: string): string[] {
  const value = args.values[name];
  const all = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return all.filter((v): v is string => typeof v === 'string');
}

export function flag(args: ParsedArgs, name: string): boolean {
  return args.values[name] === true;
}

/** `30d`, `12h`, `90m`, `3600s`, `3600` (seconds) or `never` (0). */
export function parseDuration(text: string): number {
  if (text === 'never') return 0;
  const m = /^(\d+)([smhdy]?)$/.exec(text.trim());
  if (!m) throw new CliError(`cannot read duration "${text}" (use e.g. 30d, 12h, 90m or never)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, y: 365 * 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'y'];
  return Number(m[1]) * unit;
}
