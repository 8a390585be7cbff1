import type pg from 'pg';
import { AppError } from '../../errors.js';
import type { AuditEntry, AuditFilter } from '../../core/audit-log.js';
import { INDEX_SCHEMA_VERSION, isIsoDate, parseIndex, parseOwnIndex } from '../../core/index-model.js';
import { sameJson } from '../../core/same-json.js';
import type { CertificateEntry, StoreIndex, VendorEntry } from '../../core/index-model.js';
import type { SummaryRecord } from '../../core/expiry-summary.js';
import type { PrivateKeyInfo } from '../../core/keys.js';
import type { SecretKind } from '../../core/sealed.js';
import { certificateFiles, sealedSecretRefs } from '../../core/store-contents.js';
import type { SealedKind, StoreContents } from '../../core/store-contents.js';
import { emptyStoreAudit, notEmptyError } from '../store.js';
import type { Store, StoreAudit, StoreChange, StoreInit } from '../store.js';
import { certificateFile, vendorChainFile } from '../file/layout.js';
import type { KdfUpgrade, MasterKeyVault, VaultDocument } from '../vault.js';
import { appendStatement, entryOfRow, readStatement } from './audit-log.js';
import type { AuditRow } from './audit-log.js';
import { auditRows, PRIVATE_KEY } from './audit.js';
import { closeClient, newClient } from './connection.js';
import { noStore, pgError } from './errors.js';
import { migrations, SCHEMA_VERSION } from './schema.js';
import type { PostgresAddress } from './url.js';

export interface PostgresStoreOptions {
  /** The environment the password comes from (PGPASSWORD, PGPASSFILE, HOME for ~/.pgpass). */
  env: NodeJS.ProcessEnv;
  /** How long a writer waits for another one's lock (lock_timeout), then 75. */
  lockWaitMs: number;
  /** The vault of the store's master key (the team passphrase, perhaps remembered in the OS keychain). */
  vault: (document: VaultDocument) => MasterKeyVault;
  /** The clock a new store's index is dated by. */
  now: () => Date;
}

const newerSchema = (action: string, address: PostgresAddress, version: number) =>
  new AppError(
    'NO_STORE',
    `${action}: the store ${address.display} has schema version ${version}, newer than this apns-cert knows (${SCHEMA_VERSION}): upgrade apns-cert`,
    { hint: 'npm install -g apns-cert@latest   # the store was changed by a newer apns-cert' },
  );

/** The index's rows as found: the index and each record's JSON text (to write only what a change changed). */
interface Found {
  index: StoreIndex;
  records: Map<string, string>;
}

/**
 * The records of readSummary's JSON text, one [name, topic, retired, notAfter, owner, note] each; null when a value
 * is not what the record model allows (a damaged record: read() reports it).
 */
function summaryFromTuples(tuples: unknown): SummaryRecord[] | null {
  if (!Array.isArray(tuples)) return null;
  const nullableString = (v: unknown): v is string | null => v === null || typeof v === 'string';
  const summary: SummaryRecord[] = [];
  for (const t of tuples as unknown[][]) {
    const [name, topic, retired, notAfter, owner, note] = t;
    if (
      typeof name !== 'string' ||
      !nullableString(topic) ||
      typeof retired !== 'boolean' ||
      !(notAfter === null || isIsoDate(notAfter)) ||
      !nullableString(owner) ||
      !nullableString(note)
    )
      return null;
    summary.push({ name, topic, retired, notAfter, owner, note });
  }
  return summary;
}

/**
 * The store in a PostgreSQL database (its tables: schema.ts). Every change is one transaction that holds the row
 * lock of `meta` (the store's lock: a second writer waits `lockWaitMs`, then 75) and reads the records under it,
 * so it is judged against the last committed state; it writes only the records it changed. Secrets are sealed
 * under the master key as in the file store; the master key is wrapped by the team passphrase in `vault`.
 */
export class PostgresStore implements Store {
  readonly location: string;
  private client: Promise<pg.Client> | undefined;
  private readonly schema: string;
  /** Set while a change's transaction is open on the client. */
  private inTransaction = false;
  private masterKey: Promise<Buffer> | undefined;
  /** unlockEarly's reads (the store id, the wrapped key): done before a transaction begins on the same connection. */
  private earlyReads: Promise<unknown> | undefined;
  /** The wrapped master key unlockEarly read, for the vault's one load. */
  private earlyVaultDocument: string | undefined;
  private readonly vault: MasterKeyVault;
  private checked = false;

