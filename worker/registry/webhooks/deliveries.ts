/**
 * The delivery queue and log, in the bucket so that they outlive the instance that made them
 * (a Node restart, a Worker isolate, a frozen Lambda) and every instance sees the same log.
 *
 * One record per (event, hook) at `webhooks/deliveries/<hook>/<seq>`: the envelope exactly as it
 * is sent on every attempt (so the signature of a retry matches), its state and its last
 * attempts. While it is still to be tried, a marker at `webhooks/pending/<hook>/<seq>` puts it
 * in the queue the scheduled job and Node's start-up sweep. `<seq>` counts down with time, so a
 * hook's deliveries list newest first: the first page is the log `berth webhooks log` prints.
 */
import type { ObjectStore } from '../../storage/types.ts';
import { afterPrefix, keyOf } from '../keys.ts';
import { readJson, writeJson } from '../json-objects.ts';
import { mapLimit } from '../concurrency.ts';
import { listPages } from '../list-pages.ts';

export interface Attempt {
  at: string;
  /** HTTP status of the receiver's answer, when it answered. */
  status?: number;
  /** Why the attempt failed without an answer (timeout, refused, redirect not followed…). */
  error?: string;
  ms: number;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  hookId: string;
  seq: string;
  createdAt: string;
  /** `push prod/app:1.0.0`: what the log shows. */
  summary: string;
  /** The envelope JSON, byte for byte what every attempt sends. */
  body: string;
  state: DeliveryState;
  attempts: number;
  /** The last attempts, oldest first (at most MAX_KEPT_ATTEMPTS). */
  last: Attempt[];
  nextAttemptAt?: string;
  /** An instance is attempting it until then; others leave it alone. */
  leaseUntil?: string;
}

export const MAX_KEPT_ATTEMPTS = 10;
/** Deliveries kept per hook (the log); older finished ones are pruned by the sweep. */
export const KEPT_DELIVERIES = 100;
const SEQ_DIGITS = 15;
const SEQ_TOP = 10 ** SEQ_DIGITS - 1;

/** A key part that sorts newest first: (top − ms) zero-padded, then a random tail for uniqueness. */
export function newSeq(now: Date): string {
  const countdown = String(SEQ_TOP - now.getTime()).padStart(SEQ_DIGITS, '0');
  const tail = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${countdown}-${tail}`;
}

const SEQ = /^\d{15}-[0-9a-f]{8}$/;

export class Deliveries {
  constructor(private readonly store: ObjectStore) {}

  /** Queues a new delivery, leased to its creator until `leaseUntil` (it attempts it first). */
  async create(hookId: string, body: string, summary: string, now: Date, leaseUntil: string): Promise<DeliveryRecord> {
    const record: DeliveryRecord = {
      hookId, seq: newSeq(now), createdAt: now.toISOString(), summary, body, state: 'pending', attempts: 0, last: [],
      nextAttemptAt: now.toISOString(), leaseUntil,
    };
    await writeJson(this.store, keyOf({ kind: 'webhookDelivery', hookId, seq: record.seq }), record);
    await writeJson(this.store, keyOf({ kind: 'webhookPending', hookId, seq: record.seq }), {});
    return record;
  }

  get(hookId: string, seq: string): Promise<DeliveryRecord | null> {
    if (!SEQ.test(seq)) return Promise.resolve(null);
    return readJson<DeliveryRecord>(this.store, keyOf({ kind: 'webhookDelivery', hookId, seq }));
  }

  /**
   * Writes the record; a finished one leaves the queue. (The marker is written once, at create:
   * one write per attempt is all a retry costs.)
   */
  async save(record: DeliveryRecord): Promise<void> {
    await writeJson(this.store, keyOf({ kind: 'webhookDelivery', hookId: record.hookId, seq: record.seq }), record);
    if (record.state !== 'pending') await this.store.delete(keyOf({ kind: 'webhookPending', hookId: record.hookId, seq: record.seq }));
  }

  /** Every queued delivery, as (hook, seq) pairs. */
  async *pending(): AsyncGenerator<{ hookId: string; seq: string }[]> {
    const prefix = keyOf({ kind: 'webhookPendings' });
    for await (const page of listPages(this.store, prefix)) {
      yield page.flatMap((o) => {
        const [hookId, seq, extra] = afterPrefix(o.key, prefix).split('/');
        return hookId && seq && extra === undefined ? [{ hookId, seq }] : [];
      });
    }
  }

  /** The hook's newest deliveries, newest first. */
  async log(hookId: string, limit: number): Promise<DeliveryRecord[]> {
    const page = await this.store.list({ prefix: keyOf({ kind: 'webhookDeliveries', hookId }), limit });
    const records = await mapLimit(page.objects, 8, (o) => readJson<DeliveryRecord>(this.store, o.key));
    return records.filter((r): r is DeliveryRecord => r !== null);
  }

  /** Deletes finished deliveries beyond the newest KEPT_DELIVERIES of the hook. */
  async prune(hookId: string): Promise<number> {
    const prefix = keyOf({ kind: 'webhookDeliveries', hookId });
    let seen = 0;
    let pruned = 0;
    for await (const page of listPages(this.store, prefix)) {
      for (const object of page) {
        if (++seen <= KEPT_DELIVERIES) continue;
        const seq = afterPrefix(object.key, prefix);
        if (await this.store.head(keyOf({ kind: 'webhookPending', hookId, seq }))) continue;
        await this.store.delete(object.key);
        pruned++;
      }
    }
    return pruned;
  }

  /** Everything of a removed hook: its queue markers first, so no sweep picks one up. */
  async removeAll(hookId: string): Promise<void> {
    for (const prefix of [keyOf({ kind: 'webhookPendings', hookId }), keyOf({ kind: 'webhookDeliveries', hookId })]) {
      for await (const page of listPages(this.store, prefix)) await mapLimit(page, 8, (o) => this.store.delete(o.key));
    }
  }
}
