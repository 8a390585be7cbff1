/**
 * `store copy` (issue 13) on a real PostgreSQL server (the run's cluster): a file store with every kind of record is
 * copied file -> PostgreSQL -> file, and the three stores answer alike (list, show, the keys as export writes them,
 * the remembered Apple ID, the audit log); the copies work; an occupied destination is refused and left as it was,
 * and so is one whose copy fails mid-way (its connection killed; a file system that fills up).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import {
  createFakeCa,
  createVendorHierarchy,
  daysFrom,
  issuePushCert,
  mdmTopic,
  newKeyPem,
  signCsrFile,
} from '../helpers/fake-apple.js';
import { keychainSkipReason } from '../helpers/keychain.js';
import { psql } from '../helpers/postgres.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { testCluster, testDatabase } from '../helpers/postgres-db.js';

const NOW = new Date();
const ca = createFakeCa();
const APPLE_ID = 'copy.admin@acme.example';
const PASSPHRASE = 'copy-passphrase';
const work = tempDir();
const file = (name: string) => join(work, name);
const source = join(tempDir(), 'source');
let db: TestDatabase;

/** The role's password of the test database a URL names (each database has its own). */
const passwords = new Map<string, string>();
const passwordFor = (store: string) => [...passwords].find(([name]) => store.endsWith(`/${name}`))?.[1] ?? db.password;
const envFor = (store: string, extra: Record<string, string | undefined> = {}) =>
  cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: PASSPHRASE, PGPASSWORD: passwordFor(store), ...extra });
async function cli(store: string, args: string[], extra: Record<string, string | undefined> = {}) {
  return runInProcess(args, { env: envFor(store, extra), cwd: work });
}
async function ok(store: string, args: string[]) {
  const r = await cli(store, args, {});
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
}
const json = async (store: string, args: string[]) => JSON.parse((await ok(store, args)).stdout);

/** csr for `name`, Apple signs it, import: a record with a certificate and its key. */
async function certify(store: string, name: string, csrArgs: string[] = []) {
  await ok(store, ['csr', '--name', name, '--out', file(`${name}.csr`), ...csrArgs]);
  signCsrFile(ca, file(`${name}.csr`), file(`${name}.pem`), {
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -10),
    notAfter: daysFrom(NOW, 200),
  });
  await ok(store, ['import', file(`${name}.pem`), '--name', name]);
}

/** What a store answers, for comparing stores: list, show of each record, keys as export writes them, the Apple ID. */
async function answers(store: string) {
  const list = await json(store, ['list', '--json']);
  const names: string[] = list.certificates.map((c: { name: string }) => c.name).sort();
  const shown: Record<string, unknown> = {};
  const exported: Record<string, string> = {};
  for (const name of names) {
    shown[name] = await json(store, ['show', name, '--json']);
    const out = join(tempDir(), `${name}.pem`);
    const r = await cli(store, ['export', name, '--pem', out]);
    exported[name] = r.code === 0 ? readFileSync(out, 'utf8') : `exit ${r.code}`;
  }
  const appleId = (await ok(store, ['show', 'acme', '--reveal-apple-id'])).stdout;
  const vendors = await json(store, ['vendor', 'list', '--json']);
  return { list, shown, exported, appleId, vendors };
}
const logOf = async (store: string) => (await json(store, ['log', '--json'])).entries as Array<{ command: string }>;

beforeAll(async () => {
  db = testDatabase('copy');
  // a renewal history and a remembered Apple ID; a pending csr; a keyless record; a target credential; a vendor
  await certify(source, 'acme', ['--apple-id', APPLE_ID, '--remember-apple-id', '--owner', 'it@acme.example']);
  const topic = (await json(source, ['show', 'acme', '--json'])).topic;
  await ok(source, ['renew', 'acme', '--apple-id', APPLE_ID, '--csr-out', file('renew.csr')]);
  signCsrFile(ca, file('renew.csr'), file('renew.pem'), {
    topic,
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 300),
  });
  await ok(source, ['import', file('renew.pem'), '--name', 'acme']);
  await certify(source, 'beta');
  await ok(source, ['csr', '--name', 'pending', '--out', file('pending.csr')]);
  const serverKey = newKeyPem();
  writeFileSync(
    file('fleet.pem'),
    issuePushCert(ca, {
      publicKeyPem: serverKey.publicPem,
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 365),
    }),
  );
  await ok(source, ['import', file('fleet.pem'), '--name', 'fleet', '--no-key']);
  writeFileSync(file('cred'), 'nanomdm-api-key-for-the-copy-test\n');
  await ok(source, [
    'target',
    'add',
    'acme',
    '--kind',
    'nanomdm',
    '--url',
    'http://127.0.0.1:9/',
    '--credential-file',
    file('cred'),
  ]);
  const vendor = createVendorHierarchy(NOW);
  writeFileSync(file('vendor.pem'), vendor.vendor.pem);
  writeFileSync(file('vendor.key'), vendor.vendor.privatePem);
  writeFileSync(file('chain.pem'), vendor.wwdr.pem + vendor.root.pem);
  await ok(source, [
    'vendor',
    'import',
    '--cert',
    file('vendor.pem'),
    '--key',
    file('vendor.key'),
    '--chain',
    file('chain.pem'),
  ]);
  // a refused change, for the log
  expect((await cli(source, ['import', file('beta.pem'), '--name', 'acme'])).code).not.toBe(0);
}, 120_000);

