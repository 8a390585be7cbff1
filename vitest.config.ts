import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig({
  // what scripts/bundle.js writes into the bundle, for the tests that run src/cli/main.ts in-process
  define: { APNS_CERT_VERSION: JSON.stringify(version) },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // one private PostgreSQL cluster for the run (a database per test file)
    globalSetup: ['test/setup/postgres.ts'],
  },
});
