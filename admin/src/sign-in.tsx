// Sign-in with a username and password (the API's OAuth 2.0 password grant). The page the
// person was on stays in the address bar, so they return to it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { signIn } from '../../clients/typescript/src/index.js';
import { client, problemMessage, rememberToken } from './api.js';

export function SignIn(props: { reason: string | null; onSignedIn: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const { data, error: refusal } = await signIn({
      client,
      body: { grant_type: 'password', username, password },
    });
    setBusy(false);
    if (data) {
      rememberToken(data.access_token);
      setPassword('');
      props.onSignedIn();
    } else {
      setError(
        (refusal as { error?: string } | undefined)?.error === 'invalid_grant'
          ? 'That username and password do not match an active account.'
          : problemMessage(refusal, 'Could not sign in.'),
      );
    }
  }

  return (
    <main id="main" class="sign-in">
      <h1>Students admin</h1>
      <form onSubmit={submit} class="card" aria-describedby={props.reason ? 'sign-in-reason' : undefined}>
        <h2>Sign in</h2>
        {props.reason && (
          <p id="sign-in-reason" class="banner banner-warning" role="alert">
            {props.reason}
          </p>
        )}
        <label for="username">Username</label>
        <input
          id="username"
          ref={first}
          name="username"
          autocomplete="username"
          autocapitalize="none"
          spellcheck={false}
          required
          value={username}
          onInput={(e) => setUsername(e.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        {error && (
          <p class="field-error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