  constructor(
    readonly address: PostgresAddress,
    private readonly options: PostgresStoreOptions,
  ) {
    this.location = address.display;
    this.schema = `"${address.schema}"`;
    this.vault = options.vault({
      location: `${address.display} (table vault)`,
      read: () => this.readVaultDocument(),
      write: (text) => this.writeVaultDocument(text),
    });
  }

  holdsPath(): boolean {
    return false;
  }

  private t(table: string): string {
    return `${this.schema}.${table}`;
  }

  /** The one connection of this process, made on first use. */
  private connection(): Promise<pg.Client> {
    this.client ??= (async () => {
      const client = newClient(this.address, this.options.env, this.options.lockWaitMs);
      try {
        await client.connect();
      } catch (error) {
        void client.end().catch(() => undefined);
        throw this.fail(error, `connect to the PostgreSQL store ${this.address.display}`);
      }
      return client;
    })();
    this.client.catch(() => undefined);
    return this.client;
  }

  private fail(error: unknown, action: string): AppError {
    return pgError(error, action, this.address);
  }

  /** Runs `work` on the connection; `action` says what for, in an error. */
  private async onConnection<T>(action: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = await this.connection();
    try {
      return await work(client);
    } catch (error) {
      throw this.fail(error, action);
    }
  }

  /** Runs one statement; `action` says what for, in an error. */
  private query<R extends pg.QueryResultRow>(action: string, sql: string, values: unknown[] = []) {
    return this.onConnection(action, (client) => client.query<R>(sql, values));
  }

  /** A query whose rows come as arrays (no object per row: what reading 10 000 records costs most). */
  private queryArrays<R extends unknown[]>(action: string, sql: string) {
    return this.onConnection(action, (client) => client.query<R>({ text: sql, rowMode: 'array' }));
  }

  /** Refuses a database without the store (65, hint: store init) or with a newer schema than this tool's (65). */
  private async checkSchema(action: string): Promise<void> {
    if (this.checked) return;
    const { rows } = await this.query<{ version: number }>(action, `SELECT version FROM ${this.t('schema_version')}`);
    const version = rows[0]?.version;
    if (version === undefined || version === 0) throw noStore(action, this.address);
    if (version > SCHEMA_VERSION) throw newerSchema(action, this.address, version);
    if (version < SCHEMA_VERSION)
      throw new AppError(
        'NO_STORE',
        `${action}: the store ${this.address.display} has the older schema version ${version}`,
        {
          hint: `apns-cert store init --store ${this.address.display}   # applies the migrations`,
        },
      );
    this.checked = true;
  }

  /**
   * The index as committed; `lock` takes the store's lock (inside a transaction), and then the statement that reads
   * the records runs after the lock is had: it sees every change committed before.
   */
  private async readIndex(action: string, lock: boolean): Promise<Found> {
    await this.checkSchema(action);
    const readMeta = async () =>
      (
        await this.query<{
          store_id: string;
          secret_backend: string;
          created_at: string;
          version: number;
          vendors: string;
          vouched: boolean;
        }>(
          action,
          `SELECT store_id, secret_backend, created_at, index_schema_version AS version, vendors::text AS vendors,
                  coalesce(vouched_generation = generation, false) AS vouched
           FROM ${this.t('meta')} WHERE id = 1${lock ? ' FOR UPDATE' : ''}`,
        )
      ).rows[0];
    // the documents as the text they were written as (json, not jsonb: no conversion), one row each
    const readRecords = async () =>
      (await this.queryArrays<[string, string]>(action, `SELECT name, doc::text FROM ${this.t('records')}`)).rows;
    // Under the lock, no other change, nor a hand-made UPDATE of records (its trigger waits for the lock), commits
    // before this one ends. Without it, the records are read before the meta row that vouches for them: a hand-made
    // change committed before they were read has already moved the generation when the meta row is read.
    let m: Awaited<ReturnType<typeof readMeta>>;
    let rows: [string, string][];
    if (lock) {
      m = await readMeta();
      rows = await readRecords();
    } else {
      rows = await readRecords();
      m = await readMeta();
    }
    if (m === undefined) throw noStore(action, this.address);
    const records = new Map<string, string>();
    const parts: string[] = [];
    for (const [name, doc] of rows) {
      records.set(name, doc);
      parts.push(`${JSON.stringify(name)}:${doc}`);
    }
    const text = `{"schemaVersion":${m.version},"storeId":${JSON.stringify(m.store_id)},"secretBackend":${JSON.stringify(m.secret_backend)},"createdAt":${JSON.stringify(m.created_at)},"records":{${parts.join(',')}},"vendors":${m.vendors}}`;
    const where = `${this.address.display} (table records)`;
    // vouched: the records are as a change of this tool wrote them from a validated index (schema.ts, migration 2)
    const index = m.vouched ? parseOwnIndex(text, where) : parseIndex(text, where);
    return { index, records };
  }

