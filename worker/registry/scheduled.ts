/**
 * The scheduled cleanup job, one module for every runtime: Node's timer, the Workers cron
 * trigger and the Lambda EventBridge rule all call `runScheduledJob`. It expires upload
 * sessions older than BERTH_UPLOAD_EXPIRY_SECONDS, retries the webhook deliveries that are due
 * (webhooks/dispatcher.ts: on Workers and Lambda this is how later retries happen), applies the
 * repository policies' retention
 * rules (retention.ts; nothing to do, one listing, when no policy asks for retention), then, with
 * BERTH_GC_ON_SCHEDULE=true, collects garbage, so that what retention untagged this run is freed
 * in the same run. The three share the runtime's time budget (webhooks at most half; a run cut
 * short reports `complete: false` and the next one goes on).
 */
import type { RegistryConfig } from '../config.ts';
import type { ObjectStore } from '../storage/types.ts';
import { errorFields, lineSink, type Logger } from '../observe/logger.ts';
import type { GcSample, Metrics } from '../observe/metrics.ts';
import { expireUploads, type CleanupResult } from './cleanup.ts';
import { collectGarbage, type GcReport } from './gc.ts';
import { Policies } from './policies.ts';
import { applyRetention, type RetentionReport } from './retention.ts';
import { Webhooks, type SweepReport } from './webhooks/dispatcher.ts';

export interface ScheduledJobOptions {
  logger: Logger;
  metrics: Metrics;
  /** The schedule's own time (Workers pass the cron's scheduledTime). */
  now?: Date;
  /** Wall-clock budget of the GC part, in ms; none by default. */
  gcBudgetMs?: number;
}

export interface ScheduledJobResult extends CleanupResult {
  webhooks?: SweepReport;
  retention?: RetentionReport;
  gc?: GcReport;
}

export async function runScheduledJob(store: ObjectStore, config: RegistryConfig, options: ScheduledJobOptions): Promise<ScheduledJobResult> {
  const { logger, metrics } = options;
  const result: ScheduledJobResult = await expireUploads(store, config, options.now);
  logger.info('expire-uploads', { job: 'cleanup', ...result });
  const jobStarted = Date.now();
  const budget = options.gcBudgetMs;
  // Webhook retries first (they are the time-sensitive part), with at most half the budget.
  result.webhooks = await new Webhooks(store, { logger }).sweep({ deadlineMs: budget === undefined ? undefined : budget / 2 });
  if (result.webhooks.attempted > 0 || result.webhooks.pending > 0) logger.info('webhook sweep', { job: 'cleanup', ...result.webhooks });
  const retention = await applyRetention(store, new Policies(store), {
    dryRun: false,
    now: options.now ?? new Date(),
    deadlineMs: budget === undefined ? undefined : Math.max(1000, budget - (Date.now() - jobStarted)),
    log: lineSink(logger, 'debug'),
  });
  result.retention = retention;
  if (retention.repositories > 0) {
    logger.info('retention', { job: 'cleanup', ...retention, tags: retention.tags.length, manifests: retention.manifests.length });
  }
  if (!config.gcOnSchedule) return result;
  const started = Date.now();
  // What retention left of the budget (at least a second, so GC reports where it stopped).
  const gcBudget = budget === undefined ? undefined : Math.max(1000, budget - (started - jobStarted));
  try {
    const gc = await collectGarbage(store, {
      dryRun: false,
      graceSeconds: config.gcGraceSeconds,
      keepUnreferencedLayers: config.gcKeepUnreferencedLayers,
      deadline: gcBudget,
      log: lineSink(logger, 'debug'),
    });
    metrics.gcRun(gcSample('schedule', gc));
    logger.info('gc', { job: 'cleanup', ...gc });
    return { ...result, gc };
  } catch (error) {
    metrics.gcRun({ trigger: 'schedule', outcome: 'failed', seconds: (Date.now() - started) / 1000, bytes: 0, dryRun: false });
    logger.error('gc failed', { job: 'cleanup', error: errorFields(error) });
    throw error;
  }
}

/** What a GC run tells the metrics. */
export function gcSample(trigger: GcSample['trigger'], report: GcReport): GcSample {
  return {
    trigger,
    outcome: report.complete ? 'complete' : 'partial',
    seconds: report.durationMs / 1000,
    bytes: report.dataObjects.bytes,
    dryRun: report.dryRun,
  };
}
