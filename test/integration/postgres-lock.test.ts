/**
 * The store's lock of a PostgreSQL store is the meta row (postgres-store.ts: readIndex takes it with SELECT ...
 * FOR UPDATE in every change). A session of the test holding it: every kind of change (csr, import, renew,
 * retire, target add) exits 75 after APNS_CERT_LOCK_WAIT_MS, the store unchanged, while reads go on; once the
 * lock is released, the same commands succeed. A CLI paused (SIGSTOP) in its change keeps the lock as the file
 * store's holder does: the other writer gets 75, and the paused one finishes when resumed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { psql } from '../helpers/postgres.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { testCluster, testDatabase } from '../helpers/postgres-db.js';

const ca = createFakeCa();
const NOW = new Date();

let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let work: string;

const cli = (args: string[], extra: Record<string, string> = {}) =>
  runCli(args, { env: { ...env, ...extra }, cwd: work });
const everyRow = () =>
  ['meta', 'records', 'certificates', 'secrets', 'vault']
    .map((t) => psql(testCluster(), db.name, `SELECT t::text FROM apns_cert.${t} t ORDER BY 1`))
    .join('\n');

beforeAll(async () => {
  db = testDatabase('locked');
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: db.adminUrl, PGPASSWORD: db.password, APNS_CERT_PASSPHRASE: 'locked' });
  expect((await cli(['store', 'init'])).code).toBe(0);
  for (const name of ['acme', 'pending']) {
    const r = await cli(['csr', '--name', name, '--apple-id', 'mdm@acme.example', '--out', join(work, `${name}.csr`)]);
    expect(r.code, r.stderr).toBe(0);
    signCsrFile(ca, join(work, `${name}.csr`), join(work, `${name}.pem`), {
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 200),
    });
  }
  expect((await cli(['import', join(work, 'acme.pem')])).code).toBe(0);
});

const changes = (): string[][] => [
  ['csr', '--name', 'other', '--out', join(work, 'other.csr')],
  ['import', join(work, 'pending.pem')],
  ['renew', 'acme', '--apple-id', 'mdm@acme.example', '--csr-out', join(work, 'renew.csr'), '--force'],
  ['target', 'add', 'acme', '--kind', 'fleet', '--url', 'https://fleet.example.com/'],
  ['retire', 'acme', '--yes'],
];

describe('the store lock held by another session', () => {
  it('every kind of change exits 75 after APNS_CERT_LOCK_WAIT_MS and writes nothing; reads go on; released, they succeed', async () => {
    const before = everyRow();
    const holder = new pg.Client({ ...db.superuser });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM apns_cert.meta WHERE id = 1 FOR UPDATE');
      const runs = await Promise.all(changes().map((args) => cli(args, { APNS_CERT_LOCK_WAIT_MS: '300' })));
      runs.forEach((r, i) => {
        const what = `${changes()[i]!.slice(0, 2).join(' ')}: ${r.stderr}`;
        expect(r.code, what).toBe(75);
        expect(r.stderr, what).toMatch(/another apns-cert process is changing it/);
        expect(r.stderr, what).toMatch(/^hint: /m);
        expect(hasStackTrace(r.stderr), what).toBe(false);
      });
      // a read takes no lock
      const listed = await cli(['list', '--json']);
      expect(listed.code, listed.stderr).toBe(0);
      expect((await cli(['check-expiry', '--json'])).code).toBe(0);
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
    }
    expect(everyRow()).toBe(before);
    // the same changes, one after the other, once the lock is free
    for (const args of changes()) {
      const r = await cli(args, { APNS_CERT_LOCK_WAIT_MS: '300' });
      expect(r.code, `${args.slice(0, 2).join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it('a CLI paused (SIGSTOP) inside its change keeps the lock: another writer gets 75; resumed, the paused one finishes', async () => {
    const watcher = new pg.Client({ ...db.superuser });
    await watcher.connect();
    const holder = spawn(process.execPath, [BIN, 'csr', '--name', 'paused', '--out', join(work, 'paused.csr')], {
      env: { ...env, APNS_CERT_LOCK_WAIT_MS: '20000' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => holder.on('exit', resolve));
    try {
      // stopped the moment its transaction is seen open: it holds the lock (or is about to take it, nobody else can)
      for (let seen = false; !seen; await new Promise((resolve) => setTimeout(resolve, 10))) {
        const { rows } = await watcher.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = $1 AND application_name = 'apns-cert' AND xact_start IS NOT NULL`,
          [db.name],
        );
        seen = rows[0]!.n > 0;
      }
      holder.kill('SIGSTOP');
      const other = await cli(['csr', '--name', 'meanwhile', '--out', join(work, 'meanwhile.csr')], {
        APNS_CERT_LOCK_WAIT_MS: '1000',
      });
      expect(other.code, other.stderr).toBe(75);
      holder.kill('SIGCONT');
      expect(await exited).toBe(0);
    } finally {
      holder.kill('SIGCONT');
      await watcher.end();
    }
    const listed = JSON.parse((await cli(['list', '--json'])).stdout) as { certificates: Array<{ name: string }> };
    expect(listed.certificates.map((c) => c.name)).toContain('paused');
    expect(listed.certificates.map((c) => c.name)).not.toContain('meanwhile');
  });
});
