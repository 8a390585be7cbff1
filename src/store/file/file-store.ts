import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../../errors.js';
import {
  prepareSummary,
  readSummary,
  sameStamp,
  summaryHeader,
  summaryLines,
  summaryText,
} from '../../core/expiry-summary.js';
import type { IndexStamp, PreparedSummary, PreviousSummary, SummaryRecord } from '../../core/expiry-summary.js';
import type { AuditEntry, AuditFilter } from '../../core/audit-log.js';
import {
  emptyIndex,
  indexIdentity,
  parseIndex,
  parseOwnIndex,
  parseOwnIndexForChange,
  serializeIndex,
} from '../../core/index-model.js';
import type { CertificateEntry, SecretBackendName, StoreIndex, VendorEntry } from '../../core/index-model.js';
import type { PrivateKeyInfo } from '../../core/keys.js';
import type { SecretKind } from '../../core/sealed.js';
import type * as Sealed from '../../core/sealed.js';
import type { StoreContents } from '../../core/store-contents.js';
import { isInsideDir, makeDirs, readHead, readOr, removeDirs, replaceFileAtomically } from '../../io/files.js';
import { writeError, writeFailureHint } from '../../io/write-error.js';
import type { Store, StoreAudit, StoreChange, StoreInit } from '../store.js';
import type { KdfUpgrade, MasterKeyVault, VaultDocument, VaultFactory } from '../vault.js';
import { auditStore } from './audit.js';
import {
  AUDIT_FILE,
  DIRECTORIES,
  INDEX_FILE,
  KEYS_DIR,
  LOCK_FILE,
  MASTER_KEY_FILE,
  SECRETS_DIR,
  SUMMARY_FILE,
  certificateFile,
  indexStampOf,
  keyFile,
  secretFile,
  vendorChainFile,
} from './layout.js';
import type { StoreLock } from './store-lock.js';

export interface FileStoreOptions {
  /** How long a writer waits for another one to release the lock. */
  lockWaitMs: number;
  /** Registers what a signal must undo while the store is locked (src/cli/interrupt.ts); returns the unregister. */
  onInterrupt?: (undo: () => void) => () => void;
  /** The vault of each backend (the passphrase vault keeps its document in master-key.json). */
  vaults: VaultFactory;
  /** The backend a new store gets. */
  backendForNewStore: SecretBackendName;
  /** The clock a new store's index is dated by. */
  now: () => Date;
}

/** What identifies a store's master key: enough to unlock it. */
type StoreIdentity = Pick<StoreIndex, 'storeId' | 'secretBackend'>;

/**
 * The store in a directory (its layout: layout.ts). Every change happens under the lock (store-lock.ts) and
 * every file is written atomically (temp + rename); a change commits by replacing index.json.
 */
export class FileStore implements Store {
  readonly location: string;
  private readonly dir: string;
  private readonly indexPath: string;
  private readonly options: FileStoreOptions;
  /** The change under way while this process holds the lock. */
  private locked: Locked | null = null;
  /** The identity of the index last read: an early unlock needs no second read. */
  private known: StoreIdentity | null = null;
  private readonly vaultOf = new Map<SecretBackendName, MasterKeyVault>();
  /** Master keys opened (or being opened) by store id; a store's master key never changes once made. */
  private readonly masterKeys = new Map<string, Promise<Buffer>>();
  /** unlockEarly was called and the next change has not yet let it get going. */
  private unlockStarting = false;
  /** Where the passphrase vault keeps the wrapped master key; written only under the lock. */
  private readonly masterKeyDocument: VaultDocument;

  constructor(dir: string, options: FileStoreOptions) {
    this.dir = dir;
    this.location = dir;
    this.indexPath = join(dir, INDEX_FILE);
    this.options = options;
    this.masterKeyDocument = {
      location: join(dir, MASTER_KEY_FILE),
      read: () => this.readText(MASTER_KEY_FILE),
      write: async (text) => this.replace(MASTER_KEY_FILE, text),
    };
  }

  holdsPath(path: string): boolean {
    return isInsideDir(path, this.dir);
  }

