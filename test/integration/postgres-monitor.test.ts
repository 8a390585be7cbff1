/**
 * The monitor role of a PostgreSQL store, with the grants `store init --print-grants` prints: on a host with no
 * passphrase, no keychain and no D-Bus, check-expiry (every format), list and show work; every change and every
 * read of a secret is refused with one line "permission denied by the database for this role" and a hint (77),
 * the store unchanged; the role cannot SELECT the secrets or the vault (42501).
 */
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { psql } from '../helpers/postgres.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { initStore, storeEnv, TEST_PASSPHRASE, testCluster, testDatabase } from '../helpers/postgres-db.js';

const ca = createFakeCa();
const NOW = new Date();
const topic = mdmTopic();

let db: TestDatabase;
let admin: NodeJS.ProcessEnv;
let monitor: NodeJS.ProcessEnv;
let work: string;

const cli = (args: string[], env: NodeJS.ProcessEnv) => runCli(args, { env, cwd: work });
/** Every row of the store but the audit log's (where the monitor role's refusals are written: see the test). */
const everyRow = () =>
  ['meta', 'records', 'certificates', 'secrets', 'vault']
    .map((t) => psql(testCluster(), db.name, `SELECT t::text FROM apns_cert.${t} t ORDER BY 1`))
    .join('\n');

beforeAll(async () => {
  db = testDatabase('monitor');
  work = tempDir();
  admin = storeEnv(db);
  // a monitoring host: a HOME of its own with no keyring, no session bus, no passphrase
  const home = tempDir('apns-cert-monitor-home-');
  monitor = storeEnv(db, 'monitor', {
    HOME: home,
    XDG_DATA_HOME: join(home, 'data'),
    XDG_RUNTIME_DIR: undefined,
    DBUS_SESSION_BUS_ADDRESS: undefined,
  });
  await initStore(db);
  for (const name of ['acme', 'pending']) {
    const r = await cli(
      ['csr', '--name', name, '--apple-id', 'mdm@acme.example', '--out', join(work, `${name}.csr`)],
      admin,
    );
    expect(r.code, r.stderr).toBe(0);
    signCsrFile(ca, join(work, `${name}.csr`), join(work, `${name}.pem`), {
      topic: name === 'acme' ? topic : mdmTopic(),
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 200),
    });
  }
  const r = await cli(['import', join(work, 'acme.pem')], admin);
  expect(r.code, r.stderr).toBe(0);
});

describe('the monitor role', () => {
  it('check-expiry in every format, list and show: no passphrase, no keychain', async () => {
    const runs = await Promise.all([
      cli(['check-expiry'], monitor),
      cli(['check-expiry', '--json'], monitor),
      cli(['check-expiry', '--format', 'prometheus'], monitor),
      cli(['check-expiry', '--format', 'nagios'], monitor),
      cli(['list', '--json'], monitor),
      cli(['show', 'acme', '--json'], monitor),
    ]);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(r.stderr).not.toMatch(/passphrase|keychain/i);
    }
    const [text, json, prometheus, nagios, list, show] = runs.map((r) => r.stdout);
    expect(text).toMatch(/OK/);
    expect(JSON.parse(json!)).toMatchObject({ status: 'ok', certificates: [{ name: 'acme', status: 'ok' }] });
    expect(prometheus).toMatch(/^apns_cert_\w+\{[^}]*name="acme"[^}]*\} /m);
    expect(nagios).toMatch(/^APNS-CERT OK|^OK/);
    expect(
      JSON.parse(list!)
        .certificates.map((c: { name: string }) => c.name)
        .sort(),
    ).toEqual(['acme', 'pending']);
    expect(JSON.parse(show!)).toMatchObject({ name: 'acme', topic });
  });

  const changes = (): string[][] => [
    ['csr', '--name', 'other', '--out', join(work, 'other.csr')],
    ['import', join(work, 'pending.pem')],
    ['export', 'acme', '--pem', join(work, 'monitor-export.pem')],
    ['renew', 'acme', '--apple-id', 'mdm@acme.example', '--csr-out', join(work, 'monitor-renew.csr')],
    ['retire', 'acme', '--yes'],
    ['target', 'add', 'acme', '--kind', 'fleet', '--url', 'https://fleet.example.com/'],
    ['store', 'upgrade'],
  ];

  for (const passphrase of [false, true])
    it(`csr, import, export, renew, retire, target add, store upgrade: 77, one line and a hint, the store unchanged (${passphrase ? 'with' : 'without'} a passphrase)`, async () => {
      const before = everyRow();
      const startedAt = new Date();
      const env = passphrase ? { ...monitor, APNS_CERT_PASSPHRASE: TEST_PASSPHRASE } : monitor;
      const runs = await Promise.all(changes().map((args) => cli(args, env)));
      runs.forEach((r, i) => {
        const what = `${changes()[i]!.slice(0, 2).join(' ')}: ${r.stderr}`;
        expect(r.code, what).toBe(77);
        const lines = r.stderr.trim().split('\n');
        expect(lines, what).toHaveLength(2);
        expect(lines[0], what).toMatch(/^apns-cert: .+: permission denied by the database for this role$/);
        expect(lines[1], what).toMatch(/^hint: the role "[^"]+" lacks the grant for this/);
        expect(r.stdout, what).toBe('');
      });
      expect(everyRow()).toBe(before);
      // each refused change is in the audit log (the monitor role may INSERT there), as refused with its exit code
      const log = await cli(['log', '--json', '--since', startedAt.toISOString()], admin);
      expect(log.code, log.stderr).toBe(0);
      const entries = (JSON.parse(log.stdout) as { entries: { command: string; result: string; exitCode: number }[] })
        .entries;
      for (const command of ['csr', 'import', 'renew', 'retire', 'target add', 'store upgrade'])
        expect(
          entries.filter((e) => e.command === command && e.result === 'refused' && e.exitCode === 77),
        ).toHaveLength(1);
      expect(entries.filter((e) => e.command === 'export')).toEqual([]); // a read: not logged
    });

  it('with APNS_CERT_DEBUG=1 the same line and hint come first, then the stack (as for every error)', async () => {
    const r = await cli(['export', 'acme', '--pem', join(work, 'debug-export.pem')], {
      ...monitor,
      APNS_CERT_DEBUG: '1',
    });
    expect(r.code, r.stderr).toBe(77);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(/permission denied by the database for this role$/);
    expect(lines[1]).toMatch(/^hint: /);
    expect(hasStackTrace(r.stderr)).toBe(true);
  });

  it('a SELECT of the secrets or the vault as the monitor role: SQLSTATE 42501', async () => {
    const client = new pg.Client({
      host: db.host,
      port: db.port,
      user: db.monitorRole,
      password: db.password,
      database: db.name,
    });
    await client.connect();
    try {
      for (const sql of [
        'SELECT box FROM apns_cert.secrets',
        'SELECT count(*) FROM apns_cert.secrets',
        'SELECT document FROM apns_cert.vault',
        'SELECT * FROM apns_cert.meta FOR UPDATE',
      ])
        await expect(client.query(sql), sql).rejects.toMatchObject({ code: '42501' });
      expect((await client.query('SELECT count(*)::int AS n FROM apns_cert.records')).rows[0]).toEqual({ n: 2 });
    } finally {
      await client.end();
    }
  });
});
