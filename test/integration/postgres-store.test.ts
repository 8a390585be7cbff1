/**
 * The PostgreSQL store through the built CLI, on the run's private cluster (test/setup/postgres.ts): store init,
 * the errors a database gives (no store yet, a newer schema, wrong passphrase or password, no server), the
 * admin and monitor roles with the grants `store init --print-grants` prints, and no secret in clear in any table.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parseWrappedMasterKey, unwrapMasterKey } from '../../src/core/sealed.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { keychainSkipReason } from '../helpers/keychain.js';
import { psql } from '../helpers/postgres.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { testCluster, testDatabase } from '../helpers/postgres-db.js';
import { SCHEMA_VERSION } from '../../src/store/postgres/schema.js';

const ca = createFakeCa();
const NOW = new Date();
const PASSPHRASE = 'team passphrase for the database store';

function envFor(db: TestDatabase, url: string, extra: Record<string, string | undefined> = {}) {
  return cleanEnv({ APNS_CERT_STORE: url, PGPASSWORD: db.password, APNS_CERT_PASSPHRASE: PASSPHRASE, ...extra });
}

async function cli(args: string[], env: NodeJS.ProcessEnv, cwd?: string) {
  const r = await runCli(args, { env, ...(cwd === undefined ? {} : { cwd }) });
  expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
  expect(r.stderr).not.toContain(String(env.PGPASSWORD ?? 'no password given'));
  return r;
}

/** Every row of every table of the store, as text (what a pg_dump of it would show). */
/** Every row of the store's tables but the audit log (which a command that changes nothing still appends to). */
function everyRow(db: TestDatabase, schema = 'apns_cert'): string {
  const tables = psql(
    testCluster(),
    db.name,
    `SELECT table_name FROM information_schema.tables WHERE table_schema = '${schema}' ORDER BY 1`,
  )
    .trim()
    .split('\n');
  expect(tables).toContain('secrets');
  return tables
    .filter((t) => t !== 'audit_log')
    .map((t) => psql(testCluster(), db.name, `SELECT t::text FROM ${schema}.${t} t ORDER BY 1`))
    .join('\n');
}

