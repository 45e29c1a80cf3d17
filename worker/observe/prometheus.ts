/**
 * Metrics for the Node server, kept by prom-client and read by Prometheus from `GET /metrics`.
 * Only the Node entry imports this module, so prom-client never enters the Worker bundle.
 *
 * Series (labels in braces; all bounded):
 *   berth_http_requests_total{family,method,status}       requests answered
 *   berth_http_request_duration_seconds{family,method}    until the body was sent (histogram)
 *   berth_http_received_bytes_total{family}                request body bytes read
 *   berth_http_sent_bytes_total{family}                    response body bytes sent
 *   berth_http_requests_in_flight                          requests being served now
 *   berth_uploads_in_progress                              upload requests streaming now
 *   berth_store_operations_total{operation,outcome}        store calls (outcome ok | error)
 *   berth_store_operation_duration_seconds{operation}      store call latency (histogram)
 *   berth_auth_failures_total{family}                      401s to requests that sent credentials
 *   berth_auth_throttled_total{family}                     429s (login throttling)
 *   berth_gc_runs_total{trigger,outcome}                   garbage collection runs
 *   berth_gc_duration_seconds{trigger}                     their duration (histogram)
 *   berth_gc_freed_bytes_total{trigger}                    bytes they freed (dry runs excluded)
 * plus prom-client's default process metrics (resident memory, CPU, event-loop lag, GC pauses).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { isAuthFailure, type GcSample, type Metrics, type RequestSample, type StoreOutcome } from './metrics.ts';

// Registry requests run from milliseconds (HEAD, manifests) to minutes (large layers).
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const STORE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const GC_BUCKETS = [0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];

export function createPrometheusMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const requests = new Counter({ name: 'berth_http_requests_total', help: 'HTTP requests answered', labelNames: ['family', 'method', 'status'], registers });
  const duration = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'Time from the request to the end of its response body',
    labelNames: ['family', 'method'],
    buckets: REQUEST_BUCKETS,
    registers,
  });
  const received = new Counter({ name: 'berth_http_received_bytes_total', help: 'Request body bytes read', labelNames: ['family'], registers });
  const sent = new Counter({ name: 'berth_http_sent_bytes_total', help: 'Response body bytes sent', labelNames: ['family'], registers });
  const inFlight = new Gauge({ name: 'berth_http_requests_in_flight', help: 'Requests being served', registers });
  const uploads = new Gauge({ name: 'berth_uploads_in_progress', help: 'Upload requests streaming a body on this instance', registers });
  const storeCalls = new Counter({ name: 'berth_store_operations_total', help: 'Object store calls', labelNames: ['operation', 'outcome'], registers });
  const storeDuration = new Histogram({
    name: 'berth_store_operation_duration_seconds',
    help: 'Object store call latency (to the first byte for reads)',
    labelNames: ['operation'],
    buckets: STORE_BUCKETS,
    registers,
  });
  const authFailures = new Counter({ name: 'berth_auth_failures_total', help: 'Requests refused with 401 although they carried credentials', labelNames: ['family'], registers });
  const throttled = new Counter({ name: 'berth_auth_throttled_total', help: 'Requests refused with 429 (login throttling)', labelNames: ['family'], registers });
  const gcRuns = new Counter({ name: 'berth_gc_runs_total', help: 'Garbage collection runs', labelNames: ['trigger', 'outcome'], registers });
  const gcDuration = new Histogram({ name: 'berth_gc_duration_seconds', help: 'Garbage collection run time', labelNames: ['trigger'], buckets: GC_BUCKETS, registers });
  const gcFreed = new Counter({ name: 'berth_gc_freed_bytes_total', help: 'Bytes freed by garbage collection', labelNames: ['trigger'], registers });

  const gaugeUntilDone = (gauge: Gauge) => (): (() => void) => {
    gauge.inc();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      gauge.dec();
    };
  };

  return {
    requestStarted: gaugeUntilDone(inFlight),
    uploadStarted: gaugeUntilDone(uploads),
    request(sample: RequestSample) {
      const { family, method, status } = sample;
      requests.inc({ family, method, status: String(status) });
      duration.observe({ family, method }, sample.seconds);
      if (sample.bytesIn > 0) received.inc({ family }, sample.bytesIn);
      if (sample.bytesOut > 0) sent.inc({ family }, sample.bytesOut);
      if (isAuthFailure(sample)) authFailures.inc({ family });
      if (status === 429) throttled.inc({ family });
    },
    storeCall(operation: string, seconds: number, outcome: StoreOutcome) {
      storeCalls.inc({ operation, outcome });
      storeDuration.observe({ operation }, seconds);
    },
    gcRun(sample: GcSample) {
      gcRuns.inc({ trigger: sample.trigger, outcome: sample.outcome });
      gcDuration.observe({ trigger: sample.trigger }, sample.seconds);
      if (!sample.dryRun && sample.bytes > 0) gcFreed.inc({ trigger: sample.trigger }, sample.bytes);
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
