import type { BigIntStats } from 'node:fs';
import { basename } from 'node:path';
import type { IndexStamp } from '../../core/expiry-summary.js';
import { AppError } from '../../errors.js';
import { KEY_ID_RE, SECRET_ID_RE } from '../../core/index-model.js';
import { isTemporaryFile } from '../../io/files.js';

/*
 * The file store's layout, the one place that knows it (the format is fixed: a store written by an older version
 * opens as it is). Directory 0700, every file 0600:
 *   index.json               the records (src/core/index-model.ts), a record a line; the only file a change commits
 *   expiry.json              derived from index.json after each change (src/core/expiry-summary.ts)
 *   store.lock               held by the writer making a change (store-lock.ts)
 *   master-key.json          the master key wrapped under a passphrase (passphrase backend only)
 *   audit.jsonl              the audit log: one JSON object per line, only ever appended to (audit-log.ts)
 *   certs/<fingerprint>.pem  the certificates the index names in its entries' "file"
 *   certs/<sha256>.pem       a vendor identity's certificate followed by its chain (the index's vendors[].file)
 *   keys/<keyId>.key         private keys, sealed under the master key
 *   secrets/<id>.sealed      other secrets (a deploy target's credential), sealed under the master key, bound to id and kind
 *   <name>.<pid>.<random>.tmp  a file being written (src/io/files.ts), left only by an interrupted write
 */
export const INDEX_FILE = 'index.json';
export const SUMMARY_FILE = 'expiry.json';
export const LOCK_FILE = 'store.lock';
export const MASTER_KEY_FILE = 'master-key.json';
export const AUDIT_FILE = 'audit.jsonl';
export const CERTS_DIR = 'certs';
export const KEYS_DIR = 'keys';
export const SECRETS_DIR = 'secrets';
/** The directories of the store, '' the store itself: each must be 0700, the user's own. */
export const DIRECTORIES = ['', CERTS_DIR, KEYS_DIR, SECRETS_DIR] as const;
/** The files at the top of the store, besides the directories. */
export const TOP_FILES = [INDEX_FILE, SUMMARY_FILE, MASTER_KEY_FILE] as const;

/** The file of a certificate (what an index entry's "file" holds), relative to the store. */
export function certificateFile(fingerprintSha256: string): string {
  return `${CERTS_DIR}/${fingerprintSha256}.pem`;
}

/** The file of a vendor identity's certificate and chain (what a vendor entry's "file" holds), relative to the store. */
export function vendorChainFile(sha256: string): string {
  return `${CERTS_DIR}/${sha256}.pem`;
}

/**
 * The file of a private key, relative to the store. The index is validated when read; this check is the last
 * line before a path is built from a key id, whatever its source.
 */
export function keyFile(keyId: string): string {
  if (!KEY_ID_RE.test(keyId))
    throw new AppError(
      'STORE_CORRUPT',
      `find the key ${JSON.stringify(keyId.slice(0, 80))}: not a key id (64 hex digits)`,
      { hint: 'apns-cert doctor --offline' },
    );
  return `${KEYS_DIR}/${keyId}.key`;
}

/** The file of a sealed secret, relative to the store; like keyFile, the last check before a path is built from an id. */
export function secretFile(id: string): string {
  if (!SECRET_ID_RE.test(id))
    throw new AppError(
      'STORE_CORRUPT',
      `find the secret ${JSON.stringify(id.slice(0, 80))}: not a secret id (64 hex digits)`,
      { hint: 'apns-cert doctor --offline' },
    );
  return `${SECRETS_DIR}/${id}.sealed`;
}

/** A file name in secrets/ that holds a sealed secret, and the id it holds. */
export const isSecretFileName = (name: string) => name.endsWith('.sealed');
export const secretIdOfFile = (name: string) => basename(name, '.sealed');

/** A file name in keys/ that holds a key, and in certs/ one that holds a certificate. */
export const isKeyFileName = (name: string) => name.endsWith('.key');
export const isCertificateFileName = (name: string) => name.endsWith('.pem');
/** The key id a key file name holds. */
export const keyIdOfFile = (name: string) => basename(name, '.key');

/** A temporary file left in one of the store's directories by an interrupted write (src/io/files.ts names them). */
export const isLeftoverTemporary = isTemporaryFile;

/** The stamp of index.json that expiry.json carries (src/core/expiry-summary.ts): inode, size, mtime and ctime in ns. */
export const indexStampOf = (st: BigIntStats): IndexStamp => ({
  ino: String(st.ino),
  size: String(st.size),
  mtimeNs: String(st.mtimeNs),
  ctimeNs: String(st.ctimeNs),
});
