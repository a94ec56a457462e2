import { asc, eq, sql } from 'drizzle-orm';
import { TorpedoError } from '../errors.ts';
import type { Db } from './database/database.ts';
import { users } from './database/schema.ts';
import { hashPassword } from './auth/passwords.ts';
import { usernameKey } from './names.ts';
import type { Role, User } from './rest-types.ts';

export type UserRow = typeof users.$inferSelect;

/** What the API shows of a user. */
export function userView(u: UserRow): User {
  return { username: u.username, roles: u.roles as Role[], disabled: u.disabled, createdAt: u.createdAt.toISOString() };
}

/** The user whose name equals `username` regardless of case and Unicode form (`usernameKey`). */
export async function findUserByName(db: Db, username: string): Promise<UserRow | undefined> {
  const key = usernameKey(username);
  if (key === undefined) return undefined;
  return (await db.select().from(users).where(eq(sql`lower(${users.username})`, key)).limit(1))[0];
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(eq(users.id, id)).limit(1))[0];
}

export async function listUsers(db: Db): Promise<UserRow[]> {
  return db.select().from(users).orderBy(asc(users.username));
}

export async function createUser(db: Db, u: { username: string; password: string; roles: readonly string[] }): Promise<UserRow> {
  const passwordHash = await hashPassword(u.password);
  const rows = await db
    .insert(users)
    .values({ username: u.username, passwordHash, roles: [...u.roles] })
    // The one unique index besides the id is on lower(username): a conflict is a taken name.
    .onConflictDoNothing()
    .returning();
  const row = rows[0];
  if (row === undefined) throw new TorpedoError('TORPEDO_ERR_CONFLICT', `the username ${JSON.stringify(u.username)} is taken`);
  return row;
}

/** Changes roles, disabled or password; a new password or disabling bumps the token version (revoking tokens). */
export async function updateUser(
  db: Db,
  id: number,
  change: { roles?: readonly string[]; disabled?: boolean; password?: string },
): Promise<UserRow> {
  const revoke = change.password !== undefined || change.disabled === true;
  const rows = await db
    .update(users)
    .set({
      ...(change.roles !== undefined ? { roles: [...change.roles] } : {}),
      ...(change.disabled !== undefined ? { disabled: change.disabled } : {}),
      ...(change.password !== undefined ? { passwordHash: await hashPassword(change.password) } : {}),
      ...(revoke ? { tokenVersion: sql`${users.tokenVersion} + 1` } : {}),
    })
    .where(eq(users.id, id))
    .returning();
  const row = rows[0];
  if (row === undefined) throw new TorpedoError('TORPEDO_ERR_NOT_FOUND', 'no such user');
  return row;
}

export async function deleteUser(db: Db, id: number): Promise<void> {
  await db.delete(users).where(eq(users.id, id));
}
