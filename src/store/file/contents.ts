import { readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { AppError } from '../../errors.js';
import { auditLine } from '../../core/audit-log.js';
import { summarizeIndex } from '../../core/expiry-summary.js';
import { serializeIndex } from '../../core/index-model.js';
import type { StoreIndex } from '../../core/index-model.js';
import { certificateFiles, sealedSecretRefs } from '../../core/store-contents.js';
import type { StoreContents } from '../../core/store-contents.js';
import type { AuditEntry } from '../../core/audit-log.js';
import { entryKind, fsyncDir, makeDirs, removeDirs, replaceFileAtomically } from '../../io/files.js';
import { writeError, writeFailureHint } from '../../io/write-error.js';
import { notEmptyError } from '../store.js';
import { AUDIT_FILE, INDEX_FILE, MASTER_KEY_FILE, SUMMARY_FILE, indexStampOf, keyFile, secretFile } from './layout.js';

/** What exportFileStore reads through: the FileStore's checked paths, its master key, its log. */
export interface FileStoreReader {
  path(relative: string): string;
  openMasterKey(): Promise<Buffer>;
  readLog(onSkipped: (problem: string) => void): Promise<AuditEntry[]>;
}

function readStoreFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new AppError('STORE_CORRUPT', `copy ${path}: ${(error as Error).message}`, {
      hint: 'apns-cert doctor --offline',
    });
  }
}

const missing = (path: string) => entryKind(path) === 'none';

/** The file store's contents (StoreContents): the files its index names, read as they are. */
export async function exportFileStore(index: StoreIndex, store: FileStoreReader): Promise<StoreContents> {
  const read = (relative: string) => readStoreFile(store.path(relative));
  const secrets: StoreContents['secrets'] = [];
  for (const ref of sealedSecretRefs(index)) {
    const relative = ref.kind === 'private-key' ? keyFile(ref.id) : secretFile(ref.id);
    if (!ref.required && missing(store.path(relative))) continue;
    secrets.push({ id: ref.id, kind: ref.kind, box: read(relative) });
  }
  const logSkipped: string[] = [];
  const log = await store.readLog((problem) => logSkipped.push(problem));
  return {
    index,
    masterKey:
      index.secretBackend === 'passphrase' ? { wrapped: read(MASTER_KEY_FILE) } : { open: store.openMasterKey },
    certificates: certificateFiles(index).map((file) => ({ file, pem: read(file) })),
    vendorChains: Object.values(index.vendors).map((v) => ({ file: v.file, pem: read(v.file) })),
    secrets,
    log,
    logSkipped,
  };
}

/** Why `dir` cannot take a copy (null: it can: it is missing, or an empty directory). */
function notEmpty(dir: string): string | null {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return 'it is not a directory';
    names = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AppError('CANNOT_WRITE', `copy into ${dir}: ${(error as Error).message}`, { hint: `ls -ld ${dir}` });
  }
  if (names.length === 0) return null;
  return names.includes(INDEX_FILE)
    ? 'it is a store that has records'
    : `it holds files (${names.slice(0, 3).join(', ')})`;
}

/**
 * Makes the store `dir` of `contents`: built in a directory beside it (`<dir>.<pid>.copy.tmp`), every file 0600
 * and fsync'd, then renamed into place; `dir` must be missing or an empty directory. A failure removes what was
 * built: `dir` stays as it was. The master key stays with its vault: a passphrase store's master-key.json is
 * copied; a keychain store's key stays in this machine's keychain, under the same store id.
 */
export function importFileStore(dir: string, contents: StoreContents): void {
  const why = notEmpty(dir);
  if (why !== null) throw notEmptyError(dir, why);
  let created: string[];
  try {
    created = makeDirs(dirname(dir));
  } catch (error) {
    throw new AppError('CANNOT_WRITE', `copy into ${dir}: ${(error as Error).message}`, {
      hint: writeFailureHint((error as NodeJS.ErrnoException).code, dirname(dir)),
    });
  }
  const temp = join(dirname(dir), `.${basename(dir)}.${process.pid}.copy.tmp`);
  const write = (relative: string, data: string) => {
    const path = join(temp, relative);
    try {
      makeDirs(dirname(path));
      replaceFileAtomically(path, data, { mode: 0o600, fsync: true });
    } catch (error) {
      throw writeError(`copy into ${dir}`, path, error);
    }
  };
  try {
    rmSync(temp, { recursive: true, force: true }); // left by a copy of this pid that was killed
    write(AUDIT_FILE, contents.log.map((e) => `${auditLine(e)}\n`).join(''));
    if ('wrapped' in contents.masterKey) write(MASTER_KEY_FILE, contents.masterKey.wrapped);
    for (const { file, pem } of [...contents.certificates, ...contents.vendorChains]) write(file, pem);
    for (const s of contents.secrets) write(s.kind === 'private-key' ? keyFile(s.id) : secretFile(s.id), s.box);
    write(INDEX_FILE, serializeIndex(contents.index));
    const st = statSync(join(temp, INDEX_FILE), { bigint: true });
    write(SUMMARY_FILE, summarizeIndex(contents.index, indexStampOf(st)));
    for (const sub of ['', ...new Set(contents.secrets.map((s) => (s.kind === 'private-key' ? 'keys' : 'secrets')))])
      fsyncDir(join(temp, sub));
    try {
      renameSync(temp, dir); // over an empty directory too; one that is no longer empty: ENOTEMPTY
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') throw notEmptyError(dir, 'files appeared in it meanwhile');
      throw writeError(`copy into ${dir}`, dir, error);
    }
    fsyncDir(dirname(dir));
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    removeDirs(created);
    throw error;
  }
}
