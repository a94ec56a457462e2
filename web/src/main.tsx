import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Me, type Role, type UiSettings } from './api.ts';
import { AppContext, can } from './app-context.ts';
import { ClusterPage } from './pages/cluster-page.tsx';
import { DatasetsPage } from './pages/datasets-page.tsx';
import { AttemptLogPage } from './pages/attempt-log-page.tsx';
import { JobPage } from './pages/job-page.tsx';
import { JobsPage } from './pages/jobs-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';
import { SubmitPage } from './pages/submit-page.tsx';
import { UsersPage } from './pages/users-page.tsx';
import { currentPath, navigate, useRoute, type Route } from './router.ts';
import { session } from './session.ts';
import './style.css';

function useSignedIn(): boolean {
  const [signedIn, setSignedIn] = useState(session.signedIn());
  useEffect(() => session.subscribe(() => setSignedIn(session.signedIn())), []);
  return signedIn;
}

function App() {
  const route = useRoute();
  const path = currentPath();
  const signedIn = useSignedIn();
  const [me, setMe] = useState<Me>();
  const [settings, setSettings] = useState<UiSettings>();
  const first = useRef(true);

  useEffect(() => {
    api.settings().then(setSettings, () => setSettings({ allowRegistration: false, maxUploadBytes: 0 }));
  }, []);

  // Roles are read again at every navigation and when the tab comes back into view, so that a
  // role granted or taken meanwhile shows at once.
  useEffect(() => {
    if (!signedIn) {
      setMe(undefined);
      return;
    }
    const load = (): void => void api.me().then(setMe, () => {});
    load();
    const onVisible = (): void => {
      if (document.visibilityState === 'visible') load();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [signedIn, path]);

  useEffect(() => {
    if (!signedIn && route.page !== 'sign-in') navigate(`/sign-in?next=${encodeURIComponent(path)}`);
    if (signedIn && route.page === 'sign-in') navigate(route.next !== undefined && route.next.startsWith('/') && !route.next.startsWith('/sign-in') ? route.next : '/jobs');
  }, [signedIn, path]);

  // After a navigation, focus the new page's heading, so that keyboard and screen reader users start there.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const h1 = document.querySelector<HTMLElement>('main h1');
    if (h1 !== null) {
      h1.tabIndex = -1;
      h1.focus({ preventScroll: false });
    }
  }, [path]);

  let page;
  if (!signedIn || route.page === 'sign-in') page = <SignInPage next={route.page === 'sign-in' ? route.next : path} register={route.page === 'sign-in' && route.register} />;
  else if (me === undefined) page = <main><p class="muted">Loading…</p></main>;
  else page = <Page route={route} me={me} />;

  return (
    <AppContext.Provider value={{ me, settings }}>
      <a
        class="skip"
        href="#main"
        onClick={(e) => {
          // Not a navigation: `#main` would be read as a page address.
          e.preventDefault();
          const h1 = document.querySelector<HTMLElement>('main h1');
          if (h1 !== null) {
            h1.tabIndex = -1;
            h1.focus();
          }
        }}
      >
        Skip to content
      </a>
      <Header route={route} me={signedIn ? me : undefined} />
      <div id="main">{page}</div>
    </AppContext.Provider>
  );
}

const NEEDS: Partial<Record<Route['page'], readonly Role[]>> = {
  datasets: ['read_storage', 'write_storage'],
  submit: ['submit_jobs'],
  jobs: ['track_jobs'],
  job: ['track_jobs'],
  'attempt-log': ['track_jobs'],
  users: ['manage_users'],
  cluster: ['admin'],
};

function Page(props: { route: Route; me: Me }) {
  const { route, me } = props;
  const needs = NEEDS[route.page];
  if (needs !== undefined && !needs.some((r) => can(me, r))) {
    return (
      <main>
        <h1>Not allowed</h1>
        <p>
          This page needs the role <strong>{needs.join(' or ')}</strong>, which your account ({me.username}) does not have. An administrator can grant it.
        </p>
      </main>
    );
  }
  switch (route.page) {
    case 'datasets':
      return <DatasetsPage />;
    case 'submit':
      return <SubmitPage />;
    case 'jobs':
      return <JobsPage />;
    case 'job':
      return <JobPage id={route.id} />;
    case 'attempt-log':
      return <AttemptLogPage id={route.id} attempt={route.attempt} />;
    case 'users':
      return <UsersPage />;
    case 'cluster':
      return <ClusterPage />;
    default:
      return (
        <main>
          <h1>Page not found</h1>
          <p>
            Nothing here. Go to <a href="#/jobs">your jobs</a>.
          </p>
        </main>
      );
  }
}

function Header(props: { route: Route; me: Me | undefined }) {
  const { route, me } = props;
  const links: { href: string; label: string; pages: readonly Route['page'][]; role: readonly Role[] }[] = [
    { href: '#/jobs', label: 'Jobs', pages: ['jobs', 'job'], role: ['track_jobs'] },
    { href: '#/submit', label: 'Submit', pages: ['submit'], role: ['submit_jobs'] },
    { href: '#/datasets', label: 'Datasets', pages: ['datasets'], role: ['read_storage', 'write_storage'] },
    { href: '#/users', label: 'Users', pages: ['users'], role: ['manage_users'] },
    { href: '#/cluster', label: 'Cluster', pages: ['cluster'], role: ['admin'] },
  ];
  const signOut = async (): Promise<void> => {
    await api.logout().catch(() => {});
    session.clear('You signed out.');
    navigate('/sign-in');
  };
  return (
    <header class="top">
      <a class="brand" href={me !== undefined ? '#/jobs' : '#/sign-in'}>
        torpedo
      </a>
      {me !== undefined && (
        <>
          <nav aria-label="Main">
            <ul>
              {links
                .filter((l) => l.role.some((r) => can(me, r)))
                .map((l) => (
                  <li key={l.href}>
                    <a href={l.href} aria-current={l.pages.includes(route.page) ? 'page' : undefined}>
                      {l.label}
                    </a>
                  </li>
                ))}
            </ul>
          </nav>
          <div class="account">
            <span class="who" title={me.roles.join(', ')}>
              {me.username}
            </span>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </>
      )}
    </header>
  );
}

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
