/** `berth gc`: garbage collection of deleted images' storage (admin API, registry/gc.ts). */
import { flag, parseCommandArgs } from '../args.ts';
import { noMore, type Command } from './command.ts';

interface GcReport {
  dryRun: boolean;
  complete: boolean;
  records: { deleted: number };
  dataObjects: { deleted: number; bytes: number };
  manifestsDeleted: number;
  links: { unlinked: number; bytes: number };
  unparsableManifests: { repository: string; digest: string; reason: string }[];
}

export const gcCommand: Command = {
  name: 'gc',
  usage: `gc [--dry-run] [--untagged-manifests] [--keep-unreferenced-layers]
                                            (free storage of deleted images; --dry-run only reports;
                                             --keep-unreferenced-layers keeps layers no manifest uses)`,
  async run(ctx, argv) {
    const args = parseCommandArgs('gc', argv, {
      'dry-run': { type: 'boolean' },
      'untagged-manifests': { type: 'boolean' },
      'keep-unreferenced-layers': { type: 'boolean' },
    });
    noMore(args.positionals, 0, 'gc');
    const query = new URLSearchParams({
      dryRun: String(flag(args, 'dry-run')),
      untaggedManifests: String(flag(args, 'untagged-manifests')),
      keepUnreferencedLayers: String(flag(args, 'keep-unreferenced-layers')),
    });
    const report = await (await ctx.admin()).call<GcReport>('POST', `/admin/gc?${query}`);
    const verb = report.dryRun ? 'would delete' : 'deleted';
    console.error(
      `gc ${verb} ${report.links.unlinked} layer link(s), ${report.records.deleted} blob record(s), ` +
        `${report.dataObjects.deleted} data object(s) (${report.dataObjects.bytes} bytes), ${report.manifestsDeleted} manifest(s)` +
        `${report.complete ? '' : '; stopped early, run again'}`,
    );
    for (const m of report.unparsableManifests) {
      console.error(`warning: ${m.repository}@${m.digest} does not parse (${m.reason}); that repository kept all its layers`);
    }
    ctx.printJson(report);
  },
};
