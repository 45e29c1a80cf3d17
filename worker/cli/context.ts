/**
 * What every command gets: the deployment's URL and credentials (resolved only when a command
 * needs them), passwords from stdin, an admin API client and output helpers.
 *
 * Credentials: --url/--user and --password-stdin (the first stdin line), or BERTH_URL,
 * BERTH_USER, BERTH_PASSWORD. A command that reads a password of its own from stdin (`users add
 * NAME --password-stdin`) gets the next line.
 */
import { createInterface } from 'node:readline';
import { CliError } from './args.ts';
import { AdminClient } from './admin-client.ts';
import { RegistryApiClient } from './registry-client.ts';

export interface Credentials {
  url: string;
  username: string;
  password: string;
}

export interface GlobalOptions {
  url?: string;
  user?: string;
  passwordStdin: boolean;
}

export class CommandContext {
  private lines: string[] | undefined;
  private next = 0;
  private credentials: Credentials | undefined;
  private adminClient: AdminClient | undefined;

  constructor(
    readonly globals: GlobalOptions,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** The registry's base URL, checked: a scheme is required. */
  url(): string {
    const raw = this.globals.url ?? this.env.BERTH_URL;
    if (!raw) throw new CliError('no registry URL: use --url URL or BERTH_URL');
    return checkUrl(raw);
  }

  /** URL, user and password; the password from stdin or BERTH_PASSWORD. */
  async login(): Promise<Credentials> {
    if (this.credentials) return this.credentials;
    const url = this.url();
    const username = this.globals.user ?? this.env.BERTH_USER ?? 'admin';
    const password = this.globals.passwordStdin ? await this.stdinLine() : this.env.BERTH_PASSWORD;
    if (!password) throw new CliError('no password: use --password-stdin or BERTH_PASSWORD');
    this.credentials = { url, username, password };
    return this.credentials;
  }

  /** The admin API client, signed in as the CLI's user. */
  async admin(): Promise<AdminClient> {
    this.adminClient ??= new AdminClient(await this.login());
    return this.adminClient;
  }

  /**
   * The /v2 client for the browsing commands: signed in when a password is given (stdin or
   * BERTH_PASSWORD), anonymous otherwise (public repositories only).
   */
  async registry(): Promise<RegistryApiClient> {
    const url = this.url();
    const signedIn = this.globals.passwordStdin || Boolean(this.env.BERTH_PASSWORD);
    return new RegistryApiClient(url, signedIn ? await this.login() : null);
  }

  /** The next line of stdin (all of stdin is read once, on first use). */
  async stdinLine(): Promise<string | undefined> {
    if (!this.lines) {
      if (process.stdin.isTTY) process.stderr.write('(reading passwords from stdin, one per line; end with Ctrl-D)\n');
      this.lines = [];
      for await (const line of createInterface({ input: process.stdin })) this.lines.push(line);
    }
    return this.lines[this.next++];
  }

  /** Pretty JSON on stdout (what `--json` and the machine-readable commands print). */
  printJson(value: unknown): void {
    console.log(JSON.stringify(value, null, 2));
  }
}

export function checkUrl(raw: string): string {
  if (!/^https?:\/\//i.test(raw)) throw new CliError(`registry URL "${raw}" has no scheme: write http://${raw} or https://${raw}`);
  try {
    new URL(raw);
  } catch {
    throw new CliError(`registry URL "${raw}" is not a valid URL`);
  }
  return raw.replace(/\/+$/, '');
}
