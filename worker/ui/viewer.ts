/** Who is looking at a page, as the views need it (routes/ui/session.ts works it out). */

export type RepositoryAction = 'pull' | 'push' | 'delete';

export interface Viewer {
  /** 'open': authentication is off (BERTH_AUTH=none); 'anonymous': not signed in. */
  kind: 'open' | 'anonymous' | 'user' | 'robot';
  /** The account, for the header ('' when nobody is signed in). */
  label: string;
  /** May manage users and run garbage collection. */
  admin: boolean;
  /** The form token every state-changing form carries (bound to the session, or to the browser before sign-in). */
  csrf: string;
  may(repo: string, action: RepositoryAction): boolean;
  /** `host[:port]` clients use in `docker pull` lines. */
  registryHost: string;
}
