/** The Hono environment, typed once for every route; per-request values go in Variables. */
import type { Authorizer, Principal } from './auth/types.ts';
import type { Registry } from './registry/registry.ts';
import type { RegistryConfig } from './config.ts';

export interface AppVariables {
  registry: Registry;
  config: RegistryConfig;
  principal: Principal;
  authorizer: Authorizer;
}

export interface AppEnv {
  Variables: AppVariables;
}
