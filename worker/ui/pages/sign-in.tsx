/** Sign in with a password, or with a robot token in the password field. */
import { Layout } from '../layout.tsx';
import { Csrf, Notice } from '../parts.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export interface SignInProps {
  viewer: Viewer;
  next: string;
  username?: string;
  error?: string;
  notice?: string;
}

export function SignInPage({ viewer, next, username, error, notice }: SignInProps) {
  return (
    <Layout title="Sign in" viewer={viewer} section="sign-in">
      <h1>Sign in to Berth</h1>
      {notice && <Notice kind="info">{notice}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      <form method="post" action={urls.signIn()} class="stack">
        <Csrf token={viewer.csrf} />
        <input type="hidden" name="next" value={next} />
        <label>
          Username
          <input type="text" name="username" autocomplete="username" required value={username ?? ''} autofocus />
        </label>
        <label>
          Password or robot token
          <input type="password" name="password" autocomplete="current-password" required />
        </label>
        <p class="muted">
          A robot token (<code>berth_pat_…</code>) works with any username and signs you in with the token's rights.
        </p>
        <div>
          <button type="submit">Sign in</button>
        </div>
      </form>
    </Layout>
  );
}
