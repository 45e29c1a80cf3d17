/**
 * Auth configuration from the environment (README "Authentication" lists every variable).
 * Bad values throw ConfigError naming the variable, like worker/config.ts.
 */
import { ConfigError, readBool, readInt, readUrl, type EnvLike } from '../config.ts';
import { DEFAULT_PBKDF2_ITERATIONS, MAX_PBKDF2_ITERATIONS, MIN_PBKDF2_ITERATIONS } from './password.ts';

/** BERTH_ADMIN_PASSWORD guards the first admin account: no short ones. */
export const MIN_ADMIN_PASSWORD_LENGTH = 12;

/** What the runtime allows (each entry knows its own; workerd caps PBKDF2 iterations). */
export interface AuthRuntime {
  maxPbkdf2Iterations?: number;
}
import { globProblem } from './glob.ts';

export interface AuthSettings {
  mode: 'token' | 'none';
  /** Access token lifetime; the token spec asks at least 60 s. */
  tokenTtlSeconds: number;
  refreshTtlSeconds: number;
  /** Longest lifetime a robot token may be created with; 0: no maximum (never-expiring tokens allowed). */
  robotTokenMaxSeconds: number;
  /** `service` in challenges and `aud` in tokens; derived from the request host when unset. */
  service?: string;
  publicUrl?: string;
  /** Honour X-Forwarded-Proto/Host/For (only behind a proxy that overwrites them). */
  trustProxy: boolean;
  /** Repository globs anyone may pull without credentials. */
  publicRepos: string[];
  pbkdf2Iterations: number;
  /** PKCS8 PEM or JWK of an ES256 key; generated and stored in the bucket when unset. */
  jwtPrivateKey?: string;
  adminPassword?: string;
  adminPasswordReset: boolean;
}

function adminPassword(env: EnvLike): string | undefined {
  const value = env.BERTH_ADMIN_PASSWORD || undefined;
  if (value !== undefined && [...value].length < MIN_ADMIN_PASSWORD_LENGTH) {
    throw new ConfigError(`BERTH_ADMIN_PASSWORD must have at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`);
  }
  return value;
}

/** BERTH_ROBOT_TOKEN_MAX_TTL_SECONDS: 366 days by default; 0 lifts the maximum. */
function robotTokenMax(env: EnvLike): number {
  const value = readInt(env, 'BERTH_ROBOT_TOKEN_MAX_TTL_SECONDS', 366 * 86_400, 0, 10 * 366 * 86_400);
  if (value !== 0 && value < 3_600) throw new ConfigError('BERTH_ROBOT_TOKEN_MAX_TTL_SECONDS must be 0 (no maximum) or at least 3600');
  return value;
}

export function authSettingsFromEnv(env: EnvLike, runtime: AuthRuntime = {}): AuthSettings {
  const mode = (env.BERTH_AUTH ?? 'token').trim().toLowerCase() || 'token';
  if (mode !== 'token' && mode !== 'none') {
    throw new ConfigError(`BERTH_AUTH must be "token" or "none", got "${env.BERTH_AUTH}"`);
  }
  const publicRepos = (env.BERTH_PUBLIC_REPOS ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  for (const pattern of publicRepos) {
    const problem = globProblem(pattern);
    if (problem) throw new ConfigError(`BERTH_PUBLIC_REPOS has an invalid pattern "${pattern.slice(0, 300)}": ${problem}`);
  }
  const service = env.BERTH_SERVICE?.trim();
  const maxIterations = runtime.maxPbkdf2Iterations ?? MAX_PBKDF2_ITERATIONS;
  if (service !== undefined && service !== '' && !/^[\x21-\x7e]{1,255}$/.test(service) || service?.includes('"')) {
    throw new ConfigError('BERTH_SERVICE must be printable ASCII without spaces or quotes');
  }
  return {
    mode,
    tokenTtlSeconds: readInt(env, 'BERTH_TOKEN_TTL_SECONDS', 300, 60, 86_400),
    refreshTtlSeconds: readInt(env, 'BERTH_REFRESH_TTL_SECONDS', 30 * 86_400, 3_600, 365 * 86_400),
    robotTokenMaxSeconds: robotTokenMax(env),
    service: service || undefined,
    publicUrl: readUrl(env, 'BERTH_PUBLIC_URL'),
    trustProxy: readBool(env, 'BERTH_TRUST_PROXY', false),
    publicRepos,
    pbkdf2Iterations: readInt(env, 'BERTH_PBKDF2_ITERATIONS', Math.min(DEFAULT_PBKDF2_ITERATIONS, maxIterations), MIN_PBKDF2_ITERATIONS, maxIterations),
    jwtPrivateKey: env.BERTH_JWT_PRIVATE_KEY?.trim() || undefined,
    adminPassword: adminPassword(env),
    adminPasswordReset: readBool(env, 'BERTH_ADMIN_PASSWORD_RESET', false),
  };
}
