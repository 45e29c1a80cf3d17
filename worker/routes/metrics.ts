/**
 * `GET /metrics`: the Prometheus text exposition, only when BERTH_METRICS_TOKEN is set and only
 * for `Authorization: Bearer <that token>` (compared in constant time by Hono's bearerAuth).
 * Without a token configured, or on a runtime with nothing to scrape (Workers and Lambda send
 * their metrics to the platform instead), the path does not exist.
 */
import type { Hono } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import type { AppEnv } from '../types.ts';
import { RegistryError, renderError } from '../oci/errors.ts';
import type { Metrics } from '../observe/metrics.ts';

export function mountMetrics(app: Hono<AppEnv>, metrics: Metrics, token: string | undefined): void {
  const scrape = metrics.scrape?.bind(metrics);
  if (!token || !scrape) return;
  const refuse = (challenge: string, message: string) => () =>
    renderError(new RegistryError('UNAUTHORIZED', message, undefined, { headers: { 'WWW-Authenticate': challenge } }), 'GET');
  app.get(
    '/metrics',
    bearerAuth({
      token,
      realm: 'metrics',
      noAuthenticationHeader: { message: refuse('Bearer realm="metrics"', 'metrics need Authorization: Bearer <BERTH_METRICS_TOKEN>') },
      invalidAuthenticationHeader: { message: refuse('Bearer error="invalid_request"', 'malformed Authorization header') },
      invalidToken: { message: refuse('Bearer error="invalid_token"', 'wrong metrics token') },
    }),
    async () => {
      const { contentType, body } = await scrape();
      return new Response(body, { headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' } });
    },
  );
}
