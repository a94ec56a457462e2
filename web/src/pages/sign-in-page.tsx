import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { useApp } from '../app-context.ts';
import { ErrorMessage } from '../components/error-message.tsx';
import { usePageTitle } from '../hooks.ts';
import { navigate } from '../router.ts';
import { session } from '../session.ts';

/** Sign in, or create an account when the manager allows self-registration. */
export function SignInPage(props: { next: string | undefined; register: boolean }) {
  const { settings } = useApp();
  const register = props.register && settings?.allowRegistration !== false;
  usePageTitle(register ? 'Create an account' : 'Sign in');
  const [message] = useState(() => session.takeMessage());
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const next = props.next !== undefined && props.next.startsWith('/') && !props.next.startsWith('/sign-in') ? props.next : '/jobs';
  const suffix = props.next !== undefined ? `?next=${encodeURIComponent(props.next)}` : '';

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    if (register && password !== repeat) {
      setError(new Error('The two passwords differ.'));
      return;
    }
    setBusy(true);
    try {
      if (register) await api.register(username, password);
      const { token, expiresAt } = await api.login(username, password);
      session.start(token, expiresAt);
      navigate(next);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="narrow">
      <h1>{register ? 'Create an account' : 'Sign in to torpedo'}</h1>
      {message !== undefined && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <form class="card stack" onSubmit={(e) => void submit(e)}>
        <div class="field">
          <label for="username">Username</label>
          <input id="username" name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
          {register && <small class="hint">Letters, digits, . _ - (up to 64), starting with a letter or digit.</small>}
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            name="password"
            type="password"
            autocomplete={register ? 'new-password' : 'current-password'}
            required
            minLength={register ? 8 : undefined}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          {register && <small class="hint">At least 8 characters.</small>}
        </div>
        {register && (
          <div class="field">
            <label for="password-repeat">Password again</label>
            <input id="password-repeat" type="password" autocomplete="new-password" required value={repeat} onInput={(e) => setRepeat(e.currentTarget.value)} />
          </div>
        )}
        <ErrorMessage error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {register ? 'Create account' : 'Sign in'}
        </button>
      </form>
      {settings?.allowRegistration === true && (
        <p class="switch">
          {register ? (
            <>
              Have an account? <a href={`#/sign-in${suffix}`}>Sign in</a>
            </>
          ) : (
            <>
              New here? <a href={`#/register${suffix}`}>Create an account</a>
            </>
          )}
        </p>
      )}
    </main>
  );
}
