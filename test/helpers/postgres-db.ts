/** A database of its own for a test file, in the run's cluster (test/setup/postgres.ts), and the CLI's view of it. */
import { inject } from 'vitest';
import { cleanEnv, runCli } from './cli.js';
import { createDatabase, psql } from './postgres.js';
import type { ClusterInfo, TestDatabase } from './postgres.js';

let counter = 0;

/** The run's cluster; throws (the test fails, never skips) when it could not be started. */
export function testCluster(): ClusterInfo {
  const cluster = inject('pgCluster');
  if ('error' in cluster) throw new Error(`the PostgreSQL test cluster did not start: ${cluster.error}`);
  return cluster.info;
}

/** A new database (and its admin and monitor roles) named `<prefix>_<pid>_<n>`. */
export function testDatabase(prefix: string): TestDatabase {
  return createDatabase(testCluster(), `${prefix}_${process.pid}_${++counter}`);
}

export const TEST_PASSPHRASE = 'team passphrase of the test store';

/** The environment of the built CLI on `db` as its admin or monitor role (the password in PGPASSWORD, never the URL). */
export function storeEnv(
  db: TestDatabase,
  role: 'admin' | 'monitor' = 'admin',
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  return cleanEnv({
    APNS_CERT_STORE: role === 'admin' ? db.adminUrl : db.monitorUrl,
    PGPASSWORD: db.password,
    APNS_CERT_PASSPHRASE: role === 'admin' ? TEST_PASSPHRASE : undefined,
    ...extra,
  });
}

/** `store init` as the admin role, then the grants `store init --print-grants` prints for both roles. */
export async function initStore(db: TestDatabase): Promise<void> {
  const env = storeEnv(db);
  const init = await runCli(['store', 'init'], { env });
  if (init.code !== 0) throw new Error(`store init: ${init.stderr}`);
  const grants = await runCli(['store', 'init', '--print-grants', db.adminRole, db.monitorRole], { env });
  if (grants.code !== 0) throw new Error(`store init --print-grants: ${grants.stderr}`);
  psql(testCluster(), db.name, grants.stdout);
}
