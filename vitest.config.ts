import net from 'node:net';
import { defineConfig, type TestProjectInlineConfiguration, type ViteUserConfig } from 'vitest/config';

/**
 * Platform suites that run a second time on PostgreSQL (the `postgres` project; their servers get
 * a database each: test/platform/helpers.ts testDatabase). The others stay SQLite-only for a
 * reason: migrations and connection check SQLite's own file, gate and pragmas; lock, cli and
 * start check the embedded default (the data directory, `npm start`); the rest touch no database.
 */
const POSTGRES_SUITES = [
  'annotations',
  'auth',
  'components',
  'crash',
  'datasets',
  'directions',
  'errors',
  'experiments',
  'inference',
  'jobs',
  'limits',
  'login',
  'mazeFilters',
  'postgres',
  'queue',
  'quota',
  'redis',
  'resumed-checkpoint',
  'sae-params',
  'storage',
  'subscriptions',
  'tokenizeMaze',
].map((s) => `test/platform/${s}.test.ts`);

/** Suites that only mean something on PostgreSQL. */
const POSTGRES_ONLY = ['test/platform/postgres.test.ts'];

const POSTGRES_PROJECT: TestProjectInlineConfiguration = {
  extends: true,
  test: { name: 'postgres', include: POSTGRES_SUITES, env: { SEARCHLIGHT_TEST_DIALECT: 'postgres' } },
};

/** Whether a PostgreSQL server answers at SEARCHLIGHT_TEST_POSTGRES (default 127.0.0.1:5432). */
async function postgresReachable(): Promise<boolean> {
  const url = new URL(process.env.SEARCHLIGHT_TEST_POSTGRES?.trim() || 'postgres://postgres@127.0.0.1:5432/postgres');
  return new Promise((resolve) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 5432) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export default defineConfig(async (): Promise<ViteUserConfig> => {
  const postgres = await postgresReachable();
  if (!postgres) process.stderr.write('[vitest] no PostgreSQL server found (SEARCHLIGHT_TEST_POSTGRES): the platform tests run on SQLite only\n');
  return {
    resolve: {
      // Vite would resolve a bare `graphql` to its ESM build while Node (and Apollo) load the CJS one;
      // two copies of graphql reject each other's schemas ("Cannot use GraphQLSchema from another module").
      alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
    },
    test: {
      // Compute-heavy suites (ONNX sessions, training steps, servers) share 2 cores in CI.
      testTimeout: 180_000,
      hookTimeout: 180_000,
      pool: 'forks',
      projects: [{ extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'], exclude: POSTGRES_ONLY } }, ...(postgres ? [POSTGRES_PROJECT] : [])],
    },
  };
});
