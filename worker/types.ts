/** The Hono environment, typed once for every route; per-request values go in Variables. */
import type { Authorizer, Principal } from './auth/types.ts';
import type { Registry } from './registry/registry.ts';
import type { RegistryConfig } from './config.ts';
import type { Metrics } from './observe/metrics.ts';

export interface AppVariables {
  registry: Registry;
  config: RegistryConfig;
  principal: Principal;
  authorizer: Authorizer;
  /** The peer's address as the runtime saw it (platform.ts); proxy headers are not applied here. */
  peerAddress: string | undefined;
  /** Runs work past the response (Workers waitUntil); the task must handle its own errors. */
  background: (task: Promise<unknown>) => void;
  /** Set by hono/request-id: the caller's well-formed X-Request-Id, or a new UUID. */
  requestId: string;
  /** Where routes report what the access line cannot see (GC runs). */
  metrics: Metrics;
  /** The client's address (platform peer, or X-Forwarded-For with BERTH_TRUST_PROXY). */
  client: string | null;
}

export interface AppEnv {
  Variables: AppVariables;
}
