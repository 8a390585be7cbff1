/**
 * Writers of a PostgreSQL store killed with -9, 100 times, at moments spread from start-up to the end of their
 * change (many while a CLI session has a transaction open: pg_stat_activity at the kill). After each: every record parses and
 * validates, every certificate and key it names is there and nothing else is (no half record), every change that
 * exited 0 is there, and no lock is left behind (the next change gets it within a short APNS_CERT_LOCK_WAIT_MS).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateKeyIds } from '../../src/core/index-model.js';
import { PassphraseVault } from '../../src/secrets/passphrase.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { parsePostgresUrl } from '../../src/store/postgres/url.js';
import { BIN, cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { psql } from '../helpers/postgres.js';
import { testCluster, testDatabase } from '../helpers/postgres-db.js';

const KILLS = 100;
const PASSPHRASE = 'killed writers';
const ca = createFakeCa();
const NOW = new Date();

let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let work: string;
let superuser: pg.Client;

function openStore(): PostgresStore {
  return new PostgresStore(parsePostgresUrl(db.adminUrl, {}), {
    env: { PGPASSWORD: db.password },
    lockWaitMs: 2000,
    now: () => new Date(),
    vault: (document) => new PassphraseVault(document, { given: true, get: async () => PASSPHRASE }),
  });
}

/** True when a session of the CLI has a transaction open (the store's lock taken or being taken). */
async function cliInTransaction(): Promise<boolean> {
  const { rows } = await superuser.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = $1 AND application_name = 'apns-cert' AND xact_start IS NOT NULL`,
    [db.name],
  );
  return rows[0]!.n > 0;
}

/** Runs the CLI and kills it with SIGKILL after `killAfterMs`; its exit code (null: killed) and whether a transaction was open then. */
function killedWriter(args: string[], killAfterMs: number): Promise<{ code: number | null; inTransaction: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: work, stdio: 'ignore' });
    let inTransaction = false;
    const timer = setTimeout(() => {
      void cliInTransaction().then(
        (open) => {
          inTransaction = open;
          child.kill('SIGKILL');
        },
        () => child.kill('SIGKILL'),
      );
    }, killAfterMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, inTransaction });
    });
  });
}

/** The store as committed is whole: records parse, each names only what is there, nothing is there no record names. */
async function expectConsistent(openKeys = false): Promise<ReturnType<PostgresStore['read']>> {
  const store = openStore();
  try {
    const audit = await store.audit();
    expect(audit.unsafe).toBeNull();
    expect(audit.missing).toEqual([]);
    expect(audit.orphanKeys).toEqual([]);
    expect(audit.orphanCertificates).toEqual([]);
    expect(audit.orphanSecrets).toEqual([]);
    const index = (await store.read())!;
    if (openKeys)
      for (const record of Object.values(index.records)) {
        for (const keyId of [
          ...certificateKeyIds(record),
          ...(record.pendingKey?.keyId ? [record.pendingKey.keyId] : []),
        ])
          expect((await store.privateKey(index, keyId)).keyId).toBe(keyId);
        for (const entry of record.certificates) expect(await store.certificatePem(entry)).toContain('CERTIFICATE');
      }
    return index;
  } finally {
    await store.close();
  }
}

const tableCount = (database: string) =>
  psql(
    testCluster(),
    database,
    "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'apns_cert'",
  ).trim();

beforeAll(async () => {
  db = testDatabase('killed');
  work = tempDir();
  env = cleanEnv({
    APNS_CERT_STORE: db.adminUrl,
    PGPASSWORD: db.password,
    APNS_CERT_PASSPHRASE: PASSPHRASE,
    APNS_CERT_LOCK_WAIT_MS: '20000',
  });
  superuser = new pg.Client({ ...db.superuser });
  await superuser.connect();
  expect((await runCli(['store', 'init'], { env })).code).toBe(0);
});
afterAll(async () => {
  await superuser?.end();
});

describe('writers killed with -9', () => {
  it(`${KILLS} kills: the store stays whole, nothing acknowledged is lost, no lock is left behind`, async () => {
    // how long a whole csr takes here: the kills are spread over it
    const started = Date.now();
    const first = await runCli(['csr', '--name', 'calibration', '--out', join(work, 'calibration.csr')], { env });
    expect(first.code, first.stderr).toBe(0);
    const span = Math.max(300, (Date.now() - started) * 1.2);

    const acknowledged = { pending: new Set<string>(['calibration']), imported: new Map<string, string>() };
    /** Records whose csr exited 0 and whose certificate is not offered yet: the imports to kill. */
    const toImport: string[] = ['calibration'];
    let kills = 0;
    let exitedZero = 0;
    let insideTransaction = 0;
    let probes = 0;
    for (let round = 0; kills < KILLS; round++) {
      const writers: Array<
        Promise<{ name: string; kind: 'csr' | 'import'; code: number | null; inTransaction: boolean }>
      > = [];
      const name = `k${round}`;
      const delay = () => Math.floor(Math.random() * span);
      writers.push(
        killedWriter(['csr', '--name', name, '--out', join(work, `${name}.csr`)], delay()).then((r) => ({
          ...r,
          name,
          kind: 'csr',
        })),
      );
      const importing = toImport.shift();
      if (importing !== undefined) {
        const pem = signCsrFile(ca, join(work, `${importing}.csr`), join(work, `${importing}.pem`), {
          topic: mdmTopic(),
          notBefore: daysFrom(NOW, -1),
          notAfter: daysFrom(NOW, 365),
        });
        writers.push(killedWriter(['import', pem], delay()).then((r) => ({ ...r, name: importing, kind: 'import' })));
      }
      for (const w of await Promise.all(writers)) {
        if (w.code === null) kills++;
        else {
          expect(w.code, `${w.kind} ${w.name}`).toBe(0);
          exitedZero++;
        }
        if (w.code === null && w.inTransaction) insideTransaction++;
        if (w.code === 0 && w.kind === 'csr') {
          acknowledged.pending.add(w.name);
          if (existsSync(join(work, `${w.name}.csr`))) toImport.push(w.name);
        }
        if (w.code === 0 && w.kind === 'import') {
          acknowledged.pending.delete(w.name);
          acknowledged.imported.set(w.name, join(work, `${w.name}.pem`));
        }
      }

      const index = await expectConsistent();
      for (const record of acknowledged.pending) expect(index.records[record], record).toBeDefined();
      for (const record of acknowledged.imported.keys())
        expect(index.records[record]?.certificates, record).toHaveLength(1);

      // a lock left behind would make this wait, then 75
      if (round % 5 === 4) {
        const probe = `probe-${++probes}`;
        const r = await runCli(['csr', '--name', probe, '--out', join(work, `${probe}.csr`)], {
          env: { ...env, APNS_CERT_LOCK_WAIT_MS: '3000' },
        });
        expect(r.code, r.stderr).toBe(0);
        expect(hasStackTrace(r.stderr)).toBe(false);
        acknowledged.pending.add(probe);
      }
    }
    // every key the records name opens with the master key; every certificate is there
    await expectConsistent(true);
    const r = await runCli(['list', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    // some kills landed inside a change's transaction (pg_stat_activity at the moment of the kill)
    expect(insideTransaction, `${insideTransaction} of ${kills} kills inside a transaction`).toBeGreaterThan(0);
    // and some writers finished before their kill: their changes were the ones checked as kept
    expect(exitedZero).toBeGreaterThan(0);
    console.log(
      `${kills} kills, ${insideTransaction} with a transaction open, ${exitedZero} writers acknowledged first`,
    );
  }, 300_000);

  it('store init killed with -9 at random moments (10 databases): no schema or a whole store; init again makes it whole', async () => {
    for (let i = 0; i < 10; i++) {
      const fresh = testDatabase('killinit');
      const own = { ...env, APNS_CERT_STORE: fresh.adminUrl, PGPASSWORD: fresh.password };
      const child = spawn(process.execPath, [BIN, 'store', 'init'], { env: own, stdio: 'ignore' });
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => child.kill('SIGKILL'), 100 + Math.floor(Math.random() * 900));
        child.on('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      const tables = tableCount(fresh.name);
      // all the tables and the store's rows, or nothing: one transaction
      if (tables !== '0') {
        expect(tables).toBe(tableCount(db.name)); // as many as a store init made whole
        expect(psql(testCluster(), fresh.name, 'SELECT count(*) FROM apns_cert.meta').trim()).toBe('1');
        expect(psql(testCluster(), fresh.name, 'SELECT count(*) FROM apns_cert.vault').trim()).toBe('1');
      } else expect(code).toBeNull();
      const again = await runCli(['store', 'init'], { env: own });
      expect(again.code, again.stderr).toBe(0);
      const after = await runCli(['csr', '--name', 'after', '--out', join(work, `after-${i}.csr`)], { env: own });
      expect(after.code, after.stderr).toBe(0);
    }
  }, 120_000);
});