describe('store copy file -> PostgreSQL -> file', () => {
  const back = join(tempDir(), 'back');
  let before: Awaited<ReturnType<typeof answers>>;
  let sourceLog: Array<{ command: string }>;

  beforeAll(async () => {
    before = await answers(source);
    sourceLog = await logOf(source);
    expect(sourceLog.length).toBeGreaterThanOrEqual(9);
    await ok(source, ['store', 'copy', '--from', source, '--to', db.adminUrl]);
    await ok(source, ['store', 'copy', '--from', db.adminUrl, '--to', back]);
  }, 120_000);

  it('every record, history entry, key, credential, Apple ID and vendor is the same in all three', async () => {
    expect(Object.keys(before.shown)).toEqual(['acme', 'beta', 'fleet', 'pending']);
    expect((before.shown.acme as { history: unknown[] }).history).toHaveLength(2);
    expect(before.exported.acme).toContain('PRIVATE KEY');
    expect(before.appleId).toContain(APPLE_ID);
    expect(await answers(db.adminUrl)).toEqual(before);
    expect(await answers(back)).toEqual(before);
    // PostgreSQL -> PostgreSQL, into a database without the tables (the copy makes them)
    const other = testDatabase('copypg');
    passwords.set(other.name, other.password);
    // two databases, two passwords: as libpq, a password file with a line for each
    const passfile = join(tempDir(), 'pgpass');
    writeFileSync(
      passfile,
      [db, other].map((d) => `${d.host}:${d.port}:${d.name}:${d.adminRole}:${d.password}\n`).join(''),
      { mode: 0o600 },
    );
    const r = await cli(other.adminUrl, ['store', 'copy', '--from', db.adminUrl, '--to', other.adminUrl], {
      PGPASSWORD: undefined,
      PGPASSFILE: passfile,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(await answers(other.adminUrl)).toEqual(before);
  }, 180_000);

  it("nothing was decrypted: the sealed boxes and the wrapped master key are byte for byte the source's", () => {
    const boxes = (dir: string) =>
      ['keys', 'secrets'].flatMap((sub) =>
        readdirSync(join(dir, sub))
          .sort()
          .map((name) => [name, readFileSync(join(dir, sub, name), 'utf8')]),
      );
    expect(boxes(back)).toEqual(boxes(source));
    // acme's two keys, beta's, the pending key, the vendor key; the target credential and the Apple ID
    expect(boxes(back)).toHaveLength(7);
    expect(readFileSync(join(back, 'master-key.json'), 'utf8')).toBe(
      readFileSync(join(source, 'master-key.json'), 'utf8'),
    );
    const index = (dir: string) => JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    expect(index(back)).toEqual(index(source));
    const sealed = psql(testCluster(), db.name, `SELECT count(*) FROM apns_cert.secrets`).trim();
    expect(sealed).toBe(String(boxes(source).length));
  });

  it('doctor finds the copies sound: nothing missing, no orphan, no leftover, every mode right', async () => {
    for (const store of [db.adminUrl, back]) {
      const r = await cli(store, ['doctor', '--offline']);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    expect(readdirSync(join(back, '..'))).toEqual(['back']);
  });

  it('the audit log is carried, each copy logged in its destination', async () => {
    const inPg = await logOf(db.adminUrl);
    expect(inPg.slice(0, sourceLog.length)).toEqual(sourceLog);
    expect(inPg.slice(sourceLog.length).map((e) => e.command)).toEqual(['store copy']);
    const inBack = await logOf(back);
    expect(inBack.slice(0, inPg.length)).toEqual(inPg);
    expect(inBack.slice(inPg.length).map((e) => e.command)).toEqual(['store copy']);
  });

  it('the copies work: an import into each, check-expiry', async () => {
    for (const [store, name] of [
      [db.adminUrl, 'gamma'],
      [back, 'delta'],
    ] as const) {
      await certify(store, name);
      const shown = await json(store, ['show', name, '--json']);
      expect(shown.history).toHaveLength(1);
      const expiry = await cli(store, ['check-expiry']);
      expect(expiry.code, expiry.stdout + expiry.stderr).toBe(0);
    }
  }, 60_000);

  it('a store that is not empty is refused (65), and stays as it was', async () => {
    for (const to of [db.adminUrl, back]) {
      const list = (await ok(to, ['list', '--json'])).stdout;
      const r = await cli(source, ['store', 'copy', '--from', source, '--to', to]);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toMatch(
        /copy into .*: it (holds records|is a store that has records).*; a store is copied only into an empty one/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect((await ok(to, ['list', '--json'])).stdout).toBe(list);
    }
  }, 60_000);

  it('lines of the source log that are not entries are named on stderr (ten, then a count), not copied, and counted in --json', async () => {
    const from = join(tempDir(), 'damaged-log');
    await certify(from, 'epsilon');
    const logFile = join(from, 'audit.jsonl');
    const lines = readFileSync(logFile, 'utf8').split('\n').filter(Boolean);
    writeFileSync(logFile, `${lines[0]}\n${'{"time":"torn\n'.repeat(12)}${lines.slice(1).join('\n')}\n`);
    const to = join(tempDir(), 'copy-of-damaged-log');
    const r = await cli(from, ['store', 'copy', '--from', from, '--to', to, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: the audit log of ${from}: not copied: line 2: not an entry`);
    // ten are named, the rest counted
    expect(r.stderr.match(/^warning: .*not copied: line \d+: not an entry$/gm)).toHaveLength(10);
    expect(r.stderr).toContain(`warning: the audit log of ${from}: not copied: 2 more lines that are not entries`);
    expect(JSON.parse(r.stdout)).toMatchObject({ logEntries: lines.length, logLinesSkipped: 12 });
    const good = await logOf(from);
    expect(good).toHaveLength(lines.length);
    expect((await logOf(to)).slice(0, good.length)).toEqual(good);
  }, 60_000);

  it('no store at --from: 66; the same store on both sides: 64', async () => {
    const missing = join(tempDir(), 'nothing');
    const to = join(tempDir(), 'to');
    let r = await cli(source, ['store', 'copy', '--from', missing, '--to', to]);
    expect(r.code, r.stderr).toBe(66);
    expect(r.stderr).toMatch(/there is no store there/);
    expect(existsSync(to)).toBe(false);
    r = await cli(source, ['store', 'copy', '--from', source, '--to', source]);
    expect(r.code, r.stderr).toBe(64);
  });
});

describe('a copy that fails mid-way leaves the destination as it was', () => {
  it('PostgreSQL: the connection killed while the rows are going in; the store made by init is unchanged', async () => {
    const target = testDatabase('copykill');
    passwords.set(target.name, target.password);
    await ok(target.adminUrl, ['store', 'init']);
    const state = () =>
      ['meta', 'vault', 'records', 'certificates', 'vendor_chains', 'secrets']
        .map((t) => psql(testCluster(), target.name, `SELECT t::text FROM apns_cert.${t} t ORDER BY 1`))
        .join('\n');
    const initial = state();
    // another session holds the audit log: the copy's transaction waits there, its other rows written
    const holder = new pg.Client(target.superuser);
    const watcher = new pg.Client(target.superuser);
    await holder.connect();
    await watcher.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE apns_cert.audit_log IN ACCESS EXCLUSIVE MODE');
      // the built CLI in a process of its own, as an admin runs it
      const copy = runCli(['store', 'copy', '--from', source, '--to', target.adminUrl], {
        env: envFor(target.adminUrl, { APNS_CERT_LOCK_WAIT_MS: '60000' }),
      });
      let killed = 0;
      for (let i = 0; i < 200 && killed === 0; i++) {
        await new Promise((r) => setTimeout(r, 50));
        // not from the holder: inside its transaction pg_stat_activity stays as first read
        const { rows } = await watcher.query(
          `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
           WHERE datname = $1 AND application_name = 'apns-cert' AND wait_event_type = 'Lock'`,
          [target.name],
        );
        killed = rows.length;
      }
      expect(killed).toBe(1);
      await holder.query('ROLLBACK');
      const r = await copy;
      expect(r.code, r.stderr).toBe(69);
      expect(r.stderr).toMatch(/cannot reach the PostgreSQL store[^]*nothing was half-written/);
    } finally {
      await holder.end();
      await watcher.end();
    }
    expect(state()).toBe(initial);
    expect((await ok(target.adminUrl, ['list', '--json'])).stdout).toMatch(/"certificates": \[\]/);
  }, 60_000);

  it('a directory: its file system fills up mid-way (73); nothing is left there', async () => {
    const parent = tempDir();
    if (process.getuid?.() === 0) {
      // root writes anywhere: a real file system that runs out of space, 8 KiB left after a filler
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', parent]);
      writeFileSync(join(parent, 'filler'), Buffer.alloc(56 * 1024));
    } else {
      execFileSync('chmod', ['0500', parent]);
    }
    try {
      const before = readdirSync(parent).sort();
      const to = join(parent, 'copy');
      const r = await cli(source, ['store', 'copy', '--from', source, '--to', to]);
      expect(r.code, r.stderr).toBe(73);
      expect(r.stderr).toMatch(/copy into .*copy: (no space left on device|permission denied|EACCES)/i);
      expect(readdirSync(parent).sort()).toEqual(before);
    } finally {
      if (process.getuid?.() === 0) execFileSync('umount', [parent]);
      else execFileSync('chmod', ['0700', parent]);
    }
    mkdirSync(join(parent, 'copy'));
    // the same directory, with room: the copy goes through
    await ok(source, ['store', 'copy', '--from', source, '--to', join(parent, 'copy')]);
  }, 60_000);
});

describe('a keychain store copied to PostgreSQL (a passphrase vault)', () => {
  const skip = keychainSkipReason();
  if (skip) console.warn(`skipping the keychain store's copy: ${skip}`);
  it.skipIf(skip !== undefined)(
    'its master key is wrapped under the new team passphrase; the sealed keys are copied as they are',
    async () => {
      const store = join(tempDir(), 'keychain-store');
      const keychainEnv = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_SECRET_BACKEND: 'keychain' });
      const spawned = async (args: string[], env: NodeJS.ProcessEnv) => {
        const r = await runCli(args, { env, cwd: work });
        return r;
      };
      let r = await spawned(['csr', '--name', 'kc', '--out', file('kc.csr')], keychainEnv);
      expect(r.code, r.stderr).toBe(0);
      signCsrFile(ca, file('kc.csr'), file('kc.pem'), {
        topic: mdmTopic(),
        notBefore: daysFrom(NOW, -1),
        notAfter: daysFrom(NOW, 100),
      });
      expect((await spawned(['import', file('kc.pem')], keychainEnv)).code).toBe(0);
      expect((await spawned(['export', 'kc', '--pem', file('kc-out.pem')], keychainEnv)).code).toBe(0);
      const target = testDatabase('copykc');
      const pgEnv = (extra: Record<string, string> = {}) =>
        cleanEnv({ APNS_CERT_STORE: target.adminUrl, PGPASSWORD: target.password, ...extra });
      // no new passphrase (no terminal, none given): refused, nothing made
      r = await spawned(['store', 'copy', '--from', store, '--to', target.adminUrl], pgEnv());
      expect(r.code, r.stderr).toBe(69);
      expect(psql(testCluster(), target.name, `SELECT to_regclass('apns_cert.records') IS NULL`).trim()).toBe('t');
      r = await spawned(
        ['store', 'copy', '--from', store, '--to', target.adminUrl],
        pgEnv({ APNS_CERT_PASSPHRASE: 'new-team-passphrase' }),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('its master key is now wrapped under the new team passphrase');
      const keyFiles = readdirSync(join(store, 'keys')).map((name) => readFileSync(join(store, 'keys', name), 'utf8'));
      const rows = psql(testCluster(), target.name, `SELECT box FROM apns_cert.secrets ORDER BY id`);
      for (const box of keyFiles) expect(rows).toContain(box.trim());
      r = await spawned(
        ['export', 'kc', '--pem', file('kc-pg.pem')],
        pgEnv({ APNS_CERT_PASSPHRASE: 'new-team-passphrase' }),
      );
      expect(r.code, r.stderr).toBe(0);
      expect(readFileSync(file('kc-pg.pem'), 'utf8')).toBe(readFileSync(file('kc-out.pem'), 'utf8'));
      r = await spawned(['export', 'kc', '--pem', file('kc-wrong.pem')], pgEnv({ APNS_CERT_PASSPHRASE: 'other' }));
      expect(r.code, r.stderr).toBe(77);
    },
    120_000,
  );
});
