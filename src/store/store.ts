import { AppError } from '../errors.js';
import type { AuditEntry, AuditFilter } from '../core/audit-log.js';
import type { SummaryRecord } from '../core/expiry-summary.js';
import type { CertificateEntry, StoreIndex, VendorEntry } from '../core/index-model.js';
import type { PrivateKeyInfo } from '../core/keys.js';
import type { SecretKind } from '../core/sealed.js';
import type { StoreContents } from '../core/store-contents.js';
import type { StorePlace } from '../io/files.js';
import type { KdfUpgrade } from './vault.js';

/**
 * The store, the only thing commands talk to: records (the index), their certificates, and secrets sealed
 * under the store's master key, which a vault (src/store/vault.ts) holds. One implementation per backend
 * (src/store/file/, src/store/postgres/); nothing here names a file.
 *
 * Reads take no lock and see a committed state. Every change is a `change()`: taken under the store's lock,
 * all of it or nothing. Errors are AppErrors with the codes the CLI documents (65 damaged, 73 cannot write,
 * 75 busy, 77 unsafe store or wrong passphrase, 69 vault unavailable).
 */
export interface Store extends StorePlace {
  /** Where the store is, for messages: a directory, or a database URL (never with a password). */
  readonly location: string;
  /** True when `path` (a file on this machine) lies inside the store: output files are refused there. */
  holdsPath(path: string): boolean;

  /** The index, or null when there is no store yet. Never repairs a damaged one (65). */
  read(): Promise<StoreIndex | null>;
  /** The index; NOT_FOUND (64) with a hint to start when there is no store yet. */
  readOrFail(): Promise<StoreIndex>;
  /** check-expiry's fast path: each record's expiry when the backend has it for the current index, else null. */
  readSummary(): Promise<SummaryRecord[] | null>;
  /**
   * `check-expiry -q`'s fast path over the whole store: the soonest notAfter (ISO-8601, as toISOString writes it) of
   * the records it checks, when the backend keeps it for the current index; null when it does not (or there is
   * none). Absent: the backend keeps none (then readSummary).
   */
  soonestExpiry?(): Promise<string | null>;
  /** The PEM text of a certificate of the index. */
  certificatePem(entry: CertificateEntry): Promise<string>;
  /** The PEM text of a vendor identity: its certificate followed by its chain. */
  vendorChain(entry: VendorEntry): Promise<string>;
  /** Opens the master key of the store `index` is from (the vault may prompt); it is kept for the process. */
  unlock(index: StoreIndex): Promise<void>;
  /** A private key of the store `index` is from, opened with its master key (unlocking it first). */
  privateKey(index: StoreIndex, keyId: string): Promise<PrivateKeyInfo>;
  /** A sealed secret of the store `index` is from (a target's credential, an Apple ID), opened as `kind` (another kind: 65). */
  secret(index: StoreIndex, id: string, kind: SecretKind): Promise<Buffer>;

  /**
   * Starts opening an existing store's master key now, before the lock is taken, for a change that will need
   * it: scrypt or the keychain run while other work goes on. Errors surface where the change awaits the key.
   */
  unlockEarly(): void;
  /**
   * Whether the store holds the sealed private key `keyId`, told without reading the index (the file store: its key
   * file; a database: its row); a hint for unlockEarly only (a change decides from the index). True when it cannot
   * tell (a role that may not read the secrets): then nothing is opened early.
   */
  holdsPrivateKey(keyId: string): Promise<boolean>;
  /**
   * Runs `fn` under the store's lock (another writer waits, then 75) and returns what it returns. Nothing `fn`
   * writes stays unless it commits; when `fn` throws, the store is as it was (a new store is not created).
   */
  change<T>(fn: (tx: StoreChange) => Promise<T>): Promise<T>;

  /** What doctor reports: safety, files the index names that are missing, orphans, leftovers, modes. */
  audit(): Promise<StoreAudit>;
  /** Re-wraps the master key with today's key derivation (under the lock); null for a backend that derives none. */
  upgradeKdf(): Promise<{ index: StoreIndex; result: KdfUpgrade | null }>;
  /**
   * `store init`: makes the store (and its master key, asking for a new passphrase) unless it is there, which
   * stays as it is (`created` false). A database store gets its tables (migrations) here, and an existing one the
   * migrations its schema lacks (`upgradedFrom`: the schema version it had, else null); a directory store is
   * otherwise made by its first change.
   */
  init(): Promise<StoreInit>;
  /** Ends what the store keeps open (a database connection); the CLI calls it when the command is done. */
  close(): Promise<void>;

  /**
   * Appends an entry to the store's audit log, append-only and durable when it returns. No store yet (a
   * command that failed before creating one): nothing is written and no store is made. Takes no lock.
   */
  appendLog(entry: AuditEntry): Promise<void>;
  /**
   * The entries of the audit log, oldest first, of one record (also a removed one) and from an instant on.
   * No store: none. A line that is not an entry (torn by a writer killed mid-write, edited) is left out and,
   * when `onSkipped` is given, told to it ("line <n>: <why>").
   */
  readLog(filter: AuditFilter): Promise<AuditEntry[]>;

