/** What the UI shows when something is refused or goes wrong: a heading, a sentence, a way on. */
import { Layout } from '../layout.tsx';
import { urls } from '../urls.ts';
import type { Viewer } from '../viewer.ts';

export interface ErrorProps {
  viewer: Viewer;
  status: number;
  message: string;
}

const HEADINGS: Record<number, string> = {
  400: 'That request was not understood',
  401: 'Sign-in needed',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflict',
  413: 'Too much data',
  429: 'Too many attempts',
  503: 'Storage unavailable',
};

export function ErrorPage({ viewer, status, message }: ErrorProps) {
  const heading = HEADINGS[status] ?? (status >= 500 ? 'Something went wrong' : 'Request refused');
  return (
    <Layout title={heading} viewer={viewer} section="none">
      <h1>{heading}</h1>
      <div class="notice error" role="alert">
        {message}
      </div>
      <p>
        <a href={urls.home()}>Back to the repositories</a>
        {viewer.kind === 'anonymous' && (
          <>
            {' · '}
            <a href={urls.signIn()}>Sign in</a>
          </>
        )}
      </p>
    </Layout>
  );
}