  async read(): Promise<StoreIndex> {
    return (await this.readIndex(`read the store ${this.address.display}`, false)).index;
  }

  async readOrFail(): Promise<StoreIndex> {
    return this.read();
  }

  /**
   * check-expiry's query: each record's name, topic, retirement, active certificate's expiry, owner and note, from
   * the summary the server generates from the record (schema version 2), as one JSON text: no record is parsed.
   */
  async readSummary(): Promise<SummaryRecord[] | null> {
    const action = `read the store ${this.address.display}`;
    await this.checkSchema(action);
    const { rows } = await this.query<{ summary: string }>(
      action,
      `SELECT '[' || coalesce(string_agg(summary, ','), '') || ']' AS summary FROM ${this.t('records')}`,
    );
    try {
      return summaryFromTuples(JSON.parse(rows[0]!.summary));
    } catch {
      return null; // not JSON (a summary the server did not make): read() judges the records themselves
    }
  }

  /**
   * `check-expiry -q`'s query: the soonest notAfter of the records not retired, computed by the server from the column
   * it generates (schema.ts), in one statement (one snapshot) with the generation check: only while the records are
   * as a change of this tool wrote them (validated), else null and check-expiry reads the summary.
   */
  async soonestExpiry(): Promise<string | null> {
    const action = `read the store ${this.address.display}`;
    await this.checkSchema(action);
    const { rows } = await this.query<{ soonest: string | null; vouched: boolean | null }>(
      action,
      `SELECT (SELECT min(active_not_after COLLATE "C") FROM ${this.t('records')}) AS soonest,
              (SELECT vouched_generation = generation FROM ${this.t('meta')} WHERE id = 1) AS vouched`,
    );
    const { soonest, vouched } = rows[0] ?? { soonest: null, vouched: null };
    return vouched === true && soonest !== null && soonest.length === 24 && isIsoDate(soonest) ? soonest : null;
  }

  async holdsPrivateKey(keyId: string): Promise<boolean> {
    try {
      const { rows } = await this.query<{ there: boolean }>(
        'look for a private key',
        `SELECT EXISTS (SELECT 1 FROM ${this.t('secrets')} WHERE id = $1) AS there`,
        [keyId],
      );
      return rows[0]?.there !== false;
    } catch {
      return true; // cannot tell (a role that may not read the secrets): the change says what it must
    }
  }

  private async text(table: string, file: string, what: string): Promise<string> {
    const action = `read ${what} ${file}`;
    const { rows } = await this.query<{ pem: string }>(action, `SELECT pem FROM ${this.t(table)} WHERE file = $1`, [
      file,
    ]);
    if (rows[0] === undefined)
      throw new AppError('STORE_CORRUPT', `${action}: it is not in the store ${this.address.display}`, {
        hint: 'apns-cert doctor --offline',
      });
    return rows[0].pem;
  }

  async certificatePem(entry: CertificateEntry): Promise<string> {
    return this.text('certificates', entry.file, 'the certificate');
  }

  async vendorChain(entry: VendorEntry): Promise<string> {
    return this.text('vendor_chains', entry.file, 'the vendor chain');
  }

  private async readVaultDocument(): Promise<string> {
    const early = this.earlyVaultDocument;
    this.earlyVaultDocument = undefined;
    if (early !== undefined) return early;
    const action = `unlock the store ${this.address.display}`;
    await this.checkSchema(action);
    const { rows } = await this.query<{ document: string }>(
      action,
      `SELECT document FROM ${this.t('vault')} WHERE id = 1`,
    );
    if (rows[0] === undefined)
      throw new AppError('STORE_CORRUPT', `${action}: it has no wrapped master key (table vault is empty)`, {
        hint: 'restore the vault table from a backup',
      });
    return rows[0].document;
  }

  private async writeVaultDocument(text: string): Promise<void> {
    if (!this.inTransaction) throw new AppError('INTERNAL', 'write the vault: not inside a change of the store');
    await this.query(
      `write the master key of ${this.address.display}`,
      `INSERT INTO ${this.t('vault')} (id, document) VALUES (1, $1)
       ON CONFLICT (id) DO UPDATE SET document = EXCLUDED.document`,
      [text],
    );
  }

