/** `berth policy …`: repository policies (admin API /admin/policies, registry/policy-rules.ts). */
import { CliError, flag, parseCommandArgs, parseDuration, stringOption, stringOptions, type ParsedArgs } from '../args.ts';
import { group, noMore, required, type Command } from './command.ts';
import type { RepositoryPolicy } from '../../registry/policy-rules.ts';

type PolicyView = RepositoryPolicy;

/** Tag globs, given as repeated options and/or comma-separated (`--immutable-tags 'v*,rc-*'`). */
function globs(args: ParsedArgs, name: string): string[] | undefined {
  const values = stringOptions(args, name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  return values.length > 0 ? values : undefined;
}

function wholeNumber(args: ParsedArgs, name: string): number | undefined {
  const text = stringOption(args, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text)) throw new CliError(`policy set: --${name} must be a whole number, got "${text}"`);
  return Number(text);
}

function describePolicy(p: PolicyView): string {
  const parts = [p.pattern];
  if (p.immutableTags.length) parts.push(`immutable-tags=${p.immutableTags.join(',')}`);
  if (p.keepLast !== undefined) parts.push(`keep-last=${p.keepLast}`);
  if (p.keepDays !== undefined) parts.push(`keep-days=${p.keepDays}`);
  if (p.protectTags.length) parts.push(`protect-tags=${p.protectTags.join(',')}`);
  if (p.deleteUntaggedAfterSeconds !== undefined) parts.push(`delete-untagged-after=${p.deleteUntaggedAfterSeconds}s`);
  if (p.expireImmutable) parts.push('expire-immutable');
  return parts.join('\t');
}

export const policyCommand: Command = group(
  'policy',
  `policy set PATTERN [--immutable-tags GLOB...] [--keep-last N] [--keep-days D] [--protect-tags GLOB...]
             [--delete-untagged-after DURATION] [--expire-immutable]
                                            (replaces PATTERN's policy; the longest matching pattern
                                             governs a repository; globs repeat or take commas)
  policy list
  policy show REPOSITORY                    (the policy that governs REPOSITORY)
  policy delete PATTERN`,
  {
    async set(ctx, argv) {
      const args = parseCommandArgs('policy set', argv, {
        'immutable-tags': { type: 'string', multiple: true },
        'keep-last': { type: 'string' },
        'keep-days': { type: 'string' },
        'protect-tags': { type: 'string', multiple: true },
        'delete-untagged-after': { type: 'string' },
        'expire-immutable': { type: 'boolean' },
      });
      const pattern = required(args.positionals, 0, 'policy set', 'PATTERN');
      noMore(args.positionals, 1, 'policy set');
      const untagged = stringOption(args, 'delete-untagged-after');
      const body = {
        pattern,
        immutableTags: globs(args, 'immutable-tags'),
        keepLast: wholeNumber(args, 'keep-last'),
        keepDays: wholeNumber(args, 'keep-days'),
        protectTags: globs(args, 'protect-tags'),
        deleteUntaggedAfterSeconds: untagged === undefined ? undefined : parseDuration(untagged),
        expireImmutable: flag(args, 'expire-immutable') || undefined,
      };
      const policy = await (await ctx.admin()).call<PolicyView>('PUT', '/admin/policies', body);
      console.log(`policy set: ${describePolicy(policy)}`);
    },
    async list(ctx, argv) {
      noMore(parseCommandArgs('policy list', argv, {}).positionals, 0, 'policy list');
      const { policies } = await (await ctx.admin()).call<{ policies: PolicyView[] }>('GET', '/admin/policies');
      for (const p of policies) console.log(describePolicy(p));
    },
    async show(ctx, argv) {
      const { positionals } = parseCommandArgs('policy show', argv, {});
      const repository = required(positionals, 0, 'policy show', 'REPOSITORY');
      noMore(positionals, 1, 'policy show');
      const policy = await (await ctx.admin()).call<PolicyView>('GET', `/admin/policies/for?repository=${encodeURIComponent(repository)}`);
      console.log(describePolicy(policy));
    },
    async delete(ctx, argv) {
      const { positionals } = parseCommandArgs('policy delete', argv, {});
      const pattern = required(positionals, 0, 'policy delete', 'PATTERN');
      noMore(positionals, 1, 'policy delete');
      await (await ctx.admin()).call('DELETE', `/admin/policies?pattern=${encodeURIComponent(pattern)}`);
      console.log(`deleted the policy of ${pattern}`);
    },
  },
);
