import type { AuditEntry } from './audit-log.js';
import { certificateKeyIds, pendingKeyIds, recordSecrets } from './index-model.js';
import type { StoreIndex } from './index-model.js';
import type { SecretKind } from './sealed.js';

/** What a sealed box holds: a private key (keys/ of the file store) or another secret (secrets/). */
export type SealedKind = 'private-key' | SecretKind;

/**
 * A store as it keeps itself, what `store copy` carries from one store to another: the index, the PEM texts it
 * names, the sealed boxes as their JSON text (never opened), the master key as the vault wraps it, the audit log.
 */
export interface StoreContents {
  index: StoreIndex;
  /**
   * The master key as the source's vault keeps it: the document that wraps it under a passphrase, copied as it
   * is; or, from a vault that keeps it itself (the OS keychain), a way to open it, for a destination that
   * must wrap it anew (a PostgreSQL store: under a new team passphrase).
   */
  masterKey: { wrapped: string } | { open: () => Promise<Buffer> };
  certificates: Array<{ file: string; pem: string }>;
  vendorChains: Array<{ file: string; pem: string }>;
  secrets: Array<{ id: string; kind: SealedKind; box: string }>;
  log: AuditEntry[];
  /** Lines of the source's audit log that are not entries (a torn or damaged line), left out: "line <n>: <why>". */
  logSkipped: string[];
}

/** A sealed secret the index names; `required` false for one a retired record named (retire removes them). */
export interface SealedRef {
  id: string;
  kind: SealedKind;
  required: boolean;
}

/** Every sealed secret the index names, once each: keys of certificates, pending keys, vendors; target credentials; Apple IDs. */
export function sealedSecretRefs(index: StoreIndex): SealedRef[] {
  const refs = new Map<string, SealedRef>();
  const add = (id: string, kind: SealedKind, required: boolean) => {
    const known = refs.get(id);
    if (known === undefined) refs.set(id, { id, kind, required });
    else known.required ||= required;
  };
  for (const record of Object.values(index.records)) {
    const live = record.retiredAt === null;
    for (const keyId of certificateKeyIds(record)) add(keyId, 'private-key', live);
    for (const keyId of pendingKeyIds(record.pendingKey)) add(keyId, 'private-key', live);
    for (const { id, kind } of recordSecrets(record)) add(id, kind, live);
  }
  for (const vendor of Object.values(index.vendors)) add(vendor.keyId, 'private-key', true);
  return [...refs.values()];
}

/** The certificate files the index names (each once). */
export function certificateFiles(index: StoreIndex): string[] {
  return [...new Set(Object.values(index.records).flatMap((r) => r.certificates.map((c) => c.file)))];
}
