export { createAuthorizer } from './create-authorizer.ts';
export { bootstrapAdmin, ADMIN_ACCOUNT } from './bootstrap.ts';
export { TokenAuthorizer, type AuthorizerOptions, type Caller } from './token-authorizer.ts';
export { openAuthorizer } from './open-authorizer.ts';
export { authSettingsFromEnv, type AuthSettings } from './settings.ts';
export { hashPassword, verifyPassword, DEFAULT_PBKDF2_ITERATIONS } from './password.ts';
export { parseScope, parseScopes, formatScope, covers } from './scope.ts';
export { matchRules, parseRuleSpec, patternMatches, type AccessRule } from './rules.ts';
export type { AccessRequest, Action, Authorizer, CredentialKind, Principal } from './types.ts';
