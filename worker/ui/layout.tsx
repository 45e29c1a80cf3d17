/** The page shell every UI page shares: head, header with navigation and account, main. */
import type { Child } from 'hono/jsx';
import { SCRIPT, STYLE } from './assets/index.ts';
import { urls } from './urls.ts';
import type { Viewer } from './viewer.ts';

export type Section = 'repositories' | 'tokens' | 'users' | 'gc' | 'sign-in' | 'none';

export interface LayoutProps {
  title: string;
  viewer: Viewer;
  section: Section;
  children?: Child;
}

function NavLink(props: { href: string; current: boolean; children: Child }) {
  return (
    <li>
      <a href={props.href} aria-current={props.current ? 'page' : undefined}>
        {props.children}
      </a>
    </li>
  );
}

function Account({ viewer }: { viewer: Viewer }) {
  if (viewer.kind === 'open') return <span>authentication off</span>;
  if (viewer.kind === 'anonymous') return <a href={urls.signIn()}>Sign in</a>;
  return (
    <>
      <span>
        Signed in as <strong>{viewer.label}</strong>
      </span>
      <form method="post" action={urls.signOut()}>
        <input type="hidden" name="csrf" value={viewer.csrf} />
        <button type="submit" class="small">
          Sign out
        </button>
      </form>
    </>
  );
}

export function Layout({ title, viewer, section, children }: LayoutProps) {
  const signedIn = viewer.kind === 'user' || viewer.kind === 'robot';
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · Berth`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={urls.asset(STYLE.file)} />
        <script src={urls.asset(SCRIPT.file)} defer></script>
      </head>
      <body data-renew={signedIn ? urls.session() : undefined}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href={urls.home()}>
            Berth
          </a>
          <nav aria-label="Main">
            <ul>
              <NavLink href={urls.home()} current={section === 'repositories'}>
                Repositories
              </NavLink>
              {viewer.kind === 'user' && (
                <NavLink href={urls.tokens()} current={section === 'tokens'}>
                  Robot tokens
                </NavLink>
              )}
              {viewer.admin && viewer.kind === 'user' && (
                <NavLink href={urls.users()} current={section === 'users'}>
                  Users
                </NavLink>
              )}
              {viewer.admin && viewer.kind === 'user' && (
                <NavLink href={urls.gc()} current={section === 'gc'}>
                  Garbage collection
                </NavLink>
              )}
            </ul>
          </nav>
          <div class="who">
            <Account viewer={viewer} />
          </div>
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  );
}
