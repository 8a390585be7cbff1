/**
 * The PostgreSQL server goes away under the CLI, on a cluster of this file's own (stopping the run's shared one
 * would stop the other files' databases): stopped (fast and immediate) while an import waits for the lock and
 * while a csr is inside its transaction: 69 naming host:port, no stack trace, and after the restart the store is
 * exactly as before; so is the session ended by the server (pg_terminate_backend). A server down at the start (connection refused) is 69 too, and so is a host that accepts the
 * connection and never answers (a black hole), within the backend's connection timeout.
 */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import type { CliResult } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { psql, startCluster } from '../helpers/postgres.js';
import type { TestCluster, TestDatabase } from '../helpers/postgres.js';

const ca = createFakeCa();
const NOW = new Date();
const TABLES = ['meta', 'records', 'certificates', 'vendor_chains', 'secrets', 'vault', 'audit_log'];

let cluster: TestCluster;
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let work: string;

const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, ...extra }, cwd: work, timeoutMs: 60_000 });

/** pg_ctl stop in the given mode (immediate: no shutdown checkpoint, sessions cut at once; recovery at the next start). */
function stopServer(mode: 'fast' | 'immediate'): void {
  const pgCtl = join(cluster.bin, 'pg_ctl');
  const args = ['stop', '-w', '-m', mode, '-D', cluster.dataDir];
  const r = cluster.asRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', pgCtl, ...args], { encoding: 'utf8' })
    : spawnSync(pgCtl, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pg_ctl stop -m ${mode}: ${r.stderr}`);
}

/** What the CLI and the tables say of the store: equal snapshots = the same store. */
async function snapshot(): Promise<string> {
  const list = await cli(['list', '--json']);
  expect(list.code, list.stderr).toBe(0);
  const names = (JSON.parse(list.stdout) as { certificates: Array<{ name: string }> }).certificates.map((c) => c.name);
  const shown = await Promise.all(names.map((name) => cli(['show', name, '--json'])));
  const rows = TABLES.map((t) => `${t}: ${psql(cluster, db.name, `SELECT t::text FROM apns_cert.${t} t ORDER BY 1`)}`);
  return [list.stdout, ...shown.map((r) => r.stdout), ...rows].join('\n');
}

function expectUnreachable(r: CliResult, port: number = cluster.port): void {
  expect(r.code, r.stderr).toBe(69);
  expect(r.stderr).toContain(`cannot reach the PostgreSQL store at 127.0.0.1:${port}`);
  expect(r.stderr).toMatch(/^hint: pg_isready /m);
  expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never: ${what}`);
}

