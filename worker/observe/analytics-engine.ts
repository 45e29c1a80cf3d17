/**
 * Metrics on Cloudflare Workers, where nothing can be scraped and isolates come and go: one
 * Workers Analytics Engine data point per request (and per GC run, per failed store call) into
 * the dataset bound as BERTH_METRICS (wrangler.toml `[[analytics_engine_datasets]]`), queried
 * with SQL over Cloudflare's API or Grafana. Without the binding nothing is written.
 *
 * Request point: index = route family; blobs = [kind "request", family, method, status];
 * doubles = [seconds, bytes in, bytes out, auth failure 0|1, throttled 0|1].
 * Store calls are not written one by one: a Worker invocation may write at most 250 points, and
 * a push makes dozens of store calls. Failed ones are written (rare, and what one wants to see).
 * https://developers.cloudflare.com/analytics/analytics-engine/
 */
import { isAuthFailure, type GcSample, type Metrics, type RequestSample, type StoreOutcome } from './metrics.ts';

/** The binding's one method Berth uses (Cloudflare's AnalyticsEngineDataset). */
export interface AnalyticsEngineDataset {
  writeDataPoint(point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void;
}

export function createAnalyticsEngineMetrics(dataset: AnalyticsEngineDataset): Metrics {
  const write = (point: { indexes?: string[]; blobs?: string[]; doubles?: number[] }): void => {
    try {
      dataset.writeDataPoint(point);
    } catch {
      // Metrics must never fail a request (the per-invocation limit throws).
    }
  };
  return {
    requestStarted: () => () => {},
    uploadStarted: () => () => {},
    request(sample: RequestSample) {
      write({
        indexes: [sample.family],
        blobs: ['request', sample.family, sample.method, String(sample.status)],
        doubles: [sample.seconds, sample.bytesIn, sample.bytesOut, isAuthFailure(sample) ? 1 : 0, sample.status === 429 ? 1 : 0],
      });
    },
    storeCall(operation: string, seconds: number, outcome: StoreOutcome) {
      if (outcome === 'error') write({ indexes: ['store'], blobs: ['store-error', operation], doubles: [seconds] });
    },
    gcRun(sample: GcSample) {
      write({ indexes: ['gc'], blobs: ['gc', sample.trigger, sample.outcome], doubles: [sample.seconds, sample.dryRun ? 0 : sample.bytes] });
    },
  };
}