  /**
   * The absolute path of a file of the store, refused (65) unless it is inside the store once every symbolic
   * link is resolved: a name from the index or a link in the store that leads out of it is damage, never followed.
   */
  path(relative: string): string {
    const path = join(this.dir, relative);
    if (relative.split(/[\\/]/).includes('..') || !isInsideDir(path, this.dir)) {
      throw new AppError('STORE_CORRUPT', `open ${path}: it leads out of the store ${this.dir}`, {
        hint: `ls -l ${dirname(path)}   # then restore the store from a backup`,
      });
    }
    return path;
  }

  /**
   * Why this store must not be used, or null: a store directory (or its certs/ or keys/) that another user
   * owns or that group or others may write to, as ssh refuses such a ~/.ssh. Whoever can write there decides
   * what apns-cert reads, writes and deletes. The same rule for root: a store of another uid is refused.
   */
  safetyProblem(): { message: string; hint: string } | null {
    const uid = process.getuid?.();
    if (uid === undefined) return null; // Windows: access is ACLs, not these modes
    for (const sub of DIRECTORIES) {
      const path = join(this.dir, sub);
      let st;
      try {
        st = sub === '' ? statSync(path) : lstatSync(path);
      } catch {
        continue; // missing (not created yet), or unreadable: the read itself reports it
      }
      if (st.isSymbolicLink())
        return {
          message: `${path} is a symbolic link; the store's files must be inside the store`,
          hint: `ls -l ${this.dir}`,
        };
      if (!st.isDirectory()) return { message: `${path} is not a directory`, hint: `ls -ld ${path}` };
      if (st.uid !== uid) {
        return {
          message: `${path} belongs to uid ${st.uid}, not to you (uid ${uid}); its owner could change what apns-cert reads, writes and deletes`,
          hint: `ls -ln ${this.dir}   # run apns-cert as uid ${st.uid}, or if you trust its contents: chown -R ${uid} ${this.dir}`,
        };
      }
      const writable = [st.mode & 0o020 ? 'group' : '', st.mode & 0o002 ? 'others' : ''].filter(Boolean);
      if (writable.length > 0) {
        return {
          message: `${path} is writable by ${writable.join(' and ')} (mode ${(st.mode & 0o7777).toString(8)}); whoever can write there could change what apns-cert reads, writes and deletes`,
          hint: `chmod go-w ${path}`,
        };
      }
    }
    return null;
  }

  /** Refuses (77) a store that `safetyProblem` finds unsafe. */
  private assertSafe(): void {
    const problem = this.safetyProblem();
    if (problem !== null)
      throw new AppError('STORE_UNSAFE', `open the store ${this.dir}: ${problem.message}`, { hint: problem.hint });
  }

