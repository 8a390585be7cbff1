/**
 * Schema version 2 of the PostgreSQL store (src/store/postgres/schema.ts): a store of version 1 is refused until
 * `store init` upgrades it, then holds its records as before; check-expiry's summary is the server's, generated
 * from each record (a hand-made UPDATE shows at once); and the generation that lets a read skip validating every
 * record is moved by any writer, psql included, so a damaged record written by hand is still refused (65).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';
import { psql } from '../helpers/postgres.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { initStore, storeEnv, testCluster, testDatabase } from '../helpers/postgres-db.js';
import { SCHEMA_VERSION } from '../../src/store/postgres/schema.js';

const ca = createFakeCa();
const NOW = new Date();
let work: string;

beforeAll(() => {
  work = tempDir();
});

async function cli(env: NodeJS.ProcessEnv, ...args: string[]) {
  const r = await runCli(args, { env, cwd: work });
  expect(hasStackTrace(r.stderr), r.stderr).toBe(false);
  return r;
}

/** A store of `db` with one imported record, `name`, whose certificate expires in `days` days. */
async function storeWithRecord(db: TestDatabase, name: string, days: number): Promise<NodeJS.ProcessEnv> {
  const env = storeEnv(db);
  await initStore(db);
  const dir = tempDir();
  const made = await cli(env, 'csr', '--name', name, '--out', join(dir, `${name}.csr`));
  expect(made.code, made.stderr).toBe(0);
  signCsrFile(ca, join(dir, `${name}.csr`), join(dir, `${name}.pem`), {
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, days),
  });
  const r = await cli(env, 'import', join(dir, `${name}.pem`), '--name', name);
  expect(r.code, r.stderr).toBe(0);
  return env;
}

const sql = (db: TestDatabase, text: string) => psql(testCluster(), db.name, text).trim();

