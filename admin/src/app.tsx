// The console's frame: who is signed in, the navigation, the page the address names, and the
// shortcuts that work everywhere (`/` search, `n` new student).
import { useCallback, useEffect, useState } from 'preact/hooks';
import { me, signOut } from '../../clients/typescript/src/index.js';
import { client, forgetToken, hasToken, problemMessage, type Session, whenSessionLost } from './api.js';
import { History } from './history.js';
import { ImportPage } from './import.js';
import { Webhook, Webhooks } from './webhooks.js';
import { startLive, stopLive } from './live.js';
import { Notices, notify } from './notices.js';
import { BASE, navigate, onLinkClick, useRoute } from './route.js';
import { SignIn } from './sign-in.js';
import { StudentForm } from './student-form.js';
import { StudentList } from './student-list.js';

type State = { kind: 'loading' } | { kind: 'signed-out'; reason: string | null } | { kind: 'signed-in'; session: Session };

export function App() {
  const [state, setState] = useState<State>(hasToken() ? { kind: 'loading' } : { kind: 'signed-out', reason: null });
  const route = useRoute();

  const loadSession = useCallback(async () => {
    const { data, error } = await me({ client });
    if (!data) {
      if (error) setState((s) => (s.kind === 'signed-out' ? s : { kind: 'signed-out', reason: problemMessage(error) }));
      return;
    }
    if (!data.account) {
      forgetToken();
      setState({ kind: 'signed-out', reason: 'The console is for people with an account; an API token cannot sign in here.' });
      return;
    }
    const role = data.account.role;
    setState({ kind: 'signed-in', session: { account: data.account, role, canWrite: role !== 'viewer' } });
    startLive();
  }, []);

  useEffect(() => {
    whenSessionLost((reason) => {
      stopLive();
      setState({ kind: 'signed-out', reason });
    });
    if (hasToken()) void loadSession();
  }, [loadSession]);

  useEffect(() => {
    if (state.kind !== 'signed-in') return;
    const onKey = (event: KeyboardEvent) => {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      const target = event.target as HTMLElement;
      if (target.closest('input, textarea, select, [contenteditable], dialog')) return;
      if (event.key === '/') {
        const search = document.getElementById('search') as HTMLInputElement | null;
        if (search) {
          event.preventDefault();
          search.focus();
          search.select();
        } else if (route.page !== 'list') {
          event.preventDefault();
          navigate(BASE, { state: { focusSearch: true } });
        }
      } else if (event.key === 'n' && state.session.canWrite) {
        event.preventDefault();
        navigate(`${BASE}/students/new`);
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [state, route.page]);

  if (state.kind === 'loading') {
    return (
      <main id="main" class="sign-in" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  }
  if (state.kind === 'signed-out') {
    return <SignIn reason={state.reason} onSignedIn={loadSession} />;
  }

  const { session } = state;
  async function leave() {
    stopLive();
    await signOut({ client });
    forgetToken();
    setState({ kind: 'signed-out', reason: null });
    notify('Signed out.');
  }

  return (
    // biome-ignore lint: clicks on links inside are routed without a reload.
    <div class="frame" onClick={onLinkClick}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={BASE}>
          Students admin
        </a>
        <nav aria-label="Main">
          <a href={BASE} aria-current={route.page === 'list' ? 'page' : undefined}>
            Students
          </a>
          {session.canWrite && (
            <a href={`${BASE}/import`} aria-current={route.page === 'import' ? 'page' : undefined}>
              Import
            </a>
          )}
          {session.role === 'admin' && (
            <a
              href={`${BASE}/webhooks`}
              aria-current={route.page === 'webhooks' || route.page === 'webhook' ? 'page' : undefined}
            >
              Webhooks
            </a>
          )}
          <a href="/docs">API docs</a>
        </nav>
        <div class="who">
          <span>
            Signed in as <strong>{session.account.display_name || session.account.username}</strong>{' '}
            <span class="role" data-role={session.role}>
              {session.role}
            </span>
          </span>
          <button type="button" onClick={leave}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page(session)}
      </main>
      <Notices />
    </div>
  );

  function page(session: Session) {
    switch (route.page) {
      case 'list':
        return <StudentList session={session} list={route.list} />;
      case 'new':
        return session.canWrite ? <StudentForm session={session} /> : <Forbidden />;
      case 'edit':
        return <StudentForm session={session} id={route.id} key={route.id} />;
      case 'history':
        return <History session={session} id={route.id} key={route.id} />;
      case 'import':
        return session.canWrite ? <ImportPage /> : <Forbidden />;
      case 'webhooks':
        return session.role === 'admin' ? <Webhooks /> : <Forbidden />;
      case 'webhook':
        return session.role === 'admin' ? <Webhook id={route.id} key={route.id} /> : <Forbidden />;
      default:
        return (
          <section>
            <h1>Not found</h1>
            <p>
              There is no such page. <a href={BASE}>Back to the students</a>.
            </p>
          </section>
        );
    }
  }
}

function Forbidden() {
  return (
    <section>
      <h1>Not allowed</h1>
      <p>Your role may not do this: viewers read students, editors change them too, and only admins manage webhooks.</p>
    </section>
  );
}
