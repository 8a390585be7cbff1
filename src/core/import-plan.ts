import {
  AlreadyImported,
  Expired,
  KeyMismatch,
  KeyWithNoKey,
  NoKey,
  NoMatchingRecord,
  NoTopic,
  Retired,
  TopicChanged,
} from './errors.js';
import type { CertificateInfo } from './certificate.js';
import type { DecodedFile } from './input.js';
import type { PrivateKeyInfo } from './keys.js';
import { activeCertificate, newRecord, pendingPublicKeyId, recordNamed } from './index-model.js';
import type { CertificateEntry, PushRecord, StoreIndex } from './index-model.js';
import { copyRecords, recordsMentioning } from './lazy-records.js';
import { appleIdMatches } from './topic.js';

export interface ImportRequest {
  decoded: DecodedFile;
  source: string;
  name?: string | undefined;
  /** Hash of the Apple ID given on the command line (hashAppleId), with the plain ID to compare. */
  appleId?: { plain: string; hash: string } | undefined;
  allowNewTopic: boolean;
  allowExpired: boolean;
  /** The certificate's key is kept elsewhere (`--no-key`): none is looked for, and the entry is keyless. */
  noKey?: boolean | undefined;
  now: Date;
  /** The name the store gives the certificate's file in the index entry (Store change: certificateFile). */
  certificateFile: (fingerprintSha256: string) => string;
}

export interface ImportPlan {
  index: StoreIndex;
  name: string;
  isNewRecord: boolean;
  certificate: CertificateInfo;
  entry: CertificateEntry;
  previous: CertificateEntry | undefined;
  /** The record's topic before, when the import (with allowNewTopic) changes it; else null. */
  replacedTopic: string | null;
  /** A key found in the imported file, to be stored encrypted; absent when the store already has it. */
  fileKey: PrivateKeyInfo | undefined;
  /** `none`: imported with --no-key, the key is kept by the server that made the CSR. */
  keySource: 'pending' | 'stored' | 'file' | 'none';
  warnings: string[];
}

function pickCertificate(decoded: DecodedFile, source: string): CertificateInfo {
  const withTopic = decoded.certificates.filter((c) => c.topic !== null);
  if (withTopic.length === 0) {
    const subject = decoded.certificates[0]?.subject.map((a) => `${a.type}=${a.value}`).join(', ') ?? '';
    throw new NoTopic(source, subject);
  }
  const keyIds = new Set(decoded.privateKeys.map((k) => k.keyId));
  return withTopic.find((c) => keyIds.has(c.publicKeyId)) ?? withTopic[0]!;
}

/** The record whose pending renewal is keyless (Fleet's CSR) for this public key. */
function findKeylessPending(index: StoreIndex, publicKeyId: string): PushRecord | undefined {
  return recordsMentioning(index.records, publicKeyId).find((r) => r.pendingKey?.keyless?.publicKeyId === publicKeyId);
}

function findRecordWithKey(
  index: StoreIndex,
  keyId: string,
): { record: PushRecord; via: 'pending' | 'stored' } | undefined {
  const records = recordsMentioning(index.records, keyId);
  const pending = records.find((r) => r.pendingKey?.keyId === keyId);
  if (pending) return { record: pending, via: 'pending' };
  const stored = records.find((r) => r.certificates.some((c) => c.keyId === keyId));
  return stored ? { record: stored, via: 'stored' } : undefined;
}

/**
 * Decides everything about an import without touching the store: which record, which key, whether
 * the topic is the recorded one. Throws (store untouched) when the import must be refused.
 */