/** A session of the CLI in the state asked (waiting for a lock, or inside its transaction). */
async function cliSession(superuser: pg.Client, where: 'waiting for the lock' | 'in a transaction'): Promise<boolean> {
  const { rows } = await superuser.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'apns-cert' AND ${
      where === 'waiting for the lock' ? "wait_event_type = 'Lock'" : 'xact_start IS NOT NULL'
    }`,
    [db.name],
  );
  return rows[0]!.n > 0;
}

beforeAll(async () => {
  cluster = await startCluster();
  db = cluster.createDatabase('outage');
  work = tempDir();
  env = cleanEnv({
    APNS_CERT_STORE: db.adminUrl,
    PGPASSWORD: db.password,
    APNS_CERT_PASSPHRASE: 'outage',
    APNS_CERT_LOCK_WAIT_MS: '30000',
  });
  expect((await cli(['store', 'init'])).code).toBe(0);
  expect((await cli(['csr', '--name', 'acme', '--out', join(work, 'acme.csr')])).code).toBe(0);
  signCsrFile(ca, join(work, 'acme.csr'), join(work, 'acme.pem'), {
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 300),
  });
  expect((await cli(['import', join(work, 'acme.pem')])).code).toBe(0);
});
afterAll(() => cluster?.stop());

describe('the server stopped in the middle of a command', () => {
  for (const mode of ['fast', 'immediate'] as const) {
    it(`an import waiting for the lock, the server stopped (${mode}): 69; after the restart the store is as before`, async () => {
      const name = `waits-${mode}`;
      expect((await cli(['csr', '--name', name, '--out', join(work, `${name}.csr`)])).code).toBe(0);
      const pem = signCsrFile(ca, join(work, `${name}.csr`), join(work, `${name}.pem`), {
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 300),
      });
      const before = await snapshot();
      const holder = new pg.Client({ ...db.superuser });
      // pg_stat_activity is read once per transaction: the holder's own would never see the import come
      const watcher = new pg.Client({ ...db.superuser });
      for (const client of [holder, watcher]) {
        client.on('error', () => undefined);
        await client.connect();
      }
      try {
        await holder.query('BEGIN');
        await holder.query('SELECT * FROM apns_cert.meta FOR UPDATE');
        const running = cli(['import', pem]);
        await until(() => cliSession(watcher, 'waiting for the lock'), 'the import waits for the lock');
        stopServer(mode);
        expectUnreachable(await running);
      } finally {
        await holder.end().catch(() => undefined);
        await watcher.end().catch(() => undefined);
      }
      cluster.startServer();
      expect(await snapshot()).toBe(before);
      // and the import goes through once the server is back
      expect((await cli(['import', pem])).code).toBe(0);
    });
  }

  it('a csr inside its transaction, the server stopped (immediate): 69; after the restart the store is as before', async () => {
    const before = await snapshot();
    const watcher = new pg.Client({ ...db.superuser });
    watcher.on('error', () => undefined);
    await watcher.connect();
    let r: CliResult;
    try {
      const running = cli(['csr', '--name', 'cut', '--out', join(work, 'cut.csr')]);
      await until(() => cliSession(watcher, 'in a transaction'), 'the csr has its transaction open');
      stopServer('immediate');
      r = await running;
    } finally {
      await watcher.end().catch(() => undefined);
    }
    cluster.startServer();
    // the change either committed before the stop (then the CLI could not know it was lost: it exits 0) or not at all
    if (r.code === 0) expect(JSON.parse((await cli(['show', 'cut', '--json'])).stdout).name).toBe('cut');
    else {
      expectUnreachable(r);
      expect(await snapshot()).toBe(before);
    }
  });
  it('the CLI session ended by the server (pg_terminate_backend) inside its transaction: 69; the store as before', async () => {
    const before = await snapshot();
    const watcher = new pg.Client({ ...db.superuser });
    await watcher.connect();
    let r: CliResult;
    try {
      const running = cli(['csr', '--name', 'terminated', '--out', join(work, 'terminated.csr')]);
      await until(() => cliSession(watcher, 'in a transaction'), 'the csr has its transaction open');
      await watcher.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'apns-cert'`,
        [db.name],
      );
      r = await running;
    } finally {
      await watcher.end();
    }
    if (r.code === 0) expect(JSON.parse((await cli(['show', 'terminated', '--json'])).stdout).name).toBe('terminated');
    else {
      expectUnreachable(r);
      expect(await snapshot()).toBe(before);
    }
  });
});

describe('a server that cannot be reached', () => {
  it('down at the start (connection refused): 69 naming host:port for a read and a change; nothing is written', async () => {
    const before = await snapshot();
    stopServer('fast');
    try {
      expectUnreachable(await cli(['list']));
      expectUnreachable(await cli(['csr', '--name', 'refused', '--out', join(work, 'refused.csr')]));
      expectUnreachable(await cli(['show', 'acme', '--json']));
      // check-expiry speaks Nagios: the check could not run is UNKNOWN (3), with the same message
      const check = await cli(['check-expiry', '--format', 'nagios']);
      expect(check.code, check.stderr).toBe(3);
      expect(check.stderr).toContain(`cannot reach the PostgreSQL store at 127.0.0.1:${cluster.port}`);
    } finally {
      cluster.startServer();
    }
    expect(await snapshot()).toBe(before);
  });

  it('a host that accepts the connection and never answers (a black hole): 69 within the connection timeout', async () => {
    const sockets: Socket[] = [];
    // accepts, reads nothing, answers nothing: PostgreSQL's startup packet (protocol 3.0) gets no reply
    const hole: Server = createServer((socket) => {
      sockets.push(socket);
      socket.pause();
    });
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    const port = (hole.address() as { port: number }).port;
    try {
      const url = `postgres://${db.adminRole}@127.0.0.1:${port}/${db.name}`;
      for (const args of [['list'], ['csr', '--name', 'hole', '--out', join(work, 'hole.csr')]]) {
        const r = await cli(args, { APNS_CERT_STORE: url });
        expectUnreachable(r, port);
      }
      expect(sockets.length).toBeGreaterThan(0);
    } finally {
      for (const socket of sockets) socket.destroy();
      hole.close();
    }
  }, 90_000);
});
