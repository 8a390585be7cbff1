import { certificateKeyIds, pendingKeyIds, recordSecrets } from '../../core/index-model.js';
import type { StoreIndex } from '../../core/index-model.js';
import type { StoreAudit } from '../store.js';

export const PRIVATE_KEY = 'private-key';

/** The rows of a PostgreSQL store that doctor compares with its records (secrets: null when the role may not read them). */
export interface StoreRows {
  certs: Set<string>;
  chains: Set<string>;
  /** Secret id → kind. */
  secrets: Map<string, string> | null;
}

/**
 * What doctor reports of a PostgreSQL store, as the file store's audit does of its files: certificates, chains,
 * sealed keys and credentials the records name that have no row, and rows no record names.
 */
export function auditRows(audit: StoreAudit, index: StoreIndex, rows: StoreRows): StoreAudit {
  const { certs, chains, secrets } = rows;
  const keys = new Set<string>();
  const credentials = new Set<string>();
  const usedCerts = new Set<string>();
  const want = (record: string, kind: 'certificate' | 'key' | 'secret', ref: string, present: boolean) => {
    if (!present) audit.missing.push({ record, kind, ref, problem: 'missing' });
  };
  for (const record of Object.values(index.records)) {
    for (const c of record.certificates) {
      usedCerts.add(c.file);
      want(record.name, 'certificate', c.file, certs.has(c.file));
    }
    const keyIds = [
      ...(record.retiredAt === null ? certificateKeyIds(record) : []),
      ...pendingKeyIds(record.pendingKey),
    ];
    for (const keyId of keyIds) {
      keys.add(keyId);
      if (secrets !== null) want(record.name, 'key', keyId, secrets.get(keyId) === PRIVATE_KEY);
    }
    for (const { id, of } of recordSecrets(record)) {
      credentials.add(id);
      if (secrets !== null) want(`${record.name} ${of}`, 'secret', id, secrets.has(id));
    }
  }
  for (const vendor of Object.values(index.vendors)) {
    want(`vendor ${vendor.subject}`, 'certificate', vendor.file, chains.has(vendor.file));
    keys.add(vendor.keyId);
    if (secrets !== null)
      want(`vendor ${vendor.subject}`, 'key', vendor.keyId, secrets.get(vendor.keyId) === PRIVATE_KEY);
  }
  if (secrets !== null) {
    for (const [id, kind] of secrets) {
      if (kind === PRIVATE_KEY && !keys.has(id)) audit.orphanKeys.push(id);
      if (kind !== PRIVATE_KEY && !credentials.has(id)) audit.orphanSecrets.push(id);
    }
  }
  audit.orphanCertificates = [...certs].filter((f) => !usedCerts.has(f));
  const usedChains = new Set(Object.values(index.vendors).map((v) => v.file));
  audit.orphanCertificates.push(...[...chains].filter((f) => !usedChains.has(f)));
  if (audit.orphanKeys.length + audit.orphanSecrets.length > 0)
    audit.orphanPlaces.push(`${audit.location} table secrets`);
  if (audit.orphanCertificates.length > 0)
    audit.orphanPlaces.push(`${audit.location} tables certificates, vendor_chains`);
  return audit;
}