export function planImport(current: StoreIndex, req: ImportRequest): ImportPlan {
  const cert = pickCertificate(req.decoded, req.source);
  // Copy on write: only the records this import changes are copied, not a whole (perhaps large) index.
  const index: StoreIndex = { ...current, records: copyRecords(current.records) };
  const own = (r: PushRecord): PushRecord => (index.records[r.name] = structuredClone(r));
  const warnings: string[] = [];

  // Each scan looks only at the records whose text holds what it looks for (all of them unless read lazily).
  for (const record of recordsMentioning(index.records, cert.fingerprintSha256)) {
    if (record.certificates.some((c) => c.fingerprintSha256 === cert.fingerprintSha256)) {
      throw new AlreadyImported(req.source, record.name);
    }
  }

  const fileKeys = req.decoded.privateKeys;
  const fileKey = fileKeys.find((k) => k.keyId === cert.publicKeyId);
  if (fileKeys.length > 0 && fileKey === undefined) {
    throw new KeyMismatch(req.source);
  }

  if (req.noKey === true && fileKey !== undefined) throw new KeyWithNoKey(req.source);
  const holder = findRecordWithKey(index, cert.publicKeyId);
  if (req.noKey === true && holder !== undefined) throw new KeyWithNoKey(req.source, holder.record.name);
  let record: PushRecord | undefined;
  if (req.name !== undefined) record = recordNamed(index, req.name);
  else {
    record = holder?.record ?? findKeylessPending(index, cert.publicKeyId);
    if (record === undefined) {
      const sameTopic = recordsMentioning(index.records, JSON.stringify(cert.topic)).filter(
        (r) => r.topic === cert.topic,
      );
      if (sameTopic.length === 1) record = sameTopic[0];
    }
  }
  // A keyless renewal (Fleet made the CSR and keeps the key): the certificate must carry the CSR's public key, and
  // is kept without a key whether or not --no-key was given.
  const keyless = record?.pendingKey?.keyless;
  if (keyless !== undefined && keyless.publicKeyId !== cert.publicKeyId) {
    throw new KeyMismatch(req.source, {
      record: record!.name,
      createdAt: record!.pendingKey!.createdAt,
      fleetTarget: keyless.target,
    });
  }
  const noKey = req.noKey === true || (keyless !== undefined && fileKey === undefined && holder === undefined);
  if (req.name !== undefined && record?.pendingKey && holder === undefined && fileKey === undefined && !noKey) {
    throw new KeyMismatch(req.source, { record: req.name, createdAt: record.pendingKey.createdAt });
  }
  if (req.name === undefined && record === undefined && (fileKey !== undefined || noKey)) {
    throw new NoMatchingRecord(req.source);
  }

  if (record?.retiredAt != null) {
    throw new Retired(req.source, record.name, record.retiredAt);
  }

  let keySource: ImportPlan['keySource'];
  if (holder !== undefined) keySource = holder.via;
  else if (fileKey !== undefined) keySource = 'file';
  else if (noKey) keySource = 'none';
  else {
    throw new NoKey(req.source);
  }

  const expired = cert.notAfter.getTime() <= req.now.getTime();
  if (expired && !req.allowExpired) {
    throw new Expired(req.source, cert.notAfter);
  }
  if (cert.notBefore.getTime() > req.now.getTime()) {
    warnings.push(`the certificate is not valid before ${cert.notBefore.toISOString()}`);
  }
  if (cert.kind === 'unknown') {
    warnings.push(`topic "${cert.topic}" is neither an MDM topic (com.apple.mgmt.…) nor an app push certificate`);
  }

  const name = req.name ?? record!.name;
  const isNewRecord = record === undefined;
  const nowIso = req.now.toISOString();
  if (record === undefined) {
    record = newRecord(name, nowIso);
    index.records[name] = record;
  } else record = own(record);

  const replacedTopic = record.topic !== null && record.topic !== cert.topic ? record.topic : null;
  if (replacedTopic !== null) {
    if (!req.allowNewTopic) throw new TopicChanged(req.source, name, replacedTopic, cert.topic!);
    warnings.push(`topic changed from ${replacedTopic} to ${cert.topic}: every device must re-enroll`);
  }

  const previous = activeCertificate(record);
  if (previous !== undefined && Date.parse(previous.notAfter) >= cert.notAfter.getTime()) {
    warnings.push(
      `the new certificate expires (${cert.notAfter.toISOString()}) no later than the active one (${previous.notAfter})`,
    );
  }

  if (req.appleId !== undefined) {
    if (record.appleIdHash === null) record.appleIdHash = req.appleId.hash;
    else if (!appleIdMatches(req.appleId.plain, record.appleIdHash)) {
      warnings.push(`the Apple ID given is not the one recorded for "${name}"`);
    }
  }

  for (const r of recordsMentioning(index.records, cert.publicKeyId)) {
    if (r.pendingKey !== null && pendingPublicKeyId(r.pendingKey) === cert.publicKeyId) {
      const changed = r === record ? r : own(r);
      changed.pendingKey = null;
      changed.updatedAt = nowIso;
    }
  }
  for (const c of record.certificates) if (c.status === 'active') c.status = 'superseded';
  const entry: CertificateEntry = {
    serialNumber: cert.serialNumber,
    fingerprintSha256: cert.fingerprintSha256,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    importedAt: nowIso,
    ...(noKey ? { keyId: null, keyless: true as const } : { keyId: cert.publicKeyId }),
    status: 'active',
    file: req.certificateFile(cert.fingerprintSha256),
  };
  record.certificates.push(entry);
  record.topic = cert.topic;
  record.topicHash = cert.topicHash;
  record.updatedAt = nowIso;

  return {
    index,
    name,
    isNewRecord,
    certificate: cert,
    entry,
    previous,
    replacedTopic,
    fileKey: keySource === 'file' ? fileKey : undefined,
    keySource,
    warnings,
  };
}
