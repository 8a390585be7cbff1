/**
 * Changes of a PostgreSQL store: one transaction under the meta row's lock. A held lock: 75 after
 * APNS_CERT_LOCK_WAIT_MS; two writers at once: the second is judged against the first's result; a change writes
 * only the records it changed (a 10 000-record store); a command that fails leaves the store as it was.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { psql } from '../helpers/postgres.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { initStore, storeEnv, testCluster, testDatabase } from '../helpers/postgres-db.js';

const ca = createFakeCa();
const NOW = new Date();

let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let work: string;

async function cli(...args: string[]) {
  const r = await runCli(args, { env, cwd: work });
  expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
  return r;
}
const sql = (text: string) => psql(testCluster(), db.name, text).trim();

beforeAll(async () => {
  db = testDatabase('changes');
  work = tempDir();
  env = storeEnv(db, 'admin', { APNS_CERT_LOCK_WAIT_MS: '500' });
  await initStore(db);
});

describe('changes of a PostgreSQL store', () => {
  it('a writer that cannot get the lock within APNS_CERT_LOCK_WAIT_MS exits 75, and nothing of it is written', async () => {
    const holder = new pg.Client({ ...db.superuser });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM apns_cert.meta FOR UPDATE');
      const before = sql('SELECT count(*) FROM apns_cert.records');
      const r = await cli('csr', '--name', 'locked', '--out', join(work, 'locked.csr'));
      expect(r.code, r.stderr).toBe(75);
      expect(r.stderr).toMatch(/another apns-cert process is changing it \(waited 1 s\)/);
      expect(r.stderr).toMatch(/hint: /);
      await holder.query('ROLLBACK');
      expect(sql('SELECT count(*) FROM apns_cert.records')).toBe(before);
      expect(sql("SELECT count(*) FROM apns_cert.secrets WHERE kind = 'private-key'")).toBe(
        String(JSON.parse((await cli('list', '--json')).stdout).certificates.length),
      );
    } finally {
      await holder.end();
    }
  });

  it('two imports of the same certificate at once: one imports, the other is judged after it (already imported)', async () => {
    const topic = mdmTopic();
    expect((await cli('csr', '--name', 'twice', '--out', join(work, 'twice.csr'))).code).toBe(0);
    signCsrFile(ca, join(work, 'twice.csr'), join(work, 'twice.pem'), {
      topic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 300),
    });
    const both = await Promise.all([cli('import', join(work, 'twice.pem')), cli('import', join(work, 'twice.pem'))]);
    const codes = both.map((r) => r.code).sort();
    expect(codes, both.map((r) => r.stderr).join('\n')).toEqual([0, 65]);
    expect(both.find((r) => r.code === 65)!.stderr).toMatch(/already/i);
    const shown = JSON.parse((await cli('show', 'twice', '--json')).stdout);
    expect(shown.history).toHaveLength(1);
  });

  it('a change writes only the records it changed, in a store of 10 000 records', async () => {
    const template = JSON.parse(sql("SELECT doc::text FROM apns_cert.records WHERE name = 'twice'")) as Record<
      string,
      unknown
    >;
    const doc = JSON.stringify({ ...template, pendingKey: null, targets: [], deployments: [] });
    sql(
      `INSERT INTO apns_cert.records (name, doc)
       SELECT 'bulk-' || i, jsonb_set($$${doc}$$::jsonb, '{name}', to_jsonb('bulk-' || i)) FROM generate_series(1, 10000) i`,
    );
    sql('CREATE TABLE public.before AS SELECT name, xmin::text AS x FROM apns_cert.records');
    const r = await cli('csr', '--name', 'one-more', '--out', join(work, 'one-more.csr'));
    expect(r.code, r.stderr).toBe(0);
    // a row rewritten gets a new xmin: only the new record's row is new or changed
    expect(
      sql(`SELECT string_agg(r.name, ',') FROM apns_cert.records r LEFT JOIN public.before b USING (name)
           WHERE b.x IS NULL OR b.x <> r.xmin::text`),
    ).toBe('one-more');
    const listed = JSON.parse((await cli('list', '--json')).stdout);
    expect(listed.certificates.length).toBeGreaterThan(10_000);
    const checked = await cli('check-expiry', '--json', '--name', 'twice');
    expect(checked.code, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout).certificates[0]).toMatchObject({ name: 'twice', status: 'ok' });
  });

  it('the server stopped in the middle of a command: 69 naming the host; after the restart, the store is as before', async () => {
    // a private cluster: stopping the run's one would stop every other test file's database
    const { startCluster, createDatabase } = await import('../helpers/postgres.js');
    const cluster = await startCluster();
    try {
      const own = createDatabase(cluster, 'stopped');
      const ownEnv = { ...env, APNS_CERT_STORE: own.adminUrl, PGPASSWORD: own.password };
      expect((await runCli(['store', 'init'], { env: ownEnv })).code).toBe(0);
      const rows = () => psql(cluster, own.name, 'SELECT t::text FROM apns_cert.records t ORDER BY 1');
      const before = rows();
      // the change waits for the lock a superuser holds; the server stops under it
      const holder = new pg.Client({ ...own.superuser });
      await holder.connect();
      holder.on('error', () => undefined);
      await holder.query('BEGIN');
      await holder.query('SELECT * FROM apns_cert.meta FOR UPDATE');
      const running = runCli(['csr', '--name', 'cut', '--out', join(tempDir(), 'cut.csr')], {
        env: { ...ownEnv, APNS_CERT_LOCK_WAIT_MS: '20000' },
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      cluster.stopServer();
      const r = await running;
      expect(r.code, r.stderr).toBe(69);
      expect(r.stderr).toContain(`cannot reach the PostgreSQL store at 127.0.0.1:${cluster.port}`);
      expect(hasStackTrace(r.stderr)).toBe(false);
      await holder.end().catch(() => undefined);
      cluster.startServer();
      expect(rows()).toBe(before);
      expect((await runCli(['list', '--json'], { env: ownEnv })).code).toBe(0);
    } finally {
      cluster.stop();
    }
  });

  it('store upgrade re-wraps nothing on a current store and says so', async () => {
    const r = await cli('store', 'upgrade', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ backend: 'passphrase', changed: false });
    expect(readFileSync(join(work, 'twice.csr'), 'utf8')).toContain('CERTIFICATE REQUEST');
  });
});
