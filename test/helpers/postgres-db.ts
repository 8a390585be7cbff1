/** A database of its own for a test file, in the run's cluster (test/setup/postgres.ts). */
import { inject } from 'vitest';
import { createDatabase } from './postgres.js';
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
