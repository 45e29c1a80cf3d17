/** `berth webhooks …`: event notifications (admin API /admin/webhooks, registry/webhooks/). */
import { CliError, flag, parseCommandArgs, stringOption } from '../args.ts';
import { group, noMore, required, type Command } from './command.ts';
import type { Attempt, DeliveryRecord } from '../../registry/webhooks/deliveries.ts';
import type { WebhookView } from '../../registry/webhooks/hooks.ts';

type DeliveryView = Omit<DeliveryRecord, 'body' | 'leaseUntil'>;

const enc = encodeURIComponent;

function attemptText(a: Attempt | undefined): string {
  if (!a) return 'not tried yet';
  return `${a.status !== undefined ? `HTTP ${a.status}` : a.error ?? 'failed'}${a.status !== undefined && a.error ? ` (${a.error})` : ''} at ${a.at} in ${a.ms} ms`;
}

function deliveryLine(d: DeliveryView): string {
  const next = d.state === 'pending' && d.nextAttemptAt ? `, next attempt ${d.nextAttemptAt}` : '';
  return `${d.createdAt}\t${d.state}\t${d.summary}\t${d.attempts} attempt(s), last: ${attemptText(d.last.at(-1))}${next}`;
}

export const webhooksCommand: Command = group(
  'webhooks',
  `webhooks add URL [--events push,delete,pull] [--repos GLOB] [--secret S | --secret-stdin] [--allow-internal]
                                            (POSTs a Distribution-style event envelope; with a secret,
                                             X-Berth-Signature-256: sha256=<HMAC of the body>)
  webhooks list
  webhooks log ID [--limit N]               (the hook's deliveries, newest first, with their attempts)
  webhooks test ID                          (one signed test event now)
  webhooks remove ID`,
  {
    async add(ctx, argv) {
      const args = parseCommandArgs('webhooks add', argv, {
        events: { type: 'string' },
        repos: { type: 'string' },
        secret: { type: 'string' },
        'secret-stdin': { type: 'boolean' },
        'allow-internal': { type: 'boolean' },
      });
      const url = required(args.positionals, 0, 'webhooks add', 'URL');
      noMore(args.positionals, 1, 'webhooks add');
      if (!/^https?:\/\//i.test(url)) throw new CliError(`webhooks add: URL "${url}" must start with http:// or https://`);
      const api = await ctx.admin(); // the admin's password is the first stdin line
      let secret = stringOption(args, 'secret');
      if (flag(args, 'secret-stdin')) {
        if (secret !== undefined) throw new CliError('webhooks add: give --secret or --secret-stdin, not both');
        secret = await ctx.stdinLine();
        if (!secret) throw new CliError('webhooks add: no secret on stdin');
      }
      const events = stringOption(args, 'events')?.split(',').map((e) => e.trim()).filter(Boolean);
      const hook = await api.call<WebhookView>('POST', '/admin/webhooks', {
        url, events, repos: stringOption(args, 'repos'), secret, allowInternal: flag(args, 'allow-internal') || undefined,
      });
      console.log(`${hook.id}\t${hook.url}\tevents=${hook.events.join(',')}\trepos=${hook.repos}\tsigned=${hook.hasSecret ? 'yes' : 'no'}`);
    },
    async list(ctx, argv) {
      noMore(parseCommandArgs('webhooks list', argv, {}).positionals, 0, 'webhooks list');
      const { webhooks } = await (await ctx.admin()).call<{ webhooks: (WebhookView & { lastDelivery: DeliveryView | null })[] }>('GET', '/admin/webhooks');
      for (const h of webhooks) {
        const last = h.lastDelivery ? `${h.lastDelivery.state} ${h.lastDelivery.summary} (${attemptText(h.lastDelivery.last.at(-1))})` : 'no deliveries yet';
        console.log(`${h.id}\t${h.url}\tevents=${h.events.join(',')}\trepos=${h.repos}\tsigned=${h.hasSecret ? 'yes' : 'no'}${h.allowInternal ? '\tinternal allowed' : ''}\tlast: ${last}`);
      }
    },
    async log(ctx, argv) {
      const args = parseCommandArgs('webhooks log', argv, { limit: { type: 'string' } });
      const id = required(args.positionals, 0, 'webhooks log', 'ID');
      noMore(args.positionals, 1, 'webhooks log');
      const limit = stringOption(args, 'limit') ?? '20';
      const { deliveries } = await (await ctx.admin()).call<{ deliveries: DeliveryView[] }>('GET', `/admin/webhooks/${enc(id)}/deliveries?limit=${enc(limit)}`);
      for (const d of deliveries) console.log(deliveryLine(d));
      if (deliveries.length === 0) console.error(`webhooks log: ${id} has no deliveries yet`);
    },
    async test(ctx, argv) {
      const { positionals } = parseCommandArgs('webhooks test', argv, {});
      const id = required(positionals, 0, 'webhooks test', 'ID');
      noMore(positionals, 1, 'webhooks test');
      const result = await (await ctx.admin()).call<Attempt & { delivered: boolean }>('POST', `/admin/webhooks/${enc(id)}/test`);
      if (!result.delivered) throw new CliError(`webhooks test: not delivered: ${attemptText(result)}`, 1);
      console.log(`delivered: ${attemptText(result)}`);
    },
    async remove(ctx, argv) {
      const { positionals } = parseCommandArgs('webhooks remove', argv, {});
      const id = required(positionals, 0, 'webhooks remove', 'ID');
      noMore(positionals, 1, 'webhooks remove');
      await (await ctx.admin()).call('DELETE', `/admin/webhooks/${enc(id)}`);
      console.log(`removed ${id}`);
    },
  },
);