describe('store init', () => {
  it('creates the tables and the store once; a second run changes nothing and exits 0', async () => {
    const db = testDatabase('init');
    const env = envFor(db, db.adminUrl);
    // as the hint of an uninitialised database says it: --store after the subcommand
    let r = await cli(['store', 'init', '--store', db.adminUrl], { ...env, APNS_CERT_STORE: tempDir() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /created the store postgres:\/\/init_\d+_\d+_admin@127\.0\.0\.1:\d+\/init_\d+_\d+ \(store id/,
    );
    const before = everyRow(db);
    r = await cli(['store', 'init', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ schemaVersion: 1, created: false, store: db.adminUrl });
    expect(everyRow(db)).toBe(before);
    const log = await cli(['log', '--json'], env);
    expect(
      JSON.parse(log.stdout).entries.map((e: { command: string; result: string }) => [e.command, e.result]),
    ).toEqual([
      ['store init', 'ok'],
      ['store init', 'ok'],
    ]);
    expect(psql(testCluster(), db.name, 'SELECT version FROM apns_cert.schema_version').trim()).toBe(
      String(SCHEMA_VERSION),
    );
    r = await cli(['list', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).certificates).toEqual([]);
  });

  it('in the schema ?schema= names', async () => {
    const db = testDatabase('schema');
    const url = `${db.adminUrl}?schema=tenant_a`;
    const r = await cli(['store', 'init'], envFor(db, url));
    expect(r.code, r.stderr).toBe(0);
    expect(everyRow(db, 'tenant_a')).toContain('passphrase');
    expect(psql(testCluster(), db.name, "SELECT count(*) FROM pg_namespace WHERE nspname = 'apns_cert'").trim()).toBe(
      '0',
    );
  });

  it('an uninitialised database: every other command exits 65 with the hint', async () => {
    const db = testDatabase('uninit');
    const env = envFor(db, db.adminUrl);
    for (const args of [
      ['list'],
      ['check-expiry'],
      ['show', 'acme'],
      ['csr', '--name', 'acme', '--out', join(tempDir(), 'a.csr')],
    ]) {
      const r = await cli(args, env);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(args[0] === 'check-expiry' ? 3 : 65);
      expect(r.stderr).toContain('the database has no apns-cert store yet');
      expect(r.stderr).toContain(`hint: apns-cert store init --store ${db.adminUrl}`);
    }
  });

  it('a store whose schema is newer than the tool: 65, upgrade apns-cert', async () => {
    const db = testDatabase('newer');
    const env = envFor(db, db.adminUrl);
    expect((await cli(['store', 'init'], env)).code).toBe(0);
    psql(testCluster(), db.name, 'UPDATE apns_cert.schema_version SET version = 99');
    for (const args of [['list'], ['store', 'init']]) {
      const r = await cli(args, env);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toMatch(
        new RegExp(`schema version 99, newer than this apns-cert knows \\(${SCHEMA_VERSION}\\): upgrade apns-cert`),
      );
    }
  });

  it('refuses a password in the URL (64) without echoing it', async () => {
    const db = testDatabase('pwurl');
    const r = await cli(
      ['list'],
      envFor(db, `postgres://${db.adminRole}:sekrit-in-url@127.0.0.1:${db.port}/${db.name}`),
    );
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('a password in the store URL is in every process list; use PGPASSWORD or ~/.pgpass');
    expect(r.stderr).not.toContain('sekrit-in-url');
  });

  it('a wrong database password: 77; the password from ~/.pgpass (PGPASSFILE) works', async () => {
    const db = testDatabase('pgpass');
    let r = await cli(['store', 'init'], envFor(db, db.adminUrl, { PGPASSWORD: 'not-the-password' }));
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toContain(`the database refused role "${db.adminRole}"`);
    const passfile = join(tempDir(), 'pgpass');
    writeFileSync(
      passfile,
      `# comment\nother:1:*:*:nope\n127.0.0.1:${db.port}:${db.name}:${db.adminRole}:${db.password}\n`,
      {
        mode: 0o600,
      },
    );
    r = await cli(['store', 'init'], envFor(db, db.adminUrl, { PGPASSWORD: undefined, PGPASSFILE: passfile }));
    expect(r.code, r.stderr).toBe(0);
    // no password anywhere: 77 saying where one goes
    r = await cli(['list'], envFor(db, db.adminUrl, { PGPASSWORD: undefined, HOME: tempDir() }));
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toContain('the server asks for a password and none was given');
    expect(r.stderr).toContain(
      `hint: export PGPASSWORD=...   # or a line 127.0.0.1:${db.port}:${db.name}:${db.adminRole}:<password> in ~/.pgpass`,
    );
  });

  it('TLS: sslmode=verify-full with the CA of the server connects over TLS; without the CA: 69 saying why; prefer is refused', async () => {
    const db = testDatabase('tls');
    const { caFile } = testCluster();
    psql(testCluster(), db.name, `GRANT tls_only TO "${db.adminRole}"`); // pg_hba: no plain connection for it
    let r = await cli(['store', 'init'], envFor(db, db.adminUrl));
    expect(r.code, r.stderr).toBe(77);
    expect(r.stderr).toMatch(/no encryption/);
    const verified = `${db.adminUrl}?sslmode=verify-full&sslrootcert=${encodeURIComponent(caFile)}`;
    r = await cli(['store', 'init'], envFor(db, verified));
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['list'], envFor(db, verified.replace('127.0.0.1', 'localhost')));
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['list'], envFor(db, `${db.adminUrl}?sslmode=verify-full`));
    expect(r.code, r.stderr).toBe(69);
    expect(r.stderr).toMatch(/over TLS: .*certificate/);
    r = await cli(['list'], envFor(db, `${db.adminUrl}?sslmode=require`));
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['list'], envFor(db, `${db.adminUrl}?sslmode=prefer`));
    expect(r.code).toBe(64);
    expect(r.stderr).toContain('sslmode prefer is not one apns-cert takes');
  });

  it('a server that does not answer: 69 naming the host, with pg_isready as the hint', async () => {
    const db = testDatabase('refused');
    const url = `postgres://${db.adminRole}@127.0.0.1:1/${db.name}`;
    const r = await cli(['list'], envFor(db, url));
    expect(r.code, r.stderr).toBe(69);
    expect(r.stderr).toContain('cannot reach the PostgreSQL store at 127.0.0.1:1');
    expect(r.stderr).toContain('hint: pg_isready -h 127.0.0.1 -p 1');
    // a change that could not reach the store says so once: no second "not in the audit log" about the same thing
    const csr = await cli(['csr', '--name', 'acme', '--out', join(tempDir(), 'acme.csr')], envFor(db, url));
    expect(csr.code, csr.stderr).toBe(69);
    expect(csr.stderr.match(/cannot reach the PostgreSQL store/g)).toHaveLength(1);
    expect(csr.stderr).not.toContain('not in the audit log');
  });
});

