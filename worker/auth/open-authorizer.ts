/** BERTH_AUTH=none: everyone may do everything. For private networks and people who chose it. */
import type { AccessRequest, Authorizer, Principal } from './types.ts';

export function openAuthorizer(): Authorizer {
  return {
    async authorize(_req: Request, needed: AccessRequest[]): Promise<Principal> {
      return { subject: null, admin: true, granted: needed, via: 'open' };
    },
    allows(): boolean {
      return true;
    },
  };
}