  /**
   * `store copy`: what the store holds, as it holds it (src/core/store-contents.ts): sealed secrets as their boxes,
   * the master key as its vault wraps it; nothing is opened. No store: NOT_FOUND (64). A secret a live record
   * names that is not there: 65.
   */
  exportContents(): Promise<StoreContents>;
  /**
   * `store copy`: makes this store of `contents`, with their store id and master key, all of it or nothing: a
   * store that is not empty (records, vendors, certificates or secrets) is refused with DEST_NOT_EMPTY (65)
   * and stays as it was, as it does when the copy fails.
   */
  importContents(contents: StoreContents): Promise<void>;
}

/** What `store init` did. */
export interface StoreInit {
  created: boolean;
  index: StoreIndex;
  /** The schema version of a database store that init upgraded, or null. */
  upgradedFrom: number | null;
}

/** A change under way, under the store's lock. */
export interface StoreChange {
  /** The index as found under the lock, read once; for a new store a fresh one, with its one store id. */
  readonly index: StoreIndex;
  /** True when there was no store: this change creates it. */
  readonly isNew: boolean;
  /** The master key: opened on first call; for a new store made and given to its vault (once). */
  masterKey(): Promise<Buffer>;
  /** The name an index entry gives a certificate with this SHA-256 fingerprint. */
  certificateFile(fingerprintSha256: string): string;

  /**
   * Seals a private key under the master key and keeps it (by its key id). A backend may finish this in the
   * background, the master key still opening (the file store), so that the change goes on meanwhile: then it is
   * done before the commit writes the index, and its failure (a wrong passphrase, a full disk) fails the commit.
   */
  putPrivateKey(key: PrivateKeyInfo): Promise<void>;
  privateKey(keyId: string): Promise<PrivateKeyInfo>;
  /** After the commit: deletes a private key (only while the lock is still this change's). */
  removePrivateKey(keyId: string): Promise<void>;
  /** Seals a secret (a target's credential, an Apple ID) under the master key, bound to its id and kind, and keeps it (as putPrivateKey: perhaps in the background). */
  putSecret(id: string, bytes: Uint8Array, kind: SecretKind): Promise<void>;
  /** After the commit: deletes a sealed secret (only while the lock is still this change's). */
  removeSecret(id: string): Promise<void>;
  /** Keeps the PEM of the certificate an index entry names. */
  putCertificate(entry: CertificateEntry, pem: string): Promise<void>;
  /** After the commit: deletes a certificate (only while the lock is still this change's). */
  removeCertificate(entry: CertificateEntry): Promise<void>;

  /** The name a vendor entry gives the file of its certificate and chain. */
  vendorChainFile(sha256: string): string;
  /** Keeps a vendor identity's certificate followed by its chain (PEM), in the file its entry names. */
  putVendorChain(entry: VendorEntry, pem: string): Promise<void>;
  /** After the commit: deletes a vendor identity's certificate and chain (only while the lock is still this change's). */
  removeVendorChain(entry: VendorEntry): Promise<void>;

  /**
   * Writes `index` atomically: only while the lock is this change's and the index is still the one found (else
   * 75, and nothing of the change stays). Until then readers see the store as it was.
   */
  commit(index: StoreIndex): Promise<void>;
  /** Undoes the last commit (something the command writes after it failed): index and new secrets as before. */
  revertCommit(): Promise<void>;
}

/** A problem found by `audit`, as doctor shows it. */
export interface StoreAudit {
  location: string;
  /** Why the store must not be used (then nothing else was looked at), or null. */
  unsafe: { message: string; hint: string } | null;
  /** The index (null: no store yet, or unsafe). */
  index: StoreIndex | null;
  /** Certificates and keys the index names that are not there, or that lead out of the store. */
  missing: Array<{
    record: string;
    kind: 'certificate' | 'key' | 'secret';
    ref: string;
    problem: 'missing' | 'outside';
  }>;
  /** Secrets and certificates no record names (left by an interrupted command), by the names the store lists. */
  orphanKeys: string[];
  orphanCertificates: string[];
  /** Sealed secrets (target credentials, remembered Apple IDs) no target or record names. */
  orphanSecrets: string[];
  /** Where to look at the orphans (a command's arguments: directories). */
  orphanPlaces: string[];
  /** Temporary files left by interrupted writes (paths). */
  temporary: string[];
  /** Parts of the store whose access is wider than it must be: "<what> is <mode>, not <wanted>". */
  badModes: Array<{ what: string; mode: number; wanted: number }>;
}

/** An audit that found nothing yet, for a backend to fill in. */
export function emptyStoreAudit(
  location: string,
  unsafe: StoreAudit['unsafe'] = null,
  index: StoreIndex | null = null,
): StoreAudit {
  return {
    location,
    unsafe,
    index,
    missing: [],
    orphanKeys: [],
    orphanCertificates: [],
    orphanSecrets: [],
    orphanPlaces: [],
    temporary: [],
    badModes: [],
  };
}

/** `store copy` into a store that is not empty: refused, the store as it was. */
export const notEmptyError = (location: string, why: string) =>
  new AppError('BAD_INPUT', `copy into ${location}: ${why}; a store is copied only into an empty one`, {
    hint: 'apns-cert store copy --from <store> --to <a new directory, or a database after store init>',
  });
