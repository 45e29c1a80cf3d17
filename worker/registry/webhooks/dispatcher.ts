/**
 * Webhook delivery: turns registry events into queued deliveries and tries them, never in the
 * way of the request that caused them.
 *
 * `notify` is called by a route after its answer is decided and hands the work to the
 * platform's background seam (`c.get('background')`: Workers `waitUntil`, Node and Lambda run
 * on), so a slow or dead receiver never delays or fails a push. In that background task the
 * event is matched against the hooks, each delivery is written to the bucket first (the queue,
 * deliveries.ts) and then attempted; a failure is retried on the schedule of backoff.ts:
 * - within the same task while the next attempt is due soon (IN_TASK_RETRY_MS: inside the time a
 *   Worker's waitUntil grants);
 * - later attempts on Node (`timers: true`) from an in-process timer, and after a restart from
 *   the start-up sweep (`resume`);
 * - everywhere, by the scheduled job's sweep (scheduled.ts): the cron trigger on Workers, the
 *   EventBridge rule on Lambda, Node's own timer as a safety net.
 * Several instances may see one pending delivery: a lease in the record (`leaseUntil`) keeps a
 * second one from attempting it meanwhile. Delivery is therefore at least once (a receiver may
 * see a retry of an attempt whose answer was lost: `X-Berth-Delivery` and the event id repeat).
 */
import type { ObjectStore } from '../../storage/types.ts';
import type { Logger } from '../../observe/logger.ts';
import { KeyedLimiter, mapLimit } from '../concurrency.ts';
import type { Clock } from '../tag-writes.ts';
import { nextAttemptAt } from './backoff.ts';
import { Deliveries, MAX_KEPT_ATTEMPTS, type Attempt, type DeliveryRecord } from './deliveries.ts';
import { envelopeEvent, summarize, type Envelope, type RegistryEvent } from './envelope.ts';
import { hookWants, WebhookStore, type WebhookRecord } from './hooks.ts';
import { ATTEMPT_TIMEOUT_MS, sendOnce, succeeded } from './sender.ts';

export interface WebhooksOptions {
  clock?: Clock;
  logger?: Logger;
  /** Node: retries wait in this process whatever their delay (the process lives on). */
  timers?: boolean;
}

export interface SweepReport {
  attempted: number;
  delivered: number;
  failed: number;
  /** Still queued after the sweep (not due yet, leased elsewhere, or failed again). */
  pending: number;
  pruned: number;
  complete: boolean;
}

/** How long a background task keeps retrying before leaving it to timers or the sweep. */
const IN_TASK_RETRY_MS = 20_000;
/** A lease outlives one attempt by this much. */
const LEASE_MARGIN_MS = 5_000;
const SWEEP_CONCURRENCY = 4;
/**
 * Attempts in flight per hook in one instance: a receiver that hangs holds this many sockets
 * (each for ATTEMPT_TIMEOUT_MS), not one per push; the other deliveries wait their turn.
 */
