/** Picks the Authorizer the environment asks for (token auth unless BERTH_AUTH=none). */
import type { EnvLike } from '../config.ts';
import type { ObjectStore } from '../storage/types.ts';
import { openAuthorizer } from './open-authorizer.ts';
import { authSettingsFromEnv } from './settings.ts';
import { TokenAuthorizer, type AuthorizerOptions } from './token-authorizer.ts';
import type { Authorizer } from './types.ts';

/** Synchronous: the signing key is loaded on first use, so Node, workerd and Lambda build alike. */
export function createAuthorizer(store: ObjectStore, env: EnvLike, options: AuthorizerOptions = {}): Authorizer {
  const settings = authSettingsFromEnv(env, options.runtime);
  if (settings.mode === 'none') {
    options.log?.('berth auth: WARNING BERTH_AUTH=none — anyone who can reach this registry may push, pull and delete');
    return openAuthorizer();
  }
  return new TokenAuthorizer(store, settings, options);
}
