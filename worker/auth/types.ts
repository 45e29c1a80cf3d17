/**
 * The seam between the registry routes and access control. Routes say what they need
 * (`AccessRequest`); an `Authorizer` decides. The registry core never knows how identities are
 * proven (tokens, Basic, robot secrets) — that lives in `worker/auth/`.
 */

export type Action = 'pull' | 'push' | 'delete' | '*';

/** One scope in the Docker token spec's sense: `repository:<name>:<actions>` or `registry:catalog:*`. */
export interface AccessRequest {
  type: 'repository' | 'registry';
  name: string;
  actions: Action[];
}

/** How a caller proved who it is. */
export type CredentialKind = 'anonymous' | 'password' | 'robot' | 'token' | 'open';

export interface Principal {
  /** Account name; `null` for anonymous callers. */
  subject: string | null;
  admin: boolean;
  /** What this caller may do, already narrowed to the request's token or rules. */
  granted: AccessRequest[];
  /** How the caller authenticated (absent in principals built outside worker/auth). */
  via?: CredentialKind;
  /**
   * For callers that sent their password or robot secret on this very request: every action
   * their rules allow on `access`, so `allows` can answer for resources beyond `granted`.
   */
  policy?: (access: AccessRequest) => Action[];
  /**
   * For callers whose credentials do not say whether they are an admin (registry tokens carry
   * scopes only): looks the account up. Used only for the rare admin-only registry operation.
   */
  confirmAdmin?: () => Promise<boolean>;
}

export interface Authorizer {
  /**
   * Resolves the caller of `req` and checks that it may perform every access in `needed`.
   * Throws `RegistryError('UNAUTHORIZED')` with a `WWW-Authenticate` challenge naming the scope
   * when credentials are missing or invalid, or `RegistryError('DENIED')` when they are valid
   * but insufficient. `peerAddress` is the runtime's view of the caller (platform.ts): failed
   * logins are counted per address with it.
   */
  authorize(req: Request, needed: AccessRequest[], peerAddress?: string): Promise<Principal>;
  /** True when `principal` may perform `access` (used for optional checks, e.g. mount sources). */
  allows(principal: Principal, access: AccessRequest): boolean;
}
