// The roles, once: the manager checks them, rest-types.ts (and so the CLI client) types them,
// and the web UI renders this list. No imports: the web UI imports this file too.

/** Every role a user can hold. `admin` implies all the others. */
export const ROLES = ['admin', 'manage_users', 'submit_jobs', 'track_jobs', 'read_storage', 'write_storage'] as const;

export type Role = (typeof ROLES)[number];

/** What self-registration (and `POST /users` without roles) grants: never a privileged role. */
export const DEFAULT_ROLES: readonly Role[] = ['submit_jobs', 'track_jobs', 'read_storage', 'write_storage'];

/** Roles only an admin may grant or take away. */
export const PRIVILEGED_ROLES: readonly Role[] = ['admin', 'manage_users'];

export function isRole(s: string): s is Role {
  return (ROLES as readonly string[]).includes(s);
}

/** True if the user holds any of `roles`, or is an admin. */
export function hasAnyRole(held: readonly string[], roles: readonly Role[]): boolean {
  return held.includes('admin') || roles.some((r) => held.includes(r));
}
