import { defineConfig } from 'drizzle-kit';

// `npm run db:generate` writes a new SQL migration into src/manager/database/migrations after
// src/manager/database/schema.ts changes. Migrations are kept in git: they are the database's history.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/manager/database/schema.ts',
  out: './src/manager/database/migrations',
});