  /** The master key, opened once per process (a failure too is the answer for this process). */
  private openMasterKey(storeId: string): Promise<Buffer> {
    this.masterKey ??= this.vault.load(storeId);
    this.masterKey.catch(() => undefined);
    return this.masterKey;
  }

  async unlock(index: StoreIndex): Promise<void> {
    await this.openMasterKey(index.storeId);
  }

  /**
   * Reads the store id and the wrapped master key without the lock (neither changes but in a change of the vault,
   * which keeps the master key), then opens the key: the passphrase and scrypt overlap the lock wait. The reads
   * share the connection, so a change's transaction begins after them (a refused read must not abort it).
   */
  unlockEarly(): void {
    if (this.masterKey !== undefined || this.earlyReads !== undefined) return;
    const action = `unlock the store ${this.address.display}`;
    const reads = (async () => {
      await this.checkSchema(action);
      const { rows } = await this.query<{ store_id: string }>(
        action,
        `SELECT store_id FROM ${this.t('meta')} WHERE id = 1`,
      );
      if (rows[0] === undefined) return undefined;
      this.earlyVaultDocument = await this.readVaultDocument();
      return rows[0].store_id;
    })();
    this.earlyReads = reads;
    reads.then(
      (storeId) => void (storeId === undefined ? undefined : this.openMasterKey(storeId)),
      () => undefined, // a change reads them again and says what failed
    );
  }

  private async sealedBox(id: string, kind: string): Promise<string> {
    const action = `read the sealed ${kind === PRIVATE_KEY ? 'key' : 'secret'} ${id.slice(0, 16)}`;
    const { rows } = await this.query<{ box: string }>(
      action,
      `SELECT box FROM ${this.t('secrets')} WHERE id = $1 AND kind = $2`,
      [id, kind],
    );
    if (rows[0] === undefined)
      throw new AppError('STORE_CORRUPT', `${action}: it is not in the store ${this.address.display}`, {
        hint: 'apns-cert doctor --offline',
      });
    return rows[0].box;
  }

  /** A private key opened with the master key; its row is read first, so a role that may not read it is refused before a passphrase is asked for. */
  private async openPrivateKey(masterKey: () => Promise<Buffer>, keyId: string): Promise<PrivateKeyInfo> {
    const text = await this.sealedBox(keyId, PRIVATE_KEY);
    const { openPrivateKey, parseSealedBox } = await import('../../core/sealed.js');
    const { privateKeyFromPkcs8 } = await import('../../core/keys.js');
    const box = parseSealedBox(text, `the sealed key ${keyId}`);
    return privateKeyFromPkcs8(openPrivateKey(box, await masterKey(), keyId));
  }

  private async openSecret(masterKey: () => Promise<Buffer>, id: string, kind: SecretKind): Promise<Buffer> {
    const text = await this.sealedBox(id, kind);
    const { openSecret, parseSealedBox } = await import('../../core/sealed.js');
    const what = `the sealed secret ${id}`;
    return openSecret(parseSealedBox(text, what), await masterKey(), id, kind, what);
  }

  async privateKey(index: StoreIndex, keyId: string): Promise<PrivateKeyInfo> {
    return this.openPrivateKey(() => this.openMasterKey(index.storeId), keyId);
  }

  async secret(index: StoreIndex, id: string, kind: SecretKind): Promise<Buffer> {
    return this.openSecret(() => this.openMasterKey(index.storeId), id, kind);
  }

