#!/usr/bin/env -S npx tsx
/**
 * `berth`: the command line for any Berth deployment, over HTTP: browsing through the registry
 * API (/v2/: repos, tags, show, delete), administration through the admin API (/admin/).
 *
 *   npx berth --url https://registry.example --user admin --password-stdin users list
 *   (in the clone `npx berth` is this file: package.json "bin"; `npm run berth --` is the same)
 *
 * Global options come before the command; each command parses its own (commands/). A mistake
 * is one line on stderr naming it, exit code 2; a failure of the registry or the network, exit 1.
 */
import { CliError, parseCommandArgs, stringOption } from './args.ts';
import { COMMANDS } from './commands/index.ts';
import { CommandContext } from './context.ts';

const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  user: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  password: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(): string {
  const lines = COMMANDS.map((c) => `  ${c.usage}`).join('\n');
  return `usage: berth [--url URL] [--user USER] [--password-stdin] <command>

${lines}

environment: BERTH_URL, BERTH_USER, BERTH_PASSWORD`;
}

/** Index of the command word: the first argument that is neither a global option nor its value. */
function commandIndex(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--url' || arg === '--user' || arg === '--password') i++;
    else if (!arg.startsWith('-')) return i;
  }
  return argv.length;
}

async function main(argv: readonly string[]): Promise<void> {
  const at = commandIndex(argv);
  const globals = parseCommandArgs('berth', argv.slice(0, at), GLOBAL_OPTIONS);
  const name = argv[at];
  if (globals.values.help === true || name === undefined || name === 'help') {
    console.log(usage());
    return;
  }
  if (globals.values.password !== undefined) {
    throw new CliError('pass passwords with --password-stdin or BERTH_PASSWORD, not on the command line');
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new CliError(`unknown command "${name}" (one of: ${COMMANDS.map((c) => c.name).join(', ')}; berth --help)`);
  const ctx = new CommandContext({
    url: stringOption(globals, 'url'),
    user: stringOption(globals, 'user'),
    passwordStdin: globals.values['password-stdin'] === true,
  });
  await command.run(ctx, argv.slice(at + 1));
}

// `berth show … | head` closes stdout early: that ends the output, it is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliError) {
    console.error(`berth: ${error.message}`);
    process.exit(error.exitCode);
  }
  console.error(`berth: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