describe('a store shared by an admin role and a monitor role', () => {
  let db: TestDatabase;
  let admin: NodeJS.ProcessEnv;
  let monitor: NodeJS.ProcessEnv;
  let work: string;
  let topic: string;
  let keyPem: string;

  beforeAll(async () => {
    db = testDatabase('roles');
    admin = envFor(db, db.adminUrl);
    monitor = envFor(db, db.monitorUrl, { APNS_CERT_PASSPHRASE: undefined });
    work = tempDir();
    expect((await cli(['store', 'init'], admin)).code).toBe(0);
    const grants = await cli(['store', 'init', '--print-grants', db.adminRole, db.monitorRole], admin);
    expect(grants.code, grants.stderr).toBe(0);
    expect(grants.stdout).toContain(`GRANT SELECT, INSERT ON "apns_cert".audit_log TO "${db.monitorRole}"`);
    psql(testCluster(), db.name, grants.stdout);

    topic = mdmTopic();
    let r = await cli(['csr', '--name', 'acme', '--out', join(work, 'acme.csr')], admin, work);
    expect(r.code, r.stderr).toBe(0);
    signCsrFile(ca, join(work, 'acme.csr'), join(work, 'acme.pem'), {
      topic,
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 200),
    });
    r = await cli(['import', join(work, 'acme.pem')], admin, work);
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['export', 'acme', '--pem', join(work, 'acme-export.pem')], admin, work);
    expect(r.code, r.stderr).toBe(0);
    keyPem = (await import('node:fs')).readFileSync(join(work, 'acme-export.pem'), 'utf8');
    expect(keyPem).toContain('PRIVATE KEY');
  });

  it('the monitor role runs check-expiry, list and show without passphrase or keychain', async () => {
    let r = await cli(['check-expiry'], monitor);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK/);
    r = await cli(['list', '--json'], monitor);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).certificates[0]).toMatchObject({ name: 'acme', topic, status: 'active' });
    r = await cli(['show', 'acme', '--json'], monitor);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'acme', topic });
  });

  it('the monitor role gets one line "permission denied by the database for this role" (77) for csr and export', async () => {
    const monitorWithPassphrase = { ...monitor, APNS_CERT_PASSPHRASE: PASSPHRASE };
    for (const args of [
      ['csr', '--name', 'other', '--out', join(work, 'other.csr')],
      ['export', 'acme', '--pem', join(work, 'monitor-export.pem')],
      ['retire', 'acme', '--yes'],
    ]) {
      const r = await cli(args, monitorWithPassphrase, work);
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(77);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(/^apns-cert: .+: permission denied by the database for this role$/);
      expect(lines.filter((l) => !l.startsWith('hint: '))).toHaveLength(1);
    }
  });

  it('doctor --offline: the admin role sees every row in place; the monitor role gets a warning for the vault, no failure', async () => {
    let r = await cli(['doctor', '--offline', '--json'], admin);
    expect(r.code, r.stdout).toBe(0);
    const checks = JSON.parse(r.stdout).checks as Array<{ check: string; status: string; message: string }>;
    expect(checks.find((c) => c.check === 'store')).toMatchObject({
      status: 'ok',
      message: `${db.adminUrl} (passphrase backend)`,
    });
    expect(checks.find((c) => c.check === 'secret-backend')).toMatchObject({ status: 'ok' });
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
    r = await cli(['doctor', '--offline', '--json'], monitor);
    expect(r.code, r.stdout).toBe(0);
    const seen = JSON.parse(r.stdout).checks as Array<{ check: string; status: string; message: string }>;
    expect(seen.find((c) => c.check === 'secret-backend')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('permission denied by the database for this role'),
    });
  });

  it('the monitor role cannot read the secrets nor the vault (42501)', async () => {
    const client = new pg.Client({
      host: db.host,
      port: db.port,
      user: db.monitorRole,
      password: db.password,
      database: db.name,
    });
    await client.connect();
    try {
      for (const table of ['secrets', 'vault'])
        await expect(client.query(`SELECT * FROM apns_cert.${table}`)).rejects.toMatchObject({ code: '42501' });
      await expect(client.query(`UPDATE apns_cert.records SET doc = doc`)).rejects.toMatchObject({ code: '42501' });
      await expect(client.query(`DELETE FROM apns_cert.audit_log`)).rejects.toMatchObject({ code: '42501' });
      expect((await client.query('SELECT count(*)::int AS n FROM apns_cert.records')).rows[0]).toEqual({ n: 1 });
    } finally {
      await client.end();
    }
  });

  it('no secret is in clear in any table: not the private key, not a target credential', async () => {
    const credential = 'nanomdm-api-key-in-clear-would-be-bad';
    const credentialFile = join(work, 'credential');
    writeFileSync(credentialFile, credential);
    const r = await cli(
      [
        'target',
        'add',
        'acme',
        '--kind',
        'nanomdm',
        '--url',
        'http://127.0.0.1:9/',
        '--credential-file',
        credentialFile,
      ],
      admin,
      work,
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = everyRow(db);
    const keyBlock = /-----BEGIN [A-Z ]*PRIVATE KEY-----\n([\s\S]+?)-----END/.exec(keyPem)![1]!;
    const keyBase64 = keyBlock.split('\n').filter((l) => l !== '');
    expect(keyBase64.length).toBeGreaterThan(10);
    expect(rows).not.toMatch(/PRIVATE KEY/);
    for (const line of keyBase64) expect(rows).not.toContain(line);
    expect(rows).not.toContain(credential);
    expect(rows).not.toContain(Buffer.from(credential).toString('base64'));
    expect(rows).not.toContain(PASSPHRASE);
    expect(rows).toContain('aes-256-gcm');
    // the master key itself (unwrapped here with the team passphrase) is in no row, in base64 or hex
    const document = psql(testCluster(), db.name, 'SELECT document FROM apns_cert.vault');
    const masterKey = await unwrapMasterKey(parseWrappedMasterKey(document), PASSPHRASE);
    expect(masterKey).toHaveLength(32);
    expect(rows).not.toContain(masterKey.toString('base64'));
    expect(rows).not.toContain(masterKey.toString('base64').slice(0, 40));
    expect(rows.toLowerCase()).not.toContain(masterKey.toString('hex'));
  });

  it('an admin role with the printed grants, not the owner of the tables, runs every command; the audit log stays append only', async () => {
    const staff = `${db.name}_staff`;
    psql(testCluster(), 'postgres', `CREATE ROLE "${staff}" LOGIN PASSWORD '${db.password}'`);
    psql(testCluster(), db.name, `GRANT CONNECT ON DATABASE "${db.name}" TO "${staff}"`);
    const grants = await cli(['store', 'init', '--print-grants', staff, db.monitorRole], admin);
    psql(testCluster(), db.name, grants.stdout);
    const url = db.adminUrl.replace(`//${db.adminRole}@`, `//${staff}@`);
    const staffEnv = envFor(db, url);
    let r = await cli(['store', 'init'], staffEnv);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('is already there');
    r = await cli(['csr', '--name', 'staff-made', '--out', join(work, 'staff.csr')], staffEnv, work);
    expect(r.code, r.stderr).toBe(0);
    r = await cli(['export', 'acme', '--pem', join(work, 'staff-export.pem')], staffEnv, work);
    expect(r.code, r.stderr).toBe(0);
    const client = new pg.Client({
      host: db.host,
      port: db.port,
      user: staff,
      password: db.password,
      database: db.name,
    });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO apns_cert.audit_log (at, os_user, host, command, result, exit_code) VALUES (now(), 'u', 'h', 'csr', 'ok', 0)`,
      );
      await expect(client.query(`UPDATE apns_cert.audit_log SET result = 'ok'`)).rejects.toMatchObject({
        code: '42501',
      });
      await expect(client.query(`DELETE FROM apns_cert.audit_log`)).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });

  it('a wrong team passphrase: 77', async () => {
    const r = await cli(
      ['export', 'acme', '--pem', join(work, 'x.pem')],
      { ...admin, APNS_CERT_PASSPHRASE: 'wrong' },
      work,
    );
    expect(r.code, r.stderr).toBe(77);
  });
});

describe("--remember: the master key in the admin's OS keychain", () => {
  const skip = keychainSkipReason();
  if (skip) console.warn(`skipping --remember with the real keychain: ${skip}`);
  it.skipIf(skip !== undefined)(
    'once unlocked with --remember, later commands need no passphrase; a keychain that fails is said',
    async () => {
      const db = testDatabase('remember');
      const work = tempDir();
      const withPassphrase = envFor(db, db.adminUrl);
      const without = envFor(db, db.adminUrl, { APNS_CERT_PASSPHRASE: undefined });
      expect((await cli(['store', 'init'], withPassphrase)).code).toBe(0);
      expect((await cli(['csr', '--name', 'acme', '--out', join(work, 'acme.csr')], withPassphrase, work)).code).toBe(
        0,
      );
      const topic = mdmTopic();
      signCsrFile(ca, join(work, 'acme.csr'), join(work, 'acme.pem'), {
        topic,
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 100),
      });
      expect((await cli(['import', join(work, 'acme.pem')], withPassphrase, work)).code).toBe(0);
      const exportTo = (file: string) => ['export', 'acme', '--pem', join(work, file)];

      // not remembered yet: no passphrase and no terminal
      let r = await cli(exportTo('a.pem'), without, work);
      expect(r.code, r.stderr).toBe(69);
      r = await cli(['--remember', ...exportTo('b.pem')], withPassphrase, work);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('the master key of this store is now remembered in your OS keychain');
      r = await cli(exportTo('c.pem'), without, work);
      expect(r.code, r.stderr).toBe(0);

      // a keychain that cannot be reached is said, and the passphrase is asked for (none here: 69)
      const noBus = { ...without, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' };
      r = await cli(exportTo('d.pem'), noBus, work);
      expect(r.code, r.stderr).toBe(69);
      expect(r.stderr).toContain('the OS keychain could not be read');
      expect(r.stderr).toContain('the passphrase backend needs a passphrase');
      r = await cli(['--remember', ...exportTo('e.pem')], { ...noBus, APNS_CERT_PASSPHRASE: PASSPHRASE }, work);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('the OS keychain could not be read');
    },
  );
});
