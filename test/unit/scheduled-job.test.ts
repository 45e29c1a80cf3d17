/**
 * The one scheduled job every runtime calls: it expires stale uploads, runs GC only when
 * configured, and tells the logger and the metrics what it did.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registryConfigFromEnv } from '../../worker/config.ts';
import { createLogger } from '../../worker/observe/logger.ts';
import { noMetrics, type GcSample } from '../../worker/observe/metrics.ts';
import { Registry } from '../../worker/registry/registry.ts';
import { runScheduledJob } from '../../worker/registry/scheduled.ts';
import { checkedStore } from '../../worker/storage/checked.ts';
import { createFsStore } from '../../worker/storage/fs.ts';

function setup(env: Record<string, string>) {
  const store = checkedStore(createFsStore({ root: mkdtempSync(join(tmpdir(), 'berth-scheduled-')) }));
  const config = registryConfigFromEnv(env);
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'info', write: (l) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const runs: GcSample[] = [];
  const metrics = { ...noMetrics, gcRun: (s: GcSample) => void runs.push(s) };
  return { store, config, lines, logger, metrics, runs };
}

it('expires uploads older than the expiry and leaves GC alone unless scheduled', async () => {
  const { store, config, lines, logger, metrics, runs } = setup({});
  const registry = new Registry(store, config);
  await registry.uploads.start('team/app');
  const later = new Date(Date.now() + (config.uploadExpirySeconds + 60) * 1000);
  const result = await runScheduledJob(store, config, { logger, metrics, now: later });
  assert.equal(result.expired, 1);
  assert.equal(result.gc, undefined);
  assert.deepEqual(runs, []);
  assert.equal(lines.find((l) => l.msg === 'expire-uploads')?.expired, 1);
});

it('with BERTH_GC_ON_SCHEDULE collects garbage and reports the run', async () => {
  const { store, config, lines, logger, metrics, runs } = setup({ BERTH_GC_ON_SCHEDULE: 'true', BERTH_GC_GRACE_SECONDS: '0' });
  const result = await runScheduledJob(store, config, { logger, metrics });
  assert.equal(result.gc?.complete, true);
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.trigger, 'schedule');
  assert.equal(runs[0]!.outcome, 'complete');
  assert.ok(lines.some((l) => l.msg === 'gc' && l.complete === true));
});