  /**
   * index.json's bytes with the stamp of the file they were read from, taken after reading them (so a change
   * during the read shows in it), and the time just before the read; null when there is none; unreadable: 65.
   */
  private readIndexFile(): IndexFile | null {
    const readAt = Date.now();
    let fd: number;
    try {
      fd = openSync(this.indexPath, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw this.unreadableIndex(error);
    }
    try {
      const bytes = readFileSync(fd);
      return { bytes, stamp: indexStampOf(fstatSync(fd, { bigint: true })), readAt };
    } catch (error) {
      throw this.unreadableIndex(error);
    } finally {
      closeSync(fd);
    }
  }

  private unreadableIndex(error: unknown): AppError {
    return new AppError('STORE_CORRUPT', `read the store index ${this.indexPath}: ${(error as Error).message}`, {
      hint: `ls -ld ${this.dir} ${this.indexPath}`,
    });
  }

  /**
   * Whether expiry.json vouches that index.json, with `stamp`, is this tool's own write: its header carries the
   * stamp the index had right after a change committed it (writeSummary), and every index a change commits
   * comes from one that was checked (parseIndex) or vouched for in turn, or from a new store. An edit, a restore,
   * another writer or an older build's summary leave the stamps different (expiry-summary.ts says why ctime
   * cannot be set back), and the index is then checked in full. Only the header line is read.
   */
  private vouched(stamp: IndexStamp): boolean {
    const header = this.summaryHeader();
    return header !== null && sameStamp(header.stamp, stamp);
  }

  /** The index in `file`: its records checked unless expiry.json vouches for it (`full`: always checked, doctor). */
  private parse(file: IndexFile, full = false): StoreIndex {
    return this.parseText(file.bytes.toString('utf8'), !full && this.vouched(file.stamp));
  }

  /** The index in `text`, its records checked unless `vouched` (see vouched). */
  private parseText(text: string, vouched: boolean): StoreIndex {
    const index = vouched ? parseOwnIndex(text, this.indexPath) : parseIndex(text, this.indexPath);
    this.known = { storeId: index.storeId, secretBackend: index.secretBackend };
    return index;
  }

  /**
   * The index found under the lock, for a change: when expiry.json vouches for it (as parse), its records are parsed
   * only as the change reads them, and the summary lines of those it does not read are written again as they are.
   * expiry.json is read whole only then; its first line alone decides, as for parse.
   */
  private parseForChange(file: IndexFile): { index: StoreIndex; previousSummary: PreviousSummary | null } {
    const text = file.bytes.toString('utf8');
    const vouched = this.vouched(file.stamp);
    const index = vouched ? parseOwnIndexForChange(text, this.indexPath) : null;
    if (index === null) return { index: this.parseText(text, vouched), previousSummary: null };
    this.known = { storeId: index.storeId, secretBackend: index.secretBackend };
    const summary = readOr(() => readFileSync(this.path(SUMMARY_FILE), 'utf8'), null);
    return { index, previousSummary: summary === null ? null : summaryLines(summary, file.stamp) };
  }

  async read(): Promise<StoreIndex | null> {
    this.assertSafe();
    const file = this.readIndexFile();
    return file === null ? null : this.parse(file);
  }

  async readOrFail(): Promise<StoreIndex> {
    const index = await this.read();
    if (index === null) {
      throw new AppError('NOT_FOUND', `open the store ${this.dir}: it has no certificates yet`, {
        hint: 'apns-cert csr --name <name>   # or pass --store <dir> / set APNS_CERT_STORE',
      });
    }
    return index;
  }

  /** The bytes of index.json as they are now, or null when there is none (system errors thrown as they are). */
  private indexBytes(): Buffer | null {
    try {
      return readFileSync(this.indexPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /** The index file's stamp (inode, size, mtime and ctime in ns), or null when there is none. */
  private indexStamp(): IndexStamp | null {
    try {
      return indexStampOf(statSync(this.indexPath, { bigint: true }));
    } catch {
      return null;
    }
  }

  /**
   * What check-expiry needs, from expiry.json when it was made from the current index.json; null when it
   * was not (or is missing or damaged): then read the index. The stamp is taken before the summary is read,
   * so a change in between shows as a mismatch, never as a stale answer.
   */
  async readSummary(): Promise<SummaryRecord[] | null> {
    this.assertSafe();
    const stamp = this.indexStamp();
    if (stamp === null) return null;
    try {
      return readSummary(readFileSync(this.path(SUMMARY_FILE), 'utf8'), stamp);
    } catch {
      return null;
    }
  }

  /** The soonest expiry from the first line of expiry.json, when it was made from the current index.json; else null. */
  async soonestExpiry(): Promise<string | null> {
    this.assertSafe();
    const stamp = this.indexStamp();
    const header = stamp === null ? null : this.summaryHeader();
    return header !== null && sameStamp(header.stamp, stamp!) ? header.soonest : null;
  }

  /** The first line of expiry.json (read alone), or null when there is none or it is not well-formed. */
  private summaryHeader(): ReturnType<typeof summaryHeader> {
    const head = readOr(() => readHead(this.path(SUMMARY_FILE), SUMMARY_HEAD_BYTES), null);
    return head === null ? null : summaryHeader(head);
  }

  private async readText(relative: string): Promise<string> {
    const path = this.path(relative);
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      throw new AppError('STORE_CORRUPT', `read ${path}: ${(error as Error).message}`, { hint: 'apns-cert list' });
    }
  }

  async certificatePem(entry: CertificateEntry): Promise<string> {
    return this.readText(entry.file);
  }

  async vendorChain(entry: VendorEntry): Promise<string> {
    return this.readText(entry.file);
  }

  private vault(backend: SecretBackendName): MasterKeyVault {
    let vault = this.vaultOf.get(backend);
    if (vault === undefined) {
      vault = this.options.vaults(backend, this.masterKeyDocument);
      this.vaultOf.set(backend, vault);
    }
    return vault;
  }

  /** The master key of an existing store, opened once per process (a failure too is the answer for this process). */
  private openMasterKey(id: StoreIdentity): Promise<Buffer> {
    let key = this.masterKeys.get(id.storeId);
    if (key === undefined) {
      key = this.vault(id.secretBackend).load(id.storeId);
      key.catch(() => undefined); // surfaces where it is awaited
      this.masterKeys.set(id.storeId, key);
    }
    return key;
  }

  async unlock(index: StoreIndex): Promise<void> {
    await this.openMasterKey(index);
  }

  async privateKey(index: StoreIndex, keyId: string): Promise<PrivateKeyInfo> {
    return this.openPrivateKey(await this.openMasterKey(index), keyId);
  }

  private async openPrivateKey(masterKey: Buffer, keyId: string): Promise<PrivateKeyInfo> {
    const { openPrivateKey, parseSealedBox } = await import('../../core/sealed.js');
    const { privateKeyFromPkcs8 } = await import('../../core/keys.js');
    const box = parseSealedBox(await this.readText(keyFile(keyId)), keyFile(keyId));
    return privateKeyFromPkcs8(openPrivateKey(box, masterKey, keyId));
  }

  async secret(index: StoreIndex, id: string, kind: SecretKind): Promise<Buffer> {
    return this.openSecret(await this.openMasterKey(index), id, kind);
  }

  private async openSecret(masterKey: Buffer, id: string, kind: SecretKind): Promise<Buffer> {
    const { openSecret, parseSealedBox } = await import('../../core/sealed.js');
    const file = secretFile(id);
    return openSecret(parseSealedBox(await this.readText(file), file), masterKey, id, kind, file);
  }

  async audit(): Promise<StoreAudit> {
    const unsafe = this.safetyProblem();
    // every record checked, whatever expiry.json vouches for: doctor reports what is wrong in the index
    const file = unsafe === null ? this.readIndexFile() : null;
    const index = file === null ? null : this.parse(file, true);
    return auditStore(this.dir, unsafe, index, (relative) => this.path(relative));
  }

  async upgradeKdf(): Promise<{ index: StoreIndex; result: KdfUpgrade | null }> {
    const index = await this.readOrFail();
    const vault = this.vault(index.secretBackend);
    return { index, result: await this.withLock(() => vault.upgrade()) };
  }

  async init(): Promise<StoreInit> {
    const found = await this.read();
    if (found !== null) return { created: false, index: found, upgradedFrom: null };
    return this.change(async (tx) => {
      if (!tx.isNew) return { created: false, index: tx.index, upgradedFrom: null };
      await tx.commit(tx.index);
      return { created: true, index: tx.index, upgradedFrom: null };
    });
  }

  async close(): Promise<void> {}

  /** Appends to audit.jsonl (audit-log.ts) of an existing store; without index.json there is no store to log in. */
  async appendLog(entry: AuditEntry): Promise<void> {
    this.assertSafe();
    if (this.indexStamp() === null) return;
    const { appendAuditEntry } = await import('./audit-log.js');
    appendAuditEntry(this.path(AUDIT_FILE), entry);
  }

  async readLog(filter: AuditFilter): Promise<AuditEntry[]> {
    this.assertSafe();
    const { readAuditEntries } = await import('./audit-log.js');
    return readAuditEntries(this.path(AUDIT_FILE), filter);
  }

  async exportContents(): Promise<StoreContents> {
    const index = await this.readOrFail();
    const { exportFileStore } = await import('./contents.js');
    return exportFileStore(index, {
      path: (relative) => this.path(relative),
      openMasterKey: () => this.openMasterKey(index),
      readLog: (onSkipped) => this.readLog({ onSkipped }),
    });
  }

  async importContents(contents: StoreContents): Promise<void> {
    const { importFileStore } = await import('./contents.js');
    importFileStore(this.dir, contents);
  }

  async holdsPrivateKey(keyId: string): Promise<boolean> {
    try {
      return existsSync(this.path(keyFile(keyId)));
    } catch {
      return true; // a name that leads out of the store: the change reports it
    }
  }

  /** A store's master key never changes once made: one opened before the lock is the one under it. */
  unlockEarly(): void {
    const start = async () => {
      const id = this.known ?? this.identity() ?? (await this.read());
      if (id !== null) await this.openMasterKey(id);
    };
    start().catch(() => undefined);
    this.unlockStarting = true;
  }

  /**
   * The store id and backend from the start of index.json (as serializeIndex writes them), without parsing the
   * rest; null when it does not start so. Only a hint for unlockEarly: the change opens the key of the index it
   * parses under the lock, which is this one unless another writer made a new store meanwhile.
   */
  private identity(): StoreIdentity | null {
    const head = readOr(() => {
      this.assertSafe();
      return readHead(this.indexPath, IDENTITY_HEAD_BYTES);
    }, null);
    return head === null ? null : indexIdentity(head);
  }

  async change<T>(fn: (tx: StoreChange) => Promise<T>): Promise<T> {
    if (this.unlockStarting) {
      // The early unlock reaches scrypt (or the keychain's child) only after a few awaits of its own; parsing the
      // index blocks this thread, so without this turn of the event loop the unlock would start after the parse.
      this.unlockStarting = false;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.withLock(async () => fn(await this.transaction(this.locked!)));
  }

  /** The change under the lock that `locked` holds: its index parsed from the bytes found when the lock was taken. */
  private async transaction(locked: Locked): Promise<StoreChange> {
    const isNew = locked.base === null;
    let index: StoreIndex;
    let previousSummary: PreviousSummary | null = null;
    if (locked.base !== null)
      ({ index, previousSummary } = this.parseForChange({
        bytes: locked.base,
        stamp: locked.stamp!,
        readAt: locked.readAt,
      }));
    else {
      const { randomUUID } = await import('node:crypto');
      index = emptyIndex(randomUUID(), this.options.backendForNewStore, this.options.now());
    }
    const storeId = index.storeId;
    let masterKey: Promise<Buffer> | undefined;
    const newMasterKey = async () => {
      const { randomBytes } = await import('node:crypto');
      const key = randomBytes(32);
      await this.vault(index.secretBackend).save(storeId, key);
      return key;
    };
    /**
     * Seals `plain` and writes it once the master key is open, while the change goes on (commit waits: settleSeals).
     * It seals a copy, made now: a caller may wipe its own once the put returns (target add does); the copy is wiped after.
     */
    const sealLater = (plain: Uint8Array, write: (plain: Buffer, masterKey: Buffer, sealed: typeof Sealed) => void) => {
      const copy = Buffer.from(plain);
      const sealing = (async () => {
        try {
          write(copy, await tx.masterKey(), await import('../../core/sealed.js'));
        } finally {
          copy.fill(0);
        }
      })();
      sealing.catch(() => undefined); // surfaces in settleSeals
      locked.sealing.push(sealing);
    };
    const tx: StoreChange = {
      index,
      isNew,
      masterKey: () => (masterKey ??= isNew ? newMasterKey() : this.openMasterKey(index)),
      certificateFile,
      putPrivateKey: async (key) =>
        sealLater(key.pkcs8, (pkcs8, masterKey, { sealPrivateKey }) => {
          const box = sealPrivateKey(pkcs8, masterKey, key.keyId);
          this.replace(keyFile(key.keyId), `${JSON.stringify(box)}\n`);
        }),
      privateKey: async (keyId) => {
        await settleSeals(locked);
        return this.openPrivateKey(await tx.masterKey(), keyId);
      },
      removePrivateKey: async (keyId) => this.removeFile(keyFile(keyId)),
      putSecret: async (id, bytes, kind) =>
        sealLater(bytes, (secret, masterKey, { sealSecret }) => {
          const box = sealSecret(secret, masterKey, id, kind);
          this.replace(secretFile(id), `${JSON.stringify(box)}\n`);
        }),
      removeSecret: async (id) => this.removeFile(secretFile(id)),
      putCertificate: async (entry, pem) => this.replace(entry.file, pem),
      removeCertificate: async (entry) => this.removeFile(entry.file),
      vendorChainFile,
      putVendorChain: async (entry, pem) => this.replace(entry.file, pem),
      removeVendorChain: async (entry) => this.removeFile(entry.file),
      commit: async (next) => {
        if (next.storeId !== storeId)
          throw new AppError('INTERNAL', `write ${this.indexPath}: the index is not this store's (${next.storeId})`);
        // The index's text is made while scrypt (or the keychain) is still opening the master key for the seals.
        const prepared = { bytes: Buffer.from(serializeIndex(next)), summary: prepareSummary(next, previousSummary) };
        // A new store gets its master key with its first index even when nothing sealed went in (import --no-key):
        // a later change opens it, e.g. to seal a target's credential.
        if (isNew) await tx.masterKey();
        await settleSeals(locked); // the keys and secrets are in their files before the index names them
        this.writeIndex(prepared);
      },
      revertCommit: async () => {
        await Promise.allSettled(locked.sealing.splice(0)); // a seal begun after the commit is undone with it
        this.revertCommit();
      },
    };
    return tx;
  }

  /**
   * Creates the store directory (0700, and any missing parent) when there is none, and refuses (77) an
   * existing one that is not safe to use; an existing directory is never changed (its mode neither).
   * certs/ and keys/ are made when a first file goes in. Returns the directories it created.
   */
  private ensureDir(): string[] {
    let created: string[];
    try {
      created = makeDirs(this.dir);
    } catch (error) {
      throw new AppError('CANNOT_WRITE', `create the store ${this.dir}: ${(error as Error).message}`, {
        hint: writeFailureHint((error as NodeJS.ErrnoException).code, dirname(this.dir)),
      });
    }
    this.assertSafe();
    if (created.length === 0) {
      // A store on a read-only file system (or one this user may not write) fails here at once, not after the lock's wait.
      try {
        accessSync(this.dir, constants.W_OK);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new AppError(
          'CANNOT_WRITE',
          `update the store ${this.dir}: ${code === 'EROFS' ? 'its file system is mounted read-only' : (error as Error).message}`,
          {
            hint: writeFailureHint(code, this.dir),
          },
        );
      }
    }
    return created;
  }

  /**
   * Runs `fn` holding the store's lock (store-lock.ts); a second writer waits `lockWaitMs`, then fails with
   * exit 75. Every file `fn` creates in the store is removed again unless the change commits (writeIndex);
   * when it fails on a store it was creating, the directories it created are removed as far as they are empty.
   */
  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const created = this.ensureDir();
    return this.lockAndRun(fn, created).catch((error: unknown) => {
      removeDirs(created);
      throw error;
    });
  }

  private async lockAndRun<T>(fn: () => Promise<T>, createdDirs: readonly string[]): Promise<T> {
    const { StoreLock, StoreLockBusy } = await import('./store-lock.js');
    const lockPath = join(this.dir, LOCK_FILE);
    let lock: StoreLock;
    try {
      lock = await StoreLock.acquire(lockPath, this.options.lockWaitMs);
    } catch (error) {
      if (error instanceof StoreLockBusy) {
        throw new AppError(
          'STORE_BUSY',
          `update the store ${this.dir}: another apns-cert process is changing it (waited ${Math.round(this.options.lockWaitMs / 1000)} s)`,
          {
            hint: `apns-cert list   # and retry when the other process is done (a paused one, e.g. after Ctrl-Z, holds the lock until it goes on or ends)`,
          },
        );
      }
      throw writeError(`lock the store ${this.dir}`, lockPath, error);
    }
    let locked: Locked;
    try {
      const file = this.readIndexFile();
      locked = {
        lock,
        base: file?.bytes ?? null,
        stamp: file?.stamp ?? null,
        readAt: file?.readAt ?? 0,
        created: [],
        dirs: [],
        sealing: [],
        committed: null,
      };
    } catch (error) {
      lock.release();
      throw error;
    }
    this.locked = locked;
    // a process.exit() meanwhile leaves nothing either; before the lock's own exit handler
    const discardAtExit = () => this.discard(locked, locked.created);
    process.prependOnceListener('exit', discardAtExit);
    // Ended by a signal (src/cli/interrupt.ts): what the change created is removed while the lock is still
    // ours, the lock is released, and the directories made for a new store go as far as they are empty.
    const unregister = this.options.onInterrupt?.(() => {
      this.discard(locked, locked.created);
      lock.release();
      removeDirs(createdDirs);
    });
    try {
      const result = await fn();
      await settleSeals(locked);
      return result;
    } catch (error) {
      await Promise.allSettled(locked.sealing.splice(0)); // no seal still writing while the change's files go
      this.discard(locked, locked.created);
      throw error;
    } finally {
      unregister?.();
      process.removeListener('exit', discardAtExit);
      this.locked = null;
      lock.release();
    }
  }

  /**
   * Atomically replaces a file in the store (temp file, fsync, rename), mode 0600, under the lock: the rename
   * happens only while the lock is still this writer's and the index the one it found (else exit 75).
   */
  private replace(relative: string, data: string | Uint8Array): void {
    const locked = this.locked;
    if (locked === null) throw new AppError('INTERNAL', `write ${join(this.dir, relative)}: not under the store lock`);
    const path = this.path(relative);
    const isNew = !existsSync(path);
    let dirs: string[] = [];
    try {
      dirs = makeDirs(dirname(path)); // certs/ and keys/ come with their first file
      replaceFileAtomically(path, data, { mode: 0o600, fsync: true, beforeRename: () => this.assertUnchanged(locked) });
    } catch (error) {
      removeDirs(dirs);
      if (error instanceof AppError) throw error;
      throw writeError(`write ${path}`, path, error);
    }
    locked.dirs.push(...dirs);
    if (isNew) locked.created.push(relative);
  }

  /**
   * Commits the change: writes index.json, then expiry.json with the stamp of the index just written. Right before the
   * index is renamed into place it checks that the lock is still this writer's and that index.json is still
   * the one it found when it took the lock; else (it was paused and another writer went on) it fails with
   * exit 75 and the files it created are removed: nothing of it is written. The summary is an optimisation:
   * one that cannot be written stays as it was, its stamp no longer the index's, and check-expiry reads the index.
   */
  private writeIndex({ bytes, summary }: { bytes: Buffer; summary: PreparedSummary }): void {
    const locked = this.locked;
    if (locked === null) throw new AppError('INTERNAL', `write ${this.indexPath}: not under the store lock`);
    this.replace(INDEX_FILE, bytes);
    locked.committed = { base: locked.base, stamp: locked.stamp, readAt: locked.readAt, created: locked.created };
    locked.base = bytes;
    locked.readAt = Date.now();
    locked.stamp = this.writeSummary(summary);
    locked.created = [];
  }

  /**
   * Undoes the last writeIndex of this change (a file the command writes after committing could not be
   * written): index.json back to what it was, the files the change created removed.
   */
  private revertCommit(): void {
    const locked = this.locked;
    const committed = locked?.committed ?? null;
    if (locked === null || committed === null) return;
    if (committed.base === null) {
      this.assertUnchanged(locked);
      rmSync(this.indexPath, { force: true });
      rmSync(this.path(SUMMARY_FILE), { force: true });
    } else {
      this.replace(INDEX_FILE, committed.base);
      committed.readAt = Date.now();
      committed.stamp = this.writeSummary(prepareSummary(parseIndex(committed.base.toString('utf8'), this.indexPath)));
    }
    this.discard(locked, [...committed.created, ...locked.created]);
    locked.base = committed.base;
    locked.stamp = committed.stamp;
    locked.readAt = committed.readAt;
    locked.created = [];
    locked.committed = null;
  }

  private assertUnchanged(locked: Locked): void {
    const lost = !locked.lock.isHeld();
    if (!lost && this.indexIsBase(locked)) return;
    throw new AppError(
      'STORE_BUSY',
      `update the store ${this.dir}: ${lost ? 'this process lost the store lock while it was paused' : 'another process changed the index meanwhile'}; nothing was written`,
      { hint: 'apns-cert list   # then run the command again' },
    );
  }

  /**
   * Whether index.json is still the file `locked.base` was read from (or written as). Any change of the file
   * since its stamp was taken, in place or by a rename over it, gives it another stamp: a later ctime, as the
   * kernel sets it to the time of the change. Only a change within the same tick of the kernel's clock as the
   * file's last one could keep it: so the stamp alone decides for a file last changed at least QUIET_MS before it
   * was read, and the bytes are compared for one changed just before (a change this process committed, say).
   */
  private indexIsBase(locked: Locked): boolean {
    if (locked.base === null) return this.indexBytes() === null;
    if (locked.stamp !== null) {
      const now = this.indexStamp();
      if (now === null || !sameStamp(now, locked.stamp)) return false;
      if (Number(locked.stamp.ctimeNs) / 1e6 < locked.readAt - QUIET_MS) return true;
    }
    return this.indexBytes()?.equals(locked.base) ?? false;
  }

  /** expiry.json for the index just written, with its stamp; returns that stamp (null: no index.json). */
  private writeSummary(summary: PreparedSummary): IndexStamp | null {
    const stamp = this.indexStamp();
    if (stamp === null) return null;
    try {
      replaceFileAtomically(this.path(SUMMARY_FILE), summaryText(summary, stamp), { mode: 0o600, fsync: false });
    } catch {
      // stays as it was, its stamp no longer the index's: check-expiry reads the index, and a change checks it
    }
    return stamp;
  }

  /**
   * Removes files a change created (in reverse order). Without the lock (this writer was paused and another went
   * on), a file may be another writer's by now (the same certificate, a new store's master key): then only a
   * key or secret file that no record names is removed, the rest stays for doctor to report.
   */
  private discard(locked: Locked, created: string[]): void {
    const held = locked.lock.isHeld();
    const index = held ? '' : readOr(() => this.indexBytes()?.toString('utf8') ?? '', null);
    for (const relative of [...created].reverse()) {
      const sealed = relative.startsWith(`${KEYS_DIR}/`) || relative.startsWith(`${SECRETS_DIR}/`);
      if (!held && (index === null || !sealed || index.includes(basename(relative).split('.')[0]!))) continue;
      rmSync(this.path(relative), { force: true });
    }
    for (const dir of [...locked.dirs].reverse()) {
      try {
        rmdirSync(dir); // only while empty
      } catch {
        // it holds files of other records
      }
    }
  }

  /** Removes a file of the store, only while the lock is still this writer's (else it stays, an orphan doctor reports). */
  private removeFile(relative: string): void {
    if (this.locked !== null && !this.locked.lock.isHeld()) return;
    rmSync(this.path(relative), { force: true });
  }
}

/** Waits for the seals under way; the first that failed (a wrong passphrase, a full disk) fails the change. */
async function settleSeals(locked: Locked): Promise<void> {
  const failed = (await Promise.allSettled(locked.sealing.splice(0))).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}

/** The bytes read of the first line of expiry.json (its header is about 190 bytes). */
const SUMMARY_HEAD_BYTES = 512;
/** The bytes read of index.json for its store id and backend (they come first). */
const IDENTITY_HEAD_BYTES = 256;
/** How long before it is read index.json must have last changed for its stamp alone to show it unchanged. */
const QUIET_MS = 100;

interface IndexFile {
  bytes: Buffer;
  stamp: IndexStamp;
  /** Date.now() just before the file was opened. */
  readAt: number;
}

interface Locked {
  lock: StoreLock;
  /** index.json as found when the lock was taken, then as this change last wrote it (null: none). */
  base: Buffer | null;
  /** The stamp of index.json when `base` was read, or right after this change wrote it (null: none). */
  stamp: IndexStamp | null;
  /** When `stamp` was taken (Date.now() just before). */
  readAt: number;
  /** Files created in the store since the last commit. */
  created: string[];
  /** Directories of the store (certs/, keys/) this change created, removed with its files when they are empty. */
  dirs: string[];
  /** Keys and secrets being sealed (waiting for the master key), each then written. */
  sealing: Promise<void>[];
  /** What the last commit replaced, for revertCommit. */
  committed: { base: Buffer | null; stamp: IndexStamp | null; readAt: number; created: string[] } | null;
}
