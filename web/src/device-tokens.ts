// The device tokens that logins answer (docs/manager.md, "Failed logins"), one per username, kept
// in localStorage and sent with the next login as that user: the manager then counts this
// browser's failed logins apart from a guessing attack on the username elsewhere. Signing out
// keeps them; they grant nothing but that.
const KEY = 'torpedo.devices';

/** The manager compares usernames regardless of case and Unicode form; so does this store. */
const keyOf = (username: string): string => username.normalize('NFKC').toLowerCase();

function load(): Record<string, string> {
  try {
    const all = JSON.parse(localStorage.getItem(KEY) ?? '{}') as unknown;
    return typeof all === 'object' && all !== null && !Array.isArray(all) ? (all as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export const deviceTokens = {
  get(username: string): string | undefined {
    const token = load()[keyOf(username)];
    return typeof token === 'string' && token !== '' ? token : undefined;
  },
  keep(username: string, token: string): void {
    localStorage.setItem(KEY, JSON.stringify({ ...load(), [keyOf(username)]: token }));
  },
};