describe('schema version 2', () => {
  it('a store of version 1 is refused (65, hint: store init) until store init upgrades it; its records stay', async () => {
    const db = testDatabase('upgrade');
    const env = await storeWithRecord(db, 'acme', 90);
    const before = JSON.parse((await cli(env, 'list', '--json')).stdout).certificates;
    // back to the tables migration 1 made: what an older apns-cert left
    sql(
      db,
      `DROP TRIGGER records_changed ON apns_cert.records; DROP FUNCTION apns_cert.records_changed();
       ALTER TABLE apns_cert.records DROP COLUMN summary, DROP COLUMN active_not_after; ALTER TABLE apns_cert.records ALTER COLUMN doc TYPE jsonb;
       ALTER TABLE apns_cert.meta DROP COLUMN generation, DROP COLUMN vouched_generation;
       UPDATE apns_cert.schema_version SET version = 1`,
    );
    for (const args of [['list'], ['check-expiry', '--name', 'acme']]) {
      const r = await cli(env, ...args);
      expect(r.code, r.stderr).toBe(args[0] === 'check-expiry' ? 3 : 65);
      expect(r.stderr).toMatch(/older schema version 1/);
      expect(r.stderr).toContain(`hint: apns-cert store init --store ${db.adminUrl}`);
    }
    let r = await cli(env, 'store', 'init');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/upgraded the tables of the store .* from schema version 1/);
    expect(sql(db, 'SELECT version FROM apns_cert.schema_version')).toBe(String(SCHEMA_VERSION));
    expect(JSON.parse((await cli(env, 'list', '--json')).stdout).certificates).toEqual(before);
    r = await cli(env, 'check-expiry', '--json', '--name', 'acme');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).certificates[0]).toMatchObject({ name: 'acme', status: 'ok' });
    // once upgraded, init changes nothing
    r = await cli(env, 'store', 'init', '--json');
    expect(JSON.parse(r.stdout)).toMatchObject({ created: false, upgradedFrom: null });
  });

  it("check-expiry reads the server's summary of each record: a hand-made UPDATE of a record shows at once", async () => {
    const db = testDatabase('summary');
    const env = await storeWithRecord(db, 'acme', 200);
    let r = await cli(env, 'check-expiry', '--json');
    expect(JSON.parse(r.stdout).certificates[0]).toMatchObject({ name: 'acme', status: 'ok' });
    // the active certificate now expires in 3 days, written with psql as an admin might
    const soon = daysFrom(NOW, 3).toISOString();
    sql(
      db,
      `UPDATE apns_cert.records SET doc = jsonb_set(doc::jsonb, '{certificates,0,notAfter}', '"${soon}"')::json
       WHERE name = 'acme'`,
    );
    r = await cli(env, 'check-expiry', '--json');
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).certificates[0]).toMatchObject({ name: 'acme', status: 'critical' });
  });

  it("check-expiry -q over the whole store: the soonest expiry is the server's, trusted only while the generation is vouched", async () => {
    const db = testDatabase('soonest');
    const env = await storeWithRecord(db, 'acme', 200);
    let r = await cli(env, 'check-expiry', '-q');
    expect([r.code, r.stdout, r.stderr]).toEqual([0, '', '']);
    // a second record, then a damaged date written by hand: it sorts after the good one, so only the generation
    // check keeps -q from answering OK from the minimum alone
    sql(
      db,
      `INSERT INTO apns_cert.records (name, doc)
       SELECT 'beta', jsonb_set(jsonb_set(doc::jsonb, '{name}', '"beta"'), '{certificates,0,notAfter}',
                                '"XXXXXXXXXXXXXXXXXXXXXXXX"')::json
       FROM apns_cert.records WHERE name = 'acme'`,
    );
    r = await cli(env, 'check-expiry', '-q');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/record "beta"/);
  });

  it('a damaged record written by hand after a change of the tool is refused (65): the trigger moved the generation', async () => {
    const db = testDatabase('vouched');
    const env = await storeWithRecord(db, 'acme', 90);
    expect(sql(db, 'SELECT vouched_generation = generation FROM apns_cert.meta')).toBe('t');
    sql(db, `UPDATE apns_cert.records SET doc = jsonb_set(doc::jsonb, '{certificates,0,file}', '"../../x"')::json`);
    expect(sql(db, 'SELECT vouched_generation = generation FROM apns_cert.meta')).toBe('f');
    for (const args of [['list'], ['csr', '--name', 'other', '--out', join(work, 'other.csr')]]) {
      const r = await cli(env, ...args);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toMatch(/record "acme"/);
    }
    // a DELETE and a TRUNCATE move it too
    const generation = () => Number(sql(db, 'SELECT generation FROM apns_cert.meta'));
    const g = generation();
    sql(db, "DELETE FROM apns_cert.records WHERE name = 'nothing-of-that-name'");
    expect(generation()).toBe(g + 1);
    sql(db, 'TRUNCATE apns_cert.records');
    expect(generation()).toBe(g + 2);
  });

  it('a change rewrites only the records it changed, also when a stored document is not the text the tool writes', async () => {
    const db = testDatabase('texts');
    const env = await storeWithRecord(db, 'acme', 90);
    // the same record as jsonb prints it (spaces, keys reordered): another build's or a hand-made text
    sql(db, `UPDATE apns_cert.records SET doc = doc::jsonb::json WHERE name = 'acme'`);
    expect(sql(db, "SELECT doc::text LIKE '%\": %' FROM apns_cert.records WHERE name = 'acme'")).toBe('t');
    sql(db, 'CREATE TABLE public.before AS SELECT name, xmin::text AS x FROM apns_cert.records');
    const r = await cli(env, 'csr', '--name', 'second', '--out', join(work, 'second.csr'));
    expect(r.code, r.stderr).toBe(0);
    expect(
      sql(
        db,
        `SELECT string_agg(r.name, ',') FROM apns_cert.records r LEFT JOIN public.before b USING (name)
         WHERE b.x IS NULL OR b.x <> r.xmin::text`,
      ),
    ).toBe('second');
  });
});