  /**
   * Runs `work` in one transaction begun with `begin`: COMMIT when it returns, ROLLBACK when it throws (a lost
   * connection: the server rolls back by itself). One at a time: a transaction inside another is a bug.
   */
  private async inTransactionOf<T>(action: string, begin: string, work: () => Promise<T>): Promise<T> {
    const client = await this.connection();
    if (this.inTransaction) throw new AppError('INTERNAL', `${action}: a transaction inside a transaction`);
    this.inTransaction = true;
    try {
      await this.query(action, begin);
      const result = await work();
      await this.query(action, 'COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined); // a lost connection: the server rolls back itself
      throw error;
    } finally {
      this.inTransaction = false;
    }
  }

  /**
   * Runs `work` in one transaction holding the store's lock (the meta row): BEGIN, lock_timeout, the lock, work,
   * COMMIT; on an error ROLLBACK, so a lost connection or a failed statement leaves the store as it was.
   */
  private async transaction<T>(action: string, work: (found: Found) => Promise<T>): Promise<T> {
    await this.earlyReads?.catch(() => undefined);
    await this.checkSchema(action);
    return this.inTransactionOf(action, 'BEGIN', async () => {
      await this.query(action, `SET LOCAL lock_timeout = ${Math.max(1, Math.round(this.options.lockWaitMs))}`);
      const found = await this.readIndex(action, true).catch((error: unknown) => {
        if (!(error instanceof AppError && error.code === 'STORE_BUSY')) throw error;
        throw new AppError('STORE_BUSY', `${error.message} (waited ${Math.round(this.options.lockWaitMs / 1000)} s)`, {
          hint: error.hint,
        });
      });
      return work(found);
    });
  }

  async change<T>(fn: (tx: StoreChange) => Promise<T>): Promise<T> {
    const action = `update the store ${this.address.display}`;
    const outcome = await this.transaction(action, async (found) => {
      const storeId = found.index.storeId;
      let base = found;
      let segment = 0;
      // What the last commit replaced, for revertCommit: the savepoint before it and the rows it was judged against.
      let committed: { savepoint: string; base: Found } | null = null;
      const savepoint = async () => {
        const name = `apns_cert_${++segment}`;
        await this.query(action, `SAVEPOINT ${name}`);
        return name;
      };
      let current = await savepoint();
      const sealed = await import('../../core/sealed.js');
      const putSecretRow = async (id: string, kind: string, box: object) =>
        this.query(
          action,
          `INSERT INTO ${this.t('secrets')} (id, kind, box) VALUES ($1, $2, $3)
           ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, box = EXCLUDED.box`,
          [id, kind, `${JSON.stringify(box)}\n`],
        );
      const putPem = async (table: string, file: string, pem: string) =>
        this.query(
          action,
          `INSERT INTO ${this.t(table)} (file, pem) VALUES ($1, $2) ON CONFLICT (file) DO UPDATE SET pem = EXCLUDED.pem`,
          [file, pem],
        );
      // Removals come after a commit and stay, even when the change fails later (as the file store's files go at once);
      // a put after the last commit does not stay. The end of the change rolls back to the last commit, then redoes these.
      let removals: Array<() => Promise<unknown>> = [];
      const remove = async (table: string, column: string, key: string) => {
        const removal = () => this.query(action, `DELETE FROM ${this.t(table)} WHERE ${column} = $1`, [key]);
        removals.push(removal);
        await removal();
      };
      const tx: StoreChange = {
        index: found.index,
        isNew: false,
        masterKey: () => this.openMasterKey(storeId),
        certificateFile,
        putPrivateKey: async (key) =>
          void (await putSecretRow(
            key.keyId,
            PRIVATE_KEY,
            sealed.sealPrivateKey(key.pkcs8, await tx.masterKey(), key.keyId),
          )),
        privateKey: async (keyId) => this.openPrivateKey(() => tx.masterKey(), keyId),
        removePrivateKey: async (keyId) => void (await remove('secrets', 'id', keyId)),
        putSecret: async (id, bytes, kind) =>
          void (await putSecretRow(id, kind, sealed.sealSecret(bytes, await tx.masterKey(), id, kind))),
        removeSecret: async (id) => void (await remove('secrets', 'id', id)),
        putCertificate: async (entry, pem) => void (await putPem('certificates', entry.file, pem)),
        removeCertificate: async (entry) => void (await remove('certificates', 'file', entry.file)),
        vendorChainFile,
        putVendorChain: async (entry, pem) => void (await putPem('vendor_chains', entry.file, pem)),
        removeVendorChain: async (entry) => void (await remove('vendor_chains', 'file', entry.file)),
        commit: async (next) => {
          if (next.storeId !== storeId)
            throw new AppError('INTERNAL', `${action}: the index is not this store's (${next.storeId})`);
          const written = await this.writeIndex(action, base, next);
          committed = { savepoint: current, base };
          base = written;
          removals = [];
          current = await savepoint();
        },
        revertCommit: async () => {
          if (committed === null) return;
          await this.query(action, `ROLLBACK TO SAVEPOINT ${committed.savepoint}`);
          current = committed.savepoint;
          base = committed.base;
          committed = null;
          removals = [];
        },
      };
      let result: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        result = { ok: true, value: await fn(tx) };
      } catch (error) {
        result = { ok: false, error };
      }
      // As the file store: what was committed stays, also when fn throws after it; nothing put after it does.
      try {
        await this.query(action, `ROLLBACK TO SAVEPOINT ${current}`);
        for (const removal of removals) await removal();
      } catch (error) {
        throw result.ok ? error : result.error; // the connection is gone: the server rolls the whole change back
      }
      return result;
    });
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  /**
   * Writes the records `next` changed or removed since `base`, and the meta row, which vouches for what is now
   * stored (it was validated when read, and changed by this tool); returns the new base. A record whose text is not
   * the one read is compared as JSON before it is rewritten: a document written by another build or by hand (its
   * keys in another order, say) that holds the same record stays as it is.
   */
  private async writeIndex(action: string, base: Found, next: StoreIndex): Promise<Found> {
    const records = new Map<string, string>();
    const changedNames: string[] = [];
    const changedDocs: string[] = [];
    for (const [name, record] of Object.entries(next.records)) {
      const text = JSON.stringify(record);
      const before = base.records.get(name);
      if (before === text || (before !== undefined && sameJson(record, JSON.parse(before)))) {
        records.set(name, before);
        continue;
      }
      records.set(name, text);
      changedNames.push(name);
      changedDocs.push(text);
    }
    const removed = [...base.records.keys()].filter((name) => !records.has(name));
    if (changedNames.length > 0)
      await this.query(
        action,
        `INSERT INTO ${this.t('records')} (name, doc) SELECT * FROM unnest($1::text[], $2::json[])
         ON CONFLICT (name) DO UPDATE SET doc = EXCLUDED.doc`,
        [changedNames, changedDocs],
      );
    if (removed.length > 0)
      await this.query(action, `DELETE FROM ${this.t('records')} WHERE name = ANY($1::text[])`, [removed]);
    // after the statements above (their trigger counted them): this generation is the one written here
    await this.query(
      action,
      `UPDATE ${this.t('meta')} SET vendors = $1::jsonb, changed_at = now(), vouched_generation = generation WHERE id = 1`,
      [JSON.stringify(next.vendors)],
    );
    return { index: next, records };
  }

  async upgradeKdf(): Promise<{ index: StoreIndex; result: KdfUpgrade | null }> {
    return this.transaction(`upgrade the master key of ${this.address.display}`, async (found) => ({
      index: found.index,
      result: await this.vault.upgrade(),
    }));
  }

  /** Inside a transaction: the schema and the migrations it lacks, after waiting for another init or copy (an advisory lock). */
  private async migrate(action: string): Promise<number | null> {
    // two inits at once: the second waits, then finds the store
    await this.query(action, `SELECT pg_advisory_xact_lock(hashtext($1))`, [`apns-cert init ${this.address.schema}`]);
    // CREATE SCHEMA needs CREATE on the database even when the schema is there: an admin role of the grants has none
    const schemaThere = await this.query<{ there: boolean }>(
      action,
      `SELECT to_regnamespace($1) IS NOT NULL AS there`,
      [this.schema],
    );
    if (schemaThere.rows[0]?.there !== true) await this.query(action, `CREATE SCHEMA ${this.schema}`);
    const exists = await this.query<{ table: string | null }>(action, `SELECT to_regclass($1) AS table`, [
      `${this.schema}.schema_version`,
    ]);
    let applied = 0;
    if (exists.rows[0]?.table != null) {
      const { rows } = await this.query<{ version: number }>(action, `SELECT version FROM ${this.t('schema_version')}`);
      applied = rows[0]?.version ?? 0;
    }
    if (applied > SCHEMA_VERSION) throw newerSchema(action, this.address, applied);
    const steps = migrations(this.address.schema);
    for (let v = applied; v < steps.length; v++) await this.query(action, steps[v]!);
    if (applied < SCHEMA_VERSION)
      await this.query(action, `UPDATE ${this.t('schema_version')} SET version = $1`, [SCHEMA_VERSION]);
    return applied > 0 && applied < SCHEMA_VERSION ? applied : null;
  }

  /**
   * Creates the store's tables (or applies the migrations a store of an older version lacks) and the store
   * itself: its id, and a new master key wrapped by the team passphrase. A store that is there stays as it is.
   */
  async init(): Promise<StoreInit> {
    const action = `create the store ${this.address.display}`;
    const result = await this.inTransactionOf(action, 'BEGIN', async () => {
      const upgradedFrom = await this.migrate(action);
      const meta = await this.query<{ store_id: string }>(
        action,
        `SELECT store_id FROM ${this.t('meta')} WHERE id = 1`,
      );
      let created = false;
      if (meta.rows[0] === undefined) {
        const { randomBytes, randomUUID } = await import('node:crypto');
        const storeId = randomUUID();
        await this.query(
          action,
          `INSERT INTO ${this.t('meta')} (id, store_id, secret_backend, created_at, index_schema_version)
           VALUES (1, $1, 'passphrase', $2, $3)`,
          [storeId, this.options.now().toISOString(), INDEX_SCHEMA_VERSION],
        );
        const key = randomBytes(32);
        await this.vault.save(storeId, key);
        this.masterKey = Promise.resolve(key);
        created = true;
      }
      return { created, upgradedFrom };
    });
    this.checked = false;
    return { created: result.created, index: await this.read(), upgradedFrom: result.upgradedFrom };
  }

  async exportContents(): Promise<StoreContents> {
    const action = `copy the store ${this.address.display}`;
    // one snapshot: the index, its texts and its secrets as of one moment, while writers go on
    return this.inTransactionOf(action, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async () => {
      const { index } = await this.readIndex(action, false);
      const refs = sealedSecretRefs(index);
      const texts = async (table: string, files: string[]) =>
        (
          await this.query<{ file: string; pem: string }>(
            action,
            `SELECT file, pem FROM ${this.t(table)} WHERE file = ANY($1::text[]) ORDER BY file`,
            [files],
          )
        ).rows;
      const certificates = await texts('certificates', certificateFiles(index));
      const vendorChains = await texts(
        'vendor_chains',
        Object.values(index.vendors).map((v) => v.file),
      );
      const found = new Map(
        (
          await this.query<{ id: string; kind: SealedKind; box: string }>(
            action,
            `SELECT id, kind, box FROM ${this.t('secrets')} WHERE id = ANY($1::text[])`,
            [refs.map((r) => r.id)],
          )
        ).rows.map((r) => [r.id, r]),
      );
      const secrets = [];
      for (const ref of refs) {
        const row = found.get(ref.id);
        if (row === undefined && !ref.required) continue;
        if (row === undefined || row.kind !== ref.kind)
          throw new AppError('STORE_CORRUPT', `${action}: the sealed ${ref.kind} ${ref.id.slice(0, 16)} is not in it`, {
            hint: 'apns-cert doctor --offline',
          });
        secrets.push(row);
      }
      const want = new Set([...certificateFiles(index), ...Object.values(index.vendors).map((v) => v.file)]);
      for (const { file } of [...certificates, ...vendorChains]) want.delete(file);
      if (want.size > 0)
        throw new AppError('STORE_CORRUPT', `${action}: the certificate ${[...want][0]} is not in it`, {
          hint: 'apns-cert doctor --offline',
        });
      const wrapped = await this.readVaultDocument();
      const log = await this.readLog({});
      // the table's rows are entries by its column types and checks: none is left out
      return { index, masterKey: { wrapped }, certificates, vendorChains, secrets, log, logSkipped: [] };
    });
  }

  /**
   * One transaction: the tables (migrations) when the database has none, then every row of `contents`. A store
   * made by `store init` with nothing in it takes the source's store id and master key (its own go); its audit
   * log stays, the source's entries join it.
   */
  async importContents(contents: StoreContents): Promise<void> {
    const action = `copy into the store ${this.address.display}`;
    await this.inTransactionOf(action, 'BEGIN', async () => {
      await this.query(action, `SET LOCAL lock_timeout = ${Math.max(1, Math.round(this.options.lockWaitMs))}`);
      await this.migrate(action);
      await this.query(action, `LOCK TABLE ${this.t('meta')} IN EXCLUSIVE MODE`);
      const { rows } = await this.query<{ what: string }>(
        action,
        `SELECT what FROM (
           SELECT 'records' AS what WHERE EXISTS (SELECT 1 FROM ${this.t('records')})
           UNION ALL SELECT 'certificates' WHERE EXISTS (SELECT 1 FROM ${this.t('certificates')})
           UNION ALL SELECT 'vendor chains' WHERE EXISTS (SELECT 1 FROM ${this.t('vendor_chains')})
           UNION ALL SELECT 'secrets' WHERE EXISTS (SELECT 1 FROM ${this.t('secrets')})
           UNION ALL SELECT 'vendors' WHERE EXISTS (SELECT 1 FROM ${this.t('meta')} WHERE vendors <> '{}'::jsonb)
         ) t`,
      );
      if (rows.length > 0) {
        throw notEmptyError(this.address.display, `it holds ${rows.map((r) => r.what).join(', ')}`);
      }
      const { index } = contents;
      await this.query(action, `DELETE FROM ${this.t('meta')}`);
      await this.query(
        action,
        `INSERT INTO ${this.t('meta')} (id, store_id, secret_backend, created_at, index_schema_version, vendors)
         VALUES (1, $1, 'passphrase', $2, $3, $4::jsonb)`,
        [index.storeId, index.createdAt, index.schemaVersion, JSON.stringify(index.vendors)],
      );
      const names = Object.keys(index.records);
      await this.query(
        action,
        `INSERT INTO ${this.t('records')} (name, doc) SELECT * FROM unnest($1::text[], $2::json[])`,
        [names, names.map((n) => JSON.stringify(index.records[n]))],
      );
      // the records are an index the source store read as valid (parsed and checked, or vouched for): vouched here
      await this.query(action, `UPDATE ${this.t('meta')} SET vouched_generation = generation WHERE id = 1`);
      for (const [table, texts] of [
        ['certificates', contents.certificates],
        ['vendor_chains', contents.vendorChains],
      ] as const)
        await this.query(
          action,
          `INSERT INTO ${this.t(table)} (file, pem) SELECT * FROM unnest($1::text[], $2::text[])`,
          [texts.map((t) => t.file), texts.map((t) => t.pem)],
        );
      const { secrets } = contents;
      await this.query(
        action,
        `INSERT INTO ${this.t('secrets')} (id, kind, box) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`,
        [secrets.map((x) => x.id), secrets.map((x) => x.kind), secrets.map((x) => x.box)],
      );
      const log = contents.log;
      const column = <K extends keyof AuditEntry>(k: K) => log.map((e) => e[k] ?? null);
      await this.query(
        action,
        `INSERT INTO ${this.t('audit_log')}
           (at, os_user, host, command, record, result, exit_code, serial_number, topic, message)
         SELECT at, os_user, host, command, record, result, exit_code, serial_number, topic, message
         FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::integer[], $8::text[], $9::text[], $10::text[])
           WITH ORDINALITY AS e(at, os_user, host, command, record, result, exit_code, serial_number, topic, message, n)
         ORDER BY n`,
        [
          column('at'),
          column('user'),
          column('host'),
          column('command'),
          column('record'),
          column('result'),
          column('exitCode'),
          column('serialNumber'),
          column('topic'),
          column('message'),
        ],
      );
      await this.query(action, `DELETE FROM ${this.t('vault')}`);
      if ('wrapped' in contents.masterKey)
        await this.query(action, `INSERT INTO ${this.t('vault')} (id, document) VALUES (1, $1)`, [
          contents.masterKey.wrapped,
        ]);
      else {
        // a keychain store: its master key, opened on this machine, wrapped under a new team passphrase
        const key = await contents.masterKey.open();
        await this.vault.save(index.storeId, key);
      }
    });
    this.checked = false;
    this.masterKey = undefined;
  }

  async audit(): Promise<StoreAudit> {
    const audit = emptyStoreAudit(this.location);
    let index: StoreIndex;
    try {
      index = await this.read();
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'NO_STORE')) throw error;
      // doctor reports it (a failed check with store init as the hint) rather than ending with 65
      return { ...audit, unsafe: { message: error.message, hint: error.hint ?? '' } };
    }
    audit.index = index;
    const action = `audit the store ${this.address.display}`;
    const files = async (table: string) =>
      new Set(
        (await this.query<{ file: string }>(action, `SELECT file FROM ${this.t(table)}`)).rows.map((r) => r.file),
      );
    const certs = await files('certificates');
    const chains = await files('vendor_chains');
    let secrets: Map<string, string> | null = null;
    try {
      const { rows } = await this.query<{ id: string; kind: string }>(
        action,
        `SELECT id, kind FROM ${this.t('secrets')}`,
      );
      secrets = new Map(rows.map((r) => [r.id, r.kind]));
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'PERMISSION_DENIED')) throw error;
      // a monitor role: the secrets are not its to see
    }
    return auditRows(audit, index, { certs, chains, secrets });
  }

  async appendLog(entry: AuditEntry): Promise<void> {
    const action = `append to the audit log of ${this.address.display}`;
    await this.checkSchema(action);
    // an entry inside a change's transaction would go with it when it fails: the log gets a connection of its own then
    const { sql, values } = appendStatement(this.t('audit_log'), entry);
    if (!this.inTransaction) {
      await this.query(action, sql, values);
      return;
    }
    const other = new PostgresStore(this.address, this.options);
    try {
      await other.query(action, sql, values);
    } finally {
      await other.close();
    }
  }

  async readLog(filter: AuditFilter): Promise<AuditEntry[]> {
    const action = `read the audit log of ${this.address.display}`;
    await this.checkSchema(action);
    const { sql, values } = readStatement(this.t('audit_log'), filter);
    const { rows } = await this.query<AuditRow>(action, sql, values);
    return rows.map(entryOfRow);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client === undefined) return;
    let connected: pg.Client;
    try {
      connected = await client;
    } catch {
      return; // never connected
    }
    await closeClient(connected);
  }
}
