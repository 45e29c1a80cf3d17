/** A small argv parser: `--flag`, `--key value`, `--key=value` (repeatable), positionals. */

export interface Parsed {
  positionals: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

/** Options that take a value; everything else starting with `--` is a boolean flag. */
const VALUED = new Set(['url', 'user', 'password', 'name', 'scope', 'expires', 'owner', 'rule']);

export function parseArgs(argv: readonly string[]): Parsed {
  const parsed: Parsed = { positionals: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      parsed.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      parsed.positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const key = arg.slice(2, eq > 0 ? eq : undefined);
    if (!VALUED.has(key)) {
      parsed.flags.add(key);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    parsed.options.set(key, [...(parsed.options.get(key) ?? []), value]);
  }
  return parsed;
}

/** `30d`, `12h`, `90m`, `3600s`, `3600` (seconds) or `never` (0). */
export function parseDuration(text: string): number {
  if (text === 'never') return 0;
  const m = /^(\d+)([smhdy]?)$/.exec(text.trim());
  if (!m) throw new Error(`cannot read duration "${text}" (use e.g. 30d, 12h, 90m or never)`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, y: 365 * 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd' | 'y'];
  return Number(m[1]) * unit;
}