const ATTEMPTS_PER_HOOK = 4;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export class Webhooks {
  readonly hooks: WebhookStore;
  readonly deliveries: Deliveries;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly timers: boolean;
  /** Identifies this instance in `source.instanceID`. */
  private readonly instanceId = crypto.randomUUID();
  private readonly scheduled = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly perHook = new KeyedLimiter(ATTEMPTS_PER_HOOK);

  constructor(store: ObjectStore, options: WebhooksOptions = {}) {
    this.hooks = new WebhookStore(store);
    this.deliveries = new Deliveries(store);
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger;
    this.timers = options.timers ?? false;
  }

  /**
   * Reports an event; returns at once. With the hook list cached and no hook wanting the event
   * (the common case), nothing at all is scheduled.
   */
  notify(event: RegistryEvent, background: (task: Promise<unknown>) => void): void {
    const cached = this.hooks.fresh();
    if (cached && !cached.some((hook) => hookWants(hook, event.action, event.repository))) return;
    background(this.dispatch(event).catch((error: unknown) => this.logger?.error('webhook dispatch failed', { error: String(error) })));
  }

  private async dispatch(event: RegistryEvent): Promise<void> {
    const hooks = (await this.hooks.all()).filter((hook) => hookWants(hook, event.action, event.repository));
    if (hooks.length === 0) return;
    const taskStarted = Date.now();
    const envelope = this.envelope(event);
    await Promise.all(hooks.map(async (hook) => {
      const record = await this.enqueue(hook, envelope);
      await this.run(hook, record, taskStarted);
    }));
  }

  private envelope(event: RegistryEvent): Envelope {
    return { events: [envelopeEvent(event, { id: crypto.randomUUID(), timestamp: this.clock(), instanceId: this.instanceId })] };
  }

  /** Writes the delivery leased to this instance, so no sweep attempts it before we do. */
  private enqueue(hook: WebhookRecord, envelope: Envelope): Promise<DeliveryRecord> {
    const now = this.clock();
    return this.deliveries.create(hook.id, JSON.stringify(envelope), envelope.events.map(summarize).join(', '), now, this.leaseFrom(now));
  }

  /**
   * A lease covers one attempt: an instance that dies holding one delays that delivery by at
   * most ATTEMPT_TIMEOUT_MS + LEASE_MARGIN_MS, and between attempts nobody holds it.
   */
  private leaseFrom(now: Date): string {
    return new Date(now.getTime() + ATTEMPT_TIMEOUT_MS + LEASE_MARGIN_MS).toISOString();
  }

  /** Attempts, then retries here while the next attempt is due soon; later ones wait elsewhere. */
  private async run(hook: WebhookRecord, leased: DeliveryRecord, taskStarted: number): Promise<void> {
    let record: DeliveryRecord | null = leased;
    while (record) {
      const { leaseUntil: _lease, ...next } = this.afterAttempt(record, await this.send(hook, record));
      await this.save(hook, next);
      if (next.state !== 'pending' || !next.nextAttemptAt) return;
      const wait = Date.parse(next.nextAttemptAt) - this.clock().getTime();
      if (Date.now() - taskStarted + wait > IN_TASK_RETRY_MS) {
        if (this.timers) this.schedule(next, wait);
        return;
      }
      await sleep(wait);
      // Released while waiting: a sweep elsewhere may have taken it since.
      record = await this.claim(next.hookId, next.seq);
    }
  }

  /**
   * Takes the lease on a pending delivery that is due, or answers null when it is not this
   * instance's to try now: finished, or (with timers) rescheduled for when it is due or its
   * lease ends (an instance that took it may have died holding it).
   */
  private async claim(hookId: string, seq: string): Promise<DeliveryRecord | null> {
    const record = await this.deliveries.get(hookId, seq);
    if (!record || record.state !== 'pending') return null;
    const now = this.clock().getTime();
    const free = Math.max(Date.parse(record.leaseUntil ?? '') || 0, Date.parse(record.nextAttemptAt ?? '') || 0);
    if (free > now) {
      if (this.timers) this.schedule(record, free - now);
      return null;
    }
    const leased = { ...record, leaseUntil: this.leaseFrom(new Date(now)) };
    await this.deliveries.save(leased);
    return leased;
  }

  private send(hook: WebhookRecord, record: DeliveryRecord): Promise<Attempt> {
    const action = (JSON.parse(record.body) as Envelope).events[0]?.action ?? 'push';
    return this.perHook.run(hook.id, () => sendOnce({ hook, body: record.body, deliveryId: `${record.hookId}/${record.seq}`, action, now: this.clock }));
  }

  private async save(hook: WebhookRecord, record: DeliveryRecord): Promise<void> {
    await this.deliveries.save(record);
    const attempt = record.last.at(-1);
    this.logger?.[record.state === 'failed' ? 'warn' : 'info']('webhook delivery', {
      hook: hook.id, host: new URL(hook.url).host, delivery: record.seq, event: record.summary, attempt: record.attempts,
      status: attempt?.status, error: attempt?.error, ms: attempt?.ms, state: record.state, nextAttemptAt: record.nextAttemptAt,
    });
  }

  /** The record after one more attempt: delivered, pending with its next time, or failed for good. */
  private afterAttempt(record: DeliveryRecord, attempt: Attempt): DeliveryRecord {
    const { nextAttemptAt: _next, ...rest } = record;
    const next: DeliveryRecord = { ...rest, attempts: record.attempts + 1, last: [...record.last, attempt].slice(-MAX_KEPT_ATTEMPTS) };
    if (succeeded(attempt)) return { ...next, state: 'delivered' };
    const when = nextAttemptAt(next.attempts, new Date(record.createdAt), new Date(attempt.at));
    return when ? { ...next, state: 'pending', nextAttemptAt: when.toISOString() } : { ...next, state: 'failed' };
  }

  /** Node: try the delivery again from this process when it is due. */
  private schedule(record: DeliveryRecord, waitMs: number): void {
    const id = `${record.hookId}/${record.seq}`;
    if (this.scheduled.has(id)) return;
    const timer = setTimeout(() => {
      this.scheduled.delete(id);
      void this.retry(record.hookId, record.seq);
    }, Math.max(0, waitMs));
    (timer as { unref?: () => void }).unref?.();
    this.scheduled.set(id, timer);
  }

  private async retry(hookId: string, seq: string): Promise<'attempted' | 'skipped'> {
    try {
      const hook = await this.hooks.get(hookId);
      if (!hook) return 'skipped';
      const record = await this.claim(hookId, seq);
      if (!record) return 'skipped';
      await this.run(hook, record, Date.now());
      return 'attempted';
    } catch (error) {
      this.logger?.error('webhook retry failed', { hook: hookId, delivery: seq, error: String(error) });
      return 'skipped';
    }
  }

  /**
   * Tries every queued delivery that is due (the scheduled job; Node at start-up) and prunes each
   * hook's log. With `timers`, deliveries not yet due get a timer. Stops at `deadlineMs`.
   */
  async sweep(options: { deadlineMs?: number } = {}): Promise<SweepReport> {
    const started = Date.now();
    const report: SweepReport = { attempted: 0, delivered: 0, failed: 0, pending: 0, pruned: 0, complete: true };
    const hooks = new Map((await this.hooks.all()).map((hook) => [hook.id, hook]));
    const outOfTime = (): boolean => options.deadlineMs !== undefined && Date.now() - started > options.deadlineMs;
    for await (const page of this.deliveries.pending()) {
      if (outOfTime()) {
        report.complete = false;
        break;
      }
      await mapLimit(page, SWEEP_CONCURRENCY, async ({ hookId, seq }) => {
        const hook = hooks.get(hookId) ?? (await this.hooks.get(hookId));
        const record = await this.deliveries.get(hookId, seq);
        if (!record) return;
        if (!hook) return this.deliveries.save({ ...record, state: 'failed' }); // the hook is gone
        const claimed = await this.claim(hookId, seq);
        if (!claimed) {
          report.pending++;
          return;
        }
        report.attempted++;
        const { leaseUntil: _lease, ...after } = this.afterAttempt(claimed, await this.send(hook, claimed));
        await this.save(hook, after);
        if (after.state === 'delivered') report.delivered++;
        else if (after.state === 'failed') report.failed++;
        else {
          report.pending++;
          if (this.timers && after.nextAttemptAt) this.schedule(after, Date.parse(after.nextAttemptAt) - this.clock().getTime());
        }
      });
    }
    for (const id of hooks.keys()) report.pruned += await this.deliveries.prune(id);
    return report;
  }

  /** `berth webhooks test ID`: one signed `test` event now, no retries; logged like the others. */
  async test(hook: WebhookRecord, event: Omit<RegistryEvent, 'action' | 'repository'>): Promise<Attempt> {
    const envelope = this.envelope({ ...event, action: 'test', repository: 'berth/webhook-test' });
    const now = this.clock();
    const record = await this.deliveries.create(hook.id, JSON.stringify(envelope), 'test', now, this.leaseFrom(now));
    const attempt = await sendOnce({ hook, body: record.body, deliveryId: `${hook.id}/${record.seq}`, action: 'test', now: this.clock });
    const { leaseUntil: _lease, nextAttemptAt: _next, ...rest } = record;
    await this.deliveries.save({ ...rest, attempts: 1, last: [attempt], state: succeeded(attempt) ? 'delivered' : 'failed' });
    return attempt;
  }

  /** Removes a hook, its queue and its log; timers of this instance find it gone and stop. */
  async remove(id: string): Promise<boolean> {
    if (!(await this.hooks.remove(id))) return false;
    await this.deliveries.removeAll(id);
    return true;
  }
}
