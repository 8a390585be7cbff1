/**
 * The PostgreSQL backend through the Store interface (src/store/store.ts), on a real database: what a change
 * keeps (commit, revertCommit, a throw), the audit log, the vault, and the keychain cache of the master key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRecord } from '../../src/core/index-model.js';
import { PassphraseVault } from '../../src/secrets/passphrase.js';
import { RememberedVault } from '../../src/secrets/remembered.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { parsePostgresUrl } from '../../src/store/postgres/url.js';
import type { PassphraseSource } from '../../src/store/vault.js';
import { psql } from '../helpers/postgres.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { testCluster, testDatabase } from '../helpers/postgres-db.js';

const passphrase = (value: string): PassphraseSource => ({ given: true, get: async () => value });

let db: TestDatabase;
const stores: PostgresStore[] = [];
function open(value = 'team'): PostgresStore {
  const store = new PostgresStore(parsePostgresUrl(db.adminUrl, {}), {
    env: { PGPASSWORD: db.password },
    lockWaitMs: 2000,
    now: () => new Date('2026-01-02T03:04:05.000Z'),
    vault: (document) => new PassphraseVault(document, passphrase(value)),
  });
  stores.push(store);
  return store;
}
const rows = (table: string) => psql(testCluster(), db.name, `SELECT t::text FROM apns_cert.${table} t ORDER BY 1`);

beforeAll(async () => {
  db = testDatabase('backend');
  expect((await open().init()).created).toBe(true);
});
afterAll(async () => {
  for (const store of stores) await store.close();
});

describe('changes through the Store interface', () => {
  it('a change that throws keeps nothing it wrote after its last commit', async () => {
    const store = open();
    const before = rows('records');
    await expect(
      store.change(async (tx) => {
        tx.index.records['thrown'] = newRecord('thrown', '2026-01-02T03:04:05.000Z');
        await tx.putSecret('a'.repeat(64), Buffer.from('credential'), 'target-credential');
        throw new Error('fails before its commit');
      }),
    ).rejects.toThrow('fails before its commit');
    expect(rows('records')).toBe(before);
    expect(rows('secrets')).toBe('');
    // nothing committed, even without a throw
    await store.change(async (tx) => {
      await tx.putSecret('b'.repeat(64), Buffer.from('credential'), 'target-credential');
    });
    expect(rows('secrets')).toBe('');
  });

  it('as the file store: a commit stays when the change throws after it, and so does a removal after the commit', async () => {
    const store = open();
    await store.change(async (tx) => {
      await tx.putSecret('e'.repeat(64), Buffer.from('old credential'), 'target-credential');
      await tx.commit(tx.index);
    });
    await expect(
      store.change(async (tx) => {
        tx.index.records['committed-then-thrown'] = newRecord('committed-then-thrown', '2026-01-02T03:04:05.000Z');
        await tx.commit(tx.index);
        await tx.removeSecret('e'.repeat(64));
        await tx.putSecret('f'.repeat(64), Buffer.from('put after the commit'), 'target-credential');
        throw new Error('fails after its commit');
      }),
    ).rejects.toThrow('fails after its commit');
    expect(Object.keys((await open().read()).records)).toContain('committed-then-thrown');
    expect(rows('secrets')).not.toContain('e'.repeat(64));
    expect(rows('secrets')).not.toContain('f'.repeat(64));
    // a removal after the commit of a change that succeeds stays too
    await store.change(async (tx) => {
      await tx.putSecret('e'.repeat(64), Buffer.from('again'), 'target-credential');
      await tx.commit(tx.index);
    });
    await store.change(async (tx) => {
      delete tx.index.records['committed-then-thrown'];
      await tx.commit(tx.index);
      await tx.removeSecret('e'.repeat(64));
    });
    expect(rows('secrets')).toBe('');
    expect(Object.keys((await open().read()).records)).not.toContain('committed-then-thrown');
  });

  it('revertCommit undoes the last commit: the record and the secrets it wrote', async () => {
    const store = open();
    await store.change(async (tx) => {
      tx.index.records['kept'] = newRecord('kept', '2026-01-02T03:04:05.000Z');
      await tx.commit(tx.index);
      const next = structuredClone(tx.index);
      next.records['reverted'] = newRecord('reverted', '2026-01-02T03:04:05.000Z');
      await tx.putSecret('c'.repeat(64), Buffer.from('credential'), 'target-credential');
      await tx.commit(next);
      await tx.revertCommit();
    });
    expect(Object.keys((await open().read()).records)).toEqual(['kept']);
    expect(rows('secrets')).toBe('');
  });

  it('a secret put and committed opens again with the master key, under another process (store)', async () => {
    const store = open();
    await store.change(async (tx) => {
      await tx.putSecret('d'.repeat(64), Buffer.from('the credential'), 'target-credential');
      await tx.commit(tx.index);
    });
    const other = open();
    const index = await other.read();
    expect((await other.secret(index, 'd'.repeat(64), 'target-credential')).toString()).toBe('the credential');
    await expect(open('not the passphrase').secret(index, 'd'.repeat(64), 'target-credential')).rejects.toMatchObject({
      kind: 'wrong-passphrase',
    });
  });

  it('doctor: a sealed secret no target names is an orphan; a database without a store is refused with store init as the hint', async () => {
    const store = open();
    const audit = await store.audit();
    expect(audit.unsafe).toBeNull();
    expect(audit.orphanSecrets).toEqual(['d'.repeat(64)]);
    const fresh = testDatabase('noaudit');
    const none = new PostgresStore(parsePostgresUrl(fresh.adminUrl, {}), {
      env: { PGPASSWORD: fresh.password },
      lockWaitMs: 2000,
      now: () => new Date(),
      vault: (document) => new PassphraseVault(document, passphrase('x')),
    });
    stores.push(none);
    expect((await none.audit()).unsafe).toMatchObject({
      message: expect.stringContaining('the database has no apns-cert store yet'),
      hint: `apns-cert store init --store ${fresh.adminUrl}`,
    });
  });
});

describe('the audit log', () => {
  it('appends entries and reads them back by record and since', async () => {
    const store = open();
    const entry = {
      user: 'alice',
      host: 'laptop',
      command: 'import',
      result: 'ok' as const,
      exitCode: 0,
    };
    await store.appendLog({ ...entry, at: '2026-01-01T00:00:00.000Z', record: 'acme', serialNumber: 'AB', topic: 't' });
    await store.appendLog({ ...entry, at: '2026-01-03T00:00:00.000Z', record: null, result: 'refused', exitCode: 77 });
    // inside a change that then fails, the entry stays (it has a connection of its own)
    await expect(
      store.change(async () => {
        await store.appendLog({
          ...entry,
          at: '2026-01-04T00:00:00.000Z',
          record: 'acme',
          result: 'failed',
          exitCode: 1,
        });
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    const all = await open().readLog({});
    expect(all.map((e) => e.result)).toEqual(['ok', 'refused', 'failed']);
    expect(all[0]).toEqual({
      ...entry,
      at: '2026-01-01T00:00:00.000Z',
      record: 'acme',
      serialNumber: 'AB',
      topic: 't',
    });
    expect(all[1]).not.toHaveProperty('serialNumber');
    expect((await store.readLog({ record: 'acme' })).map((e) => e.at)).toEqual([
      '2026-01-01T00:00:00.000Z',
      '2026-01-04T00:00:00.000Z',
    ]);
    expect((await store.readLog({ since: new Date('2026-01-02T00:00:00Z') })).length).toBe(2);
  });
});

describe('the master key remembered in the OS keychain (RememberedVault)', () => {
  const key = Buffer.alloc(32, 7);
  const inner = () => {
    let asked = 0;
    return {
      vault: {
        backend: 'passphrase' as const,
        load: async () => {
          asked++;
          return key;
        },
        save: async () => undefined,
        upgrade: async () => null,
      },
      asked: () => asked,
    };
  };

  it('takes the key from the keychain when it has it: no passphrase', async () => {
    const passphraseVault = inner();
    const vault = new RememberedVault(
      passphraseVault.vault,
      async () => ({ find: async () => key, save: async () => undefined }),
      false,
      () => undefined,
    );
    expect(await vault.load('id')).toEqual(key);
    expect(passphraseVault.asked()).toBe(0);
  });

  it('with --remember, keeps the key the passphrase opened', async () => {
    const saved: string[] = [];
    const warned: string[] = [];
    const passphraseVault = inner();
    const vault = new RememberedVault(
      passphraseVault.vault,
      async () => ({ find: async () => null, save: async (id) => void saved.push(id) }),
      true,
      (line) => warned.push(line),
    );
    expect(await vault.load('store-id')).toEqual(key);
    expect(passphraseVault.asked()).toBe(1);
    expect(saved).toEqual(['store-id']);
    expect(warned).toEqual(['the master key of this store is now remembered in your OS keychain']);
  });

  it('a keychain that fails is said, and the passphrase is asked for', async () => {
    const warned: string[] = [];
    const passphraseVault = inner();
    const vault = new RememberedVault(
      passphraseVault.vault,
      async () => ({
        find: async () => {
          throw new Error('reach the OS keychain: no Secret Service');
        },
        save: async () => undefined,
      }),
      true,
      (line) => warned.push(line),
    );
    expect(await vault.load('id')).toEqual(key);
    expect(passphraseVault.asked()).toBe(1);
    expect(warned).toEqual([
      'the OS keychain could not be read (reach the OS keychain: no Secret Service); asking for the store passphrase',
    ]);
  });
});

describe('the CLI in the test process (runInProcess) on a PostgreSQL store', () => {
  it('inits, makes a CSR and lists it, with the password from its own environment', async () => {
    const { runInProcess } = await import('../helpers/in-process.js');
    const { cleanEnv, tempDir } = await import('../helpers/cli.js');
    const own = testDatabase('inprocess');
    const env = cleanEnv({ APNS_CERT_STORE: own.adminUrl, PGPASSWORD: own.password, APNS_CERT_PASSPHRASE: 'p' });
    expect((await runInProcess(['store', 'init'], { env })).code).toBe(0);
    const work = tempDir();
    const r = await runInProcess(['csr', '--name', 'acme', '--out', `${work}/acme.csr`], { env });
    expect(r.code, r.stderr).toBe(0);
    const listed = await runInProcess(['list', '--json'], { env });
    expect(JSON.parse(listed.stdout).certificates).toMatchObject([{ name: 'acme', status: 'pending' }]);
    // every connection of those runs was closed (Store.close): none is left for this database
    const open = () =>
      psql(
        testCluster(),
        'postgres',
        `SELECT count(*) FROM pg_stat_activity WHERE datname = '${own.name}' AND pid <> pg_backend_pid()`,
      ).trim();
    // a backend ends a moment after its client closed the connection
    for (let i = 0; i < 20 && open() !== '0'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(open()).toBe('0');
  });
});
