/**
 * Store.unlockEarly on a PostgreSQL store (src/store/store.ts: "starts opening an existing store's master key
 * now, before the lock is taken"): the passphrase is asked for, and scrypt runs, while the change still waits for
 * the lock another session holds, not after the change got it (a passphrase typed or a scrypt run under the
 * lock keeps every other admin waiting, then 75).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newRecord } from '../../src/core/index-model.js';
import { PassphraseVault } from '../../src/secrets/passphrase.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { parsePostgresUrl } from '../../src/store/postgres/url.js';
import type { TestDatabase } from '../helpers/postgres.js';
import { testDatabase } from '../helpers/postgres-db.js';
import { importCertificate } from '../../src/commands/shared/import-certificate.js';
import { decodeCertificateFile } from '../../src/core/input.js';
import { makeDeps } from '../helpers/deps.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

const ca = createFakeCa();

let db: TestDatabase;
const stores: PostgresStore[] = [];

function open(onAsked: () => void = () => undefined): PostgresStore {
  const store = new PostgresStore(parsePostgresUrl(db.adminUrl, {}), {
    env: { PGPASSWORD: db.password },
    // a bound, not a measure: the vault is read and the passphrase asked for long before it ends
    lockWaitMs: 10_000,
    now: () => new Date('2026-01-02T03:04:05.000Z'),
    vault: (document) =>
      new PassphraseVault(document, {
        given: true,
        get: async () => {
          onAsked();
          return 'early';
        },
      }),
  });
  stores.push(store);
  return store;
}

beforeAll(async () => {
  db = testDatabase('early');
  expect((await open().init()).created).toBe(true);
});
afterAll(async () => {
  for (const store of stores) await store.close();
});

/**
 * Starts `work` (given the callback its store's passphrase source calls when asked) while another session holds the
 * store's lock, and expects the passphrase to be asked for before `work` ends (else it gives up first: 75); then
 * releases the lock and returns what `work` returns.
 */
async function askedWhileLockHeld<T>(work: (onAsked: () => void) => Promise<T>): Promise<T> {
  const holder = new pg.Client({ ...db.superuser });
  await holder.connect();
  let asked!: () => void;
  const passphraseAsked = new Promise<void>((resolve) => (asked = resolve));
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM apns_cert.meta FOR UPDATE');
    const done = work(() => asked());
    done.catch(() => undefined);
    const first = await Promise.race([
      passphraseAsked.then(() => 'asked while waiting for the lock'),
      done.then(
        () => 'done',
        (error: Error) => `it ended first: ${error.message}`,
      ),
    ]);
    expect(first).toBe('asked while waiting for the lock');
    await holder.query('ROLLBACK');
    return await done;
  } finally {
    await holder.end();
  }
}

describe('unlockEarly', () => {
  it('asks for the passphrase while the change waits for the lock another session holds', async () => {
    await askedWhileLockHeld(async (onAsked) => {
      const store = open(onAsked);
      store.unlockEarly();
      await store.change(async (tx) => {
        await tx.masterKey();
        tx.index.records['early'] = newRecord('early', '2026-01-02T03:04:05.000Z');
        await tx.commit(tx.index);
      });
    });
    expect(Object.keys((await open().read())!.records)).toEqual(['early']);
  });

  it('import of a file with a new key asks while the lock is held elsewhere; of a key the store holds, never', async () => {
    const now = new Date('2026-01-02T03:04:05.000Z');
    const key = newKeyPem();
    const topic = mdmTopic();
    const file = (days: number) =>
      issuePushCert(ca, {
        publicKeyPem: key.publicPem,
        topic,
        notBefore: daysFrom(now, -1),
        notAfter: daysFrom(now, days),
      }) + key.privatePem;
    const importInto = (store: PostgresStore, pem: string) =>
      importCertificate(
        {
          decoded: decodeCertificateFile(Buffer.from(pem), 'tenant.pem'),
          source: 'tenant.pem',
          name: 'tenant',
          appleId: undefined,
          allowNewTopic: false,
          allowExpired: false,
        },
        { ...makeDeps({ now }), store },
      );
    const imported = await askedWhileLockHeld((onAsked) => importInto(open(onAsked), file(300)));
    expect(imported.keySource).toBe('file');
    // the renewal, the file holding the same key again: the store has it, nothing is sealed and nothing asked
    let asks = 0;
    expect(
      (
        await importInto(
          open(() => asks++),
          file(364),
        )
      ).keySource,
    ).toBe('stored');
    expect(asks).toBe(0);
  });

  it('on a database without a store it asks for nothing, and the change says store init', async () => {
    const fresh = testDatabase('earlynone');
    let asked = 0;
    const store = new PostgresStore(parsePostgresUrl(fresh.adminUrl, {}), {
      env: { PGPASSWORD: fresh.password },
      lockWaitMs: 2000,
      now: () => new Date(),
      vault: (document) =>
        new PassphraseVault(document, {
          given: true,
          get: async () => {
            asked++;
            return 'x';
          },
        }),
    });
    stores.push(store);
    store.unlockEarly();
    await expect(store.change(async () => undefined)).rejects.toMatchObject({ code: 'NO_STORE' });
    expect(asked).toBe(0);
  });
});
