// drizzle-kit configuration for the PostgreSQL dialect: `npx drizzle-kit generate --config
// drizzle.pg.config.ts` writes SQL migrations for server/db/schema.pg.ts (the PostgreSQL twin of
// server/db/schema.ts) into migrations-pg/ (committed; never hand-edited). Keep both schemas, and
// so both migration folders, in step: test/platform/schema-parity.test.ts compares the schemas.
// Like drizzle.config.ts, no database URL is needed to generate.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './server/db/schema.pg.ts',
  out: './migrations-pg',
});
