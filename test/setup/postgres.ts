/**
 * vitest globalSetup: one private PostgreSQL cluster for the whole run (test/helpers/postgres.ts), stopped and
 * removed at the end, also when the run fails or is interrupted. Each test file makes its own database in it
 * (testDatabase in test/helpers/postgres-db.ts). When the cluster cannot start (no PostgreSQL installed), the
 * other tests still run and every PostgreSQL test fails with the reason: they never skip.
 */
import type { TestProject } from 'vitest/node';
import { removeCluster, startCluster } from '../helpers/postgres.js';
import type { ClusterInfo } from '../helpers/postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgCluster: { info: ClusterInfo } | { error: string };
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  let info: ClusterInfo | undefined;
  try {
    const cluster = await startCluster();
    info = {
      host: cluster.host,
      port: cluster.port,
      socketDir: cluster.socketDir,
      superuser: cluster.superuser,
      dataDir: cluster.dataDir,
      bin: cluster.bin,
      asRoot: cluster.asRoot,
      caFile: cluster.caFile,
    };
    project.provide('pgCluster', { info });
  } catch (error) {
    project.provide('pgCluster', { error: (error as Error).message });
    return () => undefined;
  }
  const started = info;
  let stopped = false;
  const teardown = () => {
    if (stopped) return;
    stopped = true;
    removeCluster(started);
  };
  process.once('exit', teardown);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => {
      teardown();
      if (process.listenerCount(signal) === 0)
        process.exit(128 + (signal === 'SIGHUP' ? 1 : signal === 'SIGINT' ? 2 : 15));
    });
  return teardown;
}
