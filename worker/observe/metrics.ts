/**
 * The metrics seam. The app and the store wrapper report what happened; each runtime entry fills
 * it with what fits the platform: Prometheus counters behind `GET /metrics` on Node
 * (prometheus.ts, prom-client, never bundled into the Worker), Workers Analytics Engine data
 * points on Cloudflare (analytics-engine.ts), CloudWatch embedded metric format lines on Lambda
 * (cloudwatch-emf.ts). Without one, `noMetrics` drops everything.
 *
 * Labels stay bounded: route family, method, status, store operation. Never a repository name,
 * an account or a digest (unbounded, and a metrics reader may not be allowed to see them).
 */
import type { RouteFamily } from './route-family.ts';

export interface RequestSample {
  family: RouteFamily;
  method: string;
  status: number;
  seconds: number;
  /** Body bytes read from the client. */
  bytesIn: number;
  /** Body bytes handed to the runtime for the client. */
  bytesOut: number;
  /** The request carried credentials (a 401 then is a failed login, not a challenge). */
  credentials: boolean;
}

export type StoreOutcome = 'ok' | 'error';

export interface GcSample {
  trigger: 'schedule' | 'admin';
  outcome: 'complete' | 'partial' | 'failed';
  seconds: number;
  /** Bytes freed (or that would be, in a dry run). */
  bytes: number;
  dryRun: boolean;
}

export interface Metrics {
  /** A request started; the returned function is called once when it ends (in-flight gauge). */
  requestStarted(): () => void;
  /** An upload request started streaming; the returned function is called once when it ends. */
  uploadStarted(): () => void;
  request(sample: RequestSample): void;
  storeCall(operation: string, seconds: number, outcome: StoreOutcome): void;
  gcRun(sample: GcSample): void;
  /** The Prometheus text exposition, on runtimes with something to scrape (Node). */
  scrape?(): Promise<{ contentType: string; body: string }>;
}

export const noMetrics: Metrics = {
  requestStarted: () => () => {},
  uploadStarted: () => () => {},
  request: () => {},
  storeCall: () => {},
  gcRun: () => {},
};

/** An upload request in flight is an upload in progress on this instance. */
export function isUploadRequest(family: RouteFamily, method: string): boolean {
  return (family === 'uploads' || family === 'upload') && (method === 'POST' || method === 'PATCH' || method === 'PUT');
}

/** Did this request fail to authenticate (as opposed to being asked to)? */
export function isAuthFailure(sample: Pick<RequestSample, 'status' | 'credentials'>): boolean {
  return sample.status === 401 && sample.credentials;
}
