import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isAppError } from '../../errors.js';
import type { StoreIndex } from '../../core/index-model.js';
import { certificateKeyIds, pendingKeyIds, recordSecrets } from '../../core/index-model.js';
import { emptyStoreAudit } from '../store.js';
import type { StoreAudit } from '../store.js';
import {
  AUDIT_FILE,
  CERTS_DIR,
  DIRECTORIES,
  KEYS_DIR,
  SECRETS_DIR,
  TOP_FILES,
  isCertificateFileName,
  isKeyFileName,
  isLeftoverTemporary,
  isSecretFileName,
  keyFile,
  secretFile,
} from './layout.js';

function modeOf(path: string): number | null {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return null;
  }
}

/** What is wrong with the audit log's file (a symbolic link, not a file, a mode other than 0600), or null. */
function auditLogMode(path: string): StoreAudit['badModes'][number] | null {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return null; // none yet
  }
  const mode = st.mode & 0o777;
  if (st.isSymbolicLink())
    return { what: `${AUDIT_FILE} (a symbolic link; the audit log must be a file of the store)`, mode, wanted: 0o600 };
  if (!st.isFile()) return { what: `${AUDIT_FILE} (not a regular file)`, mode, wanted: 0o600 };
  return mode === 0o600 ? null : { what: AUDIT_FILE, mode, wanted: 0o600 };
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * What doctor reports about the store in `dir`: the files its index names that are missing or lead out of it
 * (`resolve` refuses those with 65), key and certificate files no record names, temporary files left by
 * interrupted writes, and directories or files whose mode is not 0700 / 0600.
 */
export function auditStore(
  dir: string,
  unsafe: StoreAudit['unsafe'],
  index: StoreIndex | null,
  resolve: (relative: string) => string,
): StoreAudit {
  const audit = emptyStoreAudit(dir, unsafe, index);
  if (unsafe !== null || index === null) return audit;

  const presence = (relative: string): 'ok' | 'missing' | 'outside' => {
    try {
      return modeOf(resolve(relative)) === null ? 'missing' : 'ok';
    } catch (error) {
      if (isAppError(error) && error.code === 'STORE_CORRUPT') return 'outside';
      throw error;
    }
  };
  const referencedKeys = new Set<string>();
  const referencedCerts = new Set<string>();
  const referencedSecrets = new Set<string>();
  for (const record of Object.values(index.records)) {
    for (const c of record.certificates) {
      referencedCerts.add(c.file);
      const found = presence(c.file);
      if (found !== 'ok') audit.missing.push({ record: record.name, kind: 'certificate', ref: c.file, problem: found });
    }
    const keyIds = [
      ...(record.retiredAt === null ? certificateKeyIds(record) : []),
      ...pendingKeyIds(record.pendingKey),
    ];
    for (const keyId of keyIds) {
      referencedKeys.add(keyFile(keyId));
      const found = presence(keyFile(keyId));
      if (found !== 'ok') audit.missing.push({ record: record.name, kind: 'key', ref: keyId, problem: found });
    }
    for (const { id, of } of recordSecrets(record)) {
      referencedSecrets.add(secretFile(id));
      const found = presence(secretFile(id));
      if (found !== 'ok')
        audit.missing.push({ record: `${record.name} ${of}`, kind: 'secret', ref: id, problem: found });
    }
  }

  for (const vendor of Object.values(index.vendors)) {
    const owner = `vendor ${vendor.subject}`;
    referencedCerts.add(vendor.file);
    const cert = presence(vendor.file);
    if (cert !== 'ok') audit.missing.push({ record: owner, kind: 'certificate', ref: vendor.file, problem: cert });
    referencedKeys.add(keyFile(vendor.keyId));
    const key = presence(keyFile(vendor.keyId));
    if (key !== 'ok') audit.missing.push({ record: owner, kind: 'key', ref: vendor.keyId, problem: key });
  }

  const listing = {
    '': list(dir),
    [KEYS_DIR]: list(join(dir, KEYS_DIR)),
    [CERTS_DIR]: list(join(dir, CERTS_DIR)),
    [SECRETS_DIR]: list(join(dir, SECRETS_DIR)),
  };
  const keyNames = listing[KEYS_DIR]!;
  const certNames = listing[CERTS_DIR]!;
  const secretNames = listing[SECRETS_DIR]!;
  audit.orphanKeys = keyNames.filter((f) => isKeyFileName(f) && !referencedKeys.has(`${KEYS_DIR}/${f}`));
  audit.orphanCertificates = certNames.filter(
    (f) => isCertificateFileName(f) && !referencedCerts.has(`${CERTS_DIR}/${f}`),
  );
  audit.orphanSecrets = secretNames.filter((f) => isSecretFileName(f) && !referencedSecrets.has(`${SECRETS_DIR}/${f}`));
  audit.orphanPlaces = [
    ...(audit.orphanKeys.length > 0 ? [join(dir, KEYS_DIR)] : []),
    ...(audit.orphanCertificates.length > 0 ? [join(dir, CERTS_DIR)] : []),
    ...(audit.orphanSecrets.length > 0 ? [join(dir, SECRETS_DIR)] : []),
  ];
  audit.temporary = Object.entries(listing).flatMap(([sub, names]) =>
    names.filter(isLeftoverTemporary).map((f) => join(dir, sub, f)),
  );

  for (const sub of DIRECTORIES) {
    const mode = modeOf(join(dir, sub));
    if (mode !== null && mode !== 0o700) audit.badModes.push({ what: join(dir, sub), mode, wanted: 0o700 });
  }
  const files = [
    ...TOP_FILES,
    ...keyNames.map((f) => `${KEYS_DIR}/${f}`),
    ...certNames.map((f) => `${CERTS_DIR}/${f}`),
    ...secretNames.map((f) => `${SECRETS_DIR}/${f}`),
  ];
  for (const f of files) {
    const mode = modeOf(join(dir, f));
    if (mode !== null && mode !== 0o600) audit.badModes.push({ what: f, mode, wanted: 0o600 });
  }
  const log = auditLogMode(join(dir, AUDIT_FILE));
  if (log !== null) audit.badModes.push(log);
  return audit;
}
