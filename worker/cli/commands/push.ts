/**
 * `berth push SOURCE [HOST/]REPO[:TAG]`: pushes an image from a local source to the deployment,
 * with the layer bytes going straight to its bucket where it can presign (worker/cli/push/).
 *
 * The registry: --url or BERTH_URL, else the HOST the target names (http:// for loopback,
 * https:// otherwise). Credentials: see push/credentials.ts.
 */
import { CliError, parseCommandArgs, stringOption } from '../args.ts';
import { checkUrl, type CommandContext } from '../context.ts';
import { dockerCredentials, type PushCredentials } from '../push/credentials.ts';
import { formatBytes, progressFor } from '../push/progress.ts';
import { push } from '../push/push.ts';
import { parseSource, parseTarget, type Target } from '../push/reference.ts';
import { cacheDir } from '../push/state.ts';
import { noMore, required, type Command } from './command.ts';

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/;

function registryUrl(ctx: CommandContext, target: Target): string {
  const given = ctx.globals.url ?? process.env.BERTH_URL;
  if (given) {
    const url = checkUrl(given);
    if (target.host && target.host !== new URL(url).host) {
      throw new CliError(`push: the image names registry ${target.host} but the URL is ${url}; name one registry`);
    }
    return url;
  }
  if (!target.host) throw new CliError('push: no registry: use --url URL, BERTH_URL, or HOST/REPO:TAG');
  return `${LOOPBACK.test(target.host) ? 'http' : 'https'}://${target.host}`;
}

async function credentialsFor(ctx: CommandContext, host: string): Promise<PushCredentials> {
  const username = ctx.globals.user ?? process.env.BERTH_USER;
  if (ctx.globals.passwordStdin) {
    const password = await ctx.stdinLine();
    if (!password) throw new CliError('push: --password-stdin given but stdin has no password');
    return { kind: 'basic', username: username ?? 'admin', password, from: '--password-stdin' };
  }
  const password = process.env.BERTH_PASSWORD;
  if (password) return { kind: 'basic', username: username ?? 'admin', password, from: 'BERTH_PASSWORD' };
  return dockerCredentials(host) ?? { kind: 'none' };
}

export const pushCommand: Command = {
  name: 'push',
  usage: `push SOURCE [HOST/]REPO[:TAG] [--concurrency N]
                                            (SOURCE: docker-daemon:IMAGE[:TAG], oci:DIR[:REF] or
                                             docker-archive:FILE; layers go straight to the bucket,
                                             or in chunks under the deployment's body limit)`,
  async run(ctx, argv) {
    const args = parseCommandArgs('push', argv, { concurrency: { type: 'string' } });
    const source = parseSource(required(args.positionals, 0, 'push', 'SOURCE (e.g. docker-daemon:app:1.0)'));
    const target = parseTarget(required(args.positionals, 1, 'push', 'REPO:TAG'));
    noMore(args.positionals, 2, 'push');
    const rawConcurrency = stringOption(args, 'concurrency') ?? '4';
    const concurrency = Number(rawConcurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
      throw new CliError(`push: --concurrency must be a whole number from 1 to 32, got "${rawConcurrency}"`);
    }
    const url = registryUrl(ctx, target);
    const host = new URL(url).host;
    const progress = progressFor();
    const started = performance.now();
    try {
      const report = await push({
        url, source, target, concurrency, progress,
        credentials: await credentialsFor(ctx, host),
        cacheDir: cacheDir(),
      });
      progress.stop();
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.error(
        `pushed ${report.uploaded} blob(s) (${formatBytes(report.bytesSent)}), ${report.present} already there, ` +
          `${report.mounted} mounted, in ${seconds} s`,
      );
      // The line `docker push` ends with, so scripts can read the digest the same way.
      console.log(`${target.tag}: digest: ${report.digest} size: ${report.size}`);
    } finally {
      progress.stop();
    }
  },
};
