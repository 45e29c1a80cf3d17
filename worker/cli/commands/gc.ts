/** `berth gc`: garbage collection of deleted images' storage (admin API, registry/gc.ts). */
import { CliError, flag, parseCommandArgs, parseDuration, stringOption } from '../args.ts';
import { noMore, type Command } from './command.ts';
import type { GcReport } from '../../registry/gc.ts';

export const gcCommand: Command = {
  name: 'gc',
  usage: `gc [--dry-run] [--untagged-manifests] [--keep-unreferenced-layers] [--grace DURATION]
                                            (free storage of deleted images; --dry-run only reports;
                                             --keep-unreferenced-layers keeps layers no manifest uses;
                                             --grace overrides the grace period (default 1h) this once)`,
  async run(ctx, argv) {
    const args = parseCommandArgs('gc', argv, {
      'dry-run': { type: 'boolean' },
      'untagged-manifests': { type: 'boolean' },
      'keep-unreferenced-layers': { type: 'boolean' },
      grace: { type: 'string' },
    });
    noMore(args.positionals, 0, 'gc');
    const grace = stringOption(args, 'grace');
    // `never` means "no expiry" elsewhere; here it would mean no grace at all: say 0 instead.
    if (grace === 'never') throw new CliError('gc: --grace takes a duration (0, 10m, 1h, 2d), not "never"');
    const query = new URLSearchParams({
      dryRun: String(flag(args, 'dry-run')),
      untaggedManifests: String(flag(args, 'untagged-manifests')),
      keepUnreferencedLayers: String(flag(args, 'keep-unreferenced-layers')),
      ...(grace === undefined ? {} : { graceSeconds: String(parseDuration(grace)) }),
    });
    const report = await (await ctx.admin()).call<GcReport>('POST', `/admin/gc?${query}`);
    const verb = report.dryRun ? 'would delete' : 'deleted';
    console.error(
      `gc ${verb} ${report.links.unlinked} layer link(s), ${report.records.deleted} blob record(s), ` +
        `${report.dataObjects.deleted} data object(s) (${report.dataObjects.bytes} bytes), ${report.manifestsDeleted} manifest(s)` +
        `${report.complete ? '' : '; stopped early, run again'}`,
    );
    if (report.young.count > 0) {
      console.error(
        `gc kept ${report.young.count} object(s) (${report.young.bytes} bytes) younger than the grace period of ${report.young.graceSeconds} s ` +
          `(${report.young.links} layer link(s), ${report.young.records} blob record(s), ${report.young.dataObjects} data object(s)); ` +
          'a later run frees them, or --grace 0 when no push is in progress',
      );
    }
    for (const m of report.unparsableManifests) {
      console.error(`warning: ${m.repository}@${m.digest} does not parse (${m.reason}); that repository kept all its layers`);
    }
    ctx.printJson(report);
  },
};
