// The signed-in session: the manager's token and when it expires, kept in localStorage so that a
// reload or a second tab stays signed in. Ending it (sign-out, a 401, the expiry time) sends the
// page to sign-in with a message, keeping where the user was so that signing in returns there.
import { navigate, currentPath } from './router.ts';

const KEY = 'torpedo.session';

interface Stored {
  readonly token: string;
  readonly expiresAt: string;
}

type Listener = () => void;

class Session {
  #stored: Stored | undefined = load();
  #message: string | undefined;
  #listeners = new Set<Listener>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.#arm();
    // Another tab signed in or out.
    window.addEventListener('storage', (e) => {
      if (e.key !== KEY) return;
      this.#stored = load();
      this.#arm();
      this.#emit();
    });
  }

  token(): string | undefined {
    return this.#stored?.token;
  }

  signedIn(): boolean {
    return this.#stored !== undefined;
  }

  /** The message for the sign-in page (once): why the session ended. */
  takeMessage(): string | undefined {
    const m = this.#message;
    this.#message = undefined;
    return m;
  }

  start(token: string, expiresAt: string): void {
    this.#stored = { token, expiresAt };
    localStorage.setItem(KEY, JSON.stringify(this.#stored));
    this.#arm();
    this.#emit();
  }

  /** Forgets the token (after sign-out, or when the manager refused it). */
  clear(message?: string): void {
    this.#stored = undefined;
    this.#message = message;
    localStorage.removeItem(KEY);
    this.#arm();
    this.#emit();
  }

  /** The manager refused the token, or it ran out: back to sign-in, then back here. */
  expire(message: string): void {
    if (this.#stored === undefined) return;
    const here = currentPath();
    this.clear(message);
    navigate(here.startsWith('/sign-in') ? '/sign-in' : `/sign-in?next=${encodeURIComponent(here)}`);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(): void {
    for (const l of this.#listeners) l();
  }

  /** A timer for the expiry time, so that an idle page says so rather than failing at the next click. */
  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#stored === undefined) return;
    const left = Date.parse(this.#stored.expiresAt) - Date.now();
    if (!(left > 0)) {
      queueMicrotask(() => this.expire('Your session expired, sign in again.'));
      return;
    }
    // setTimeout's delay is a signed 32-bit number of milliseconds.
    this.#timer = setTimeout(() => this.expire('Your session expired, sign in again.'), Math.min(left, 2 ** 31 - 1));
  }
}

function load(): Stored | undefined {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Stored | null;
    return s !== null && typeof s.token === 'string' && typeof s.expiresAt === 'string' ? s : undefined;
  } catch {
    return undefined;
  }
}

export const session = new Session();
