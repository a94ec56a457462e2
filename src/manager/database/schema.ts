import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgSchema, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * The manager's tables, all in one PostgreSQL schema (`torpedo`) so that they can share a
 * database with other applications. Migrations are generated from this file by drizzle-kit
 * (`npm run db:generate`) into ./migrations and applied at start.
 */
export const torpedo = pgSchema('torpedo');

export const users = torpedo.table(
  'users',
  {
    id: serial('id').primaryKey(),
    /** As registered (in NFKC), for display; unique regardless of case (the index below). */
    username: text('username').notNull(),
    passwordHash: text('password_hash').notNull(),
    roles: text('roles').array().notNull(),
    disabled: boolean('disabled').notNull().default(false),
    /** Part of every token; bumped to revoke all of a user's tokens (password change, disable). */
    tokenVersion: integer('token_version').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('users_username_lower').on(sql`lower(${t.username})`)],
);

/** Token ids revoked by logout, kept until the token would have expired anyway. */
export const revokedTokens = torpedo.table('revoked_tokens', {
  jti: text('jti').primaryKey(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
});

export const datasets = torpedo.table(
  'datasets',
  {
    id: serial('id').primaryKey(),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('datasets_owner_name').on(t.ownerId, t.name)],
);

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export const jobs = torpedo.table(
  'jobs',
  {
    id: text('id').primaryKey(),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** A built-in example's name, or `code` for a submitted module. */
    job: text('job').notNull(),
    /** The name its owner gave it (`--name`), for finding it again; null if none was given. */
    name: text('name'),
    /** What was submitted: inputs, reducers, workers, splitSize/maps, params, language. */
    spec: jsonb('spec').notNull(),
    status: text('status').$type<JobStatus>().notNull(),
    phase: text('phase').notNull().default('queued'),
    /** The last progress and task table seen, mirrored for readers while and after it runs. */
    progress: jsonb('progress'),
    tasks: jsonb('tasks'),
    counters: jsonb('counters'),
    error: jsonb('error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [index('jobs_owner').on(t.ownerId), index('jobs_status').on(t.status), index('jobs_finished_at').on(t.finishedAt)],
);
