/** `berth retention [--dry-run]`: apply the policies' retention rules now (POST /admin/retention). */
import { flag, parseCommandArgs } from '../args.ts';
import { noMore, type Command } from './command.ts';
import type { RetentionReport } from '../../registry/retention.ts';

export const retentionCommand: Command = {
  name: 'retention',
  usage: `retention [--dry-run] [--json]                (delete what the policies' keep rules let go, and
                                             print every tag and manifest; --dry-run only reports)`,
  async run(ctx, argv) {
    const args = parseCommandArgs('retention', argv, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } });
    noMore(args.positionals, 0, 'retention');
    const report = await (await ctx.admin()).call<RetentionReport>('POST', `/admin/retention?dryRun=${flag(args, 'dry-run')}`);
    if (flag(args, 'json')) return ctx.printJson(report);
    const verb = report.dryRun ? 'would delete' : 'deleted';
    for (const t of report.tags) console.log(`${verb} tag ${t.repository}:${t.tag}\t${t.digest}\tpushed ${t.pushedAt}\tpolicy ${t.policy}`);
    for (const m of report.manifests) console.log(`${verb} manifest ${m.repository}@${m.digest}\tuntagged\tpolicy ${m.policy}`);
    console.error(
      `retention ${verb} ${report.tags.length} tag(s) and ${report.manifests.length} manifest(s) in ` +
        `${report.repositories} repositor${report.repositories === 1 ? 'y' : 'ies'} under a retention policy` +
        `${report.complete ? '' : '; stopped early, run again'}` +
        `${report.dryRun || report.manifests.length === 0 ? '' : '; `berth gc` frees their layers'}`,
    );
  },
};
