/**
 * Metrics on AWS Lambda, where nothing can be scraped: CloudWatch embedded metric format (EMF)
 * lines on stdout, which CloudWatch Logs turns into metrics in the `Berth` namespace without an
 * agent or an API call. One line per request (dimension `Family`, plus `Family`+`Status`), with
 * the store calls the request made folded in: a Lambda instance serves one request at a time, so
 * the calls since the last request line belong to this one. GC runs get their own line.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import { isAuthFailure, type GcSample, type Metrics, type RequestSample, type StoreOutcome } from './metrics.ts';

const NAMESPACE = 'Berth';

type Unit = 'Seconds' | 'Bytes' | 'Count' | 'Milliseconds';

function emfLine(dimensions: string[][], metrics: Record<string, [number | number[], Unit]>, properties: Record<string, string>, now: number): string {
  const values: Record<string, number | number[]> = {};
  const definitions = Object.entries(metrics).map(([name, [value, unit]]) => {
    values[name] = value;
    return { Name: name, Unit: unit };
  });
  return JSON.stringify({
    _aws: { Timestamp: now, CloudWatchMetrics: [{ Namespace: NAMESPACE, Dimensions: dimensions, Metrics: definitions }] },
    ...properties,
    ...values,
  });
}

export function createEmfMetrics(options: { write?: (line: string) => void; now?: () => number } = {}): Metrics {
  const write = options.write ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  let storeSeconds: number[] = [];
  let storeErrors = 0;

  return {
    requestStarted: () => () => {},
    uploadStarted: () => () => {},
    storeCall(_operation: string, seconds: number, outcome: StoreOutcome) {
      // EMF takes at most 100 values per metric in one line.
      if (storeSeconds.length < 100) storeSeconds.push(seconds);
      if (outcome === 'error') storeErrors++;
    },
    request(sample: RequestSample) {
      const metrics: Record<string, [number | number[], Unit]> = {
        Requests: [1, 'Count'],
        Duration: [sample.seconds, 'Seconds'],
        BytesIn: [sample.bytesIn, 'Bytes'],
        BytesOut: [sample.bytesOut, 'Bytes'],
        StoreCalls: [storeSeconds.length, 'Count'],
        StoreErrors: [storeErrors, 'Count'],
        AuthFailures: [isAuthFailure(sample) ? 1 : 0, 'Count'],
        Throttled: [sample.status === 429 ? 1 : 0, 'Count'],
      };
      if (storeSeconds.length > 0) metrics.StoreDuration = [storeSeconds, 'Seconds'];
      storeSeconds = [];
      storeErrors = 0;
      write(emfLine([['Family'], ['Family', 'Status']], metrics, { Family: sample.family, Status: String(sample.status), Method: sample.method }, now()));
    },
    gcRun(sample: GcSample) {
      write(emfLine(
        [['Trigger']],
        { GcRuns: [1, 'Count'], GcDuration: [sample.seconds, 'Seconds'], GcFreedBytes: [sample.dryRun ? 0 : sample.bytes, 'Bytes'] },
        { Trigger: sample.trigger, Outcome: sample.outcome },
        now(),
      ));
    },
  };
}
