import { resolve } from 'node:path';
import { AppError } from '../../errors.js';
import type { CsrSubject } from '../../core/csr.js';
import { activeCertificate, newRecord } from '../../core/index-model.js';
import type { PendingKey, PushRecord } from '../../core/index-model.js';
import { generateRsaKeyAsync } from '../../core/keys.js';
import { appleIdMatches, hashAppleId } from '../../core/topic.js';
import { rejectReplacementCharacter } from '../../core/utf8.js';
import { assertCanCreate, writeOutputFile } from '../../store/files.js';
import { keyPath, loadPrivateKey, savePrivateKey, unlockEarly, unlockOrCreateStore } from '../../store/private-keys.js';
import type { Deps } from '../kit.js';

export interface MakeCsrRequest {
  name: string;
  subject: CsrSubject;
  outPath: string;
  /** The option that names outPath, for messages (--out, --csr-out). */
  outFlag: string;
  force: boolean;
  appleId: string | undefined;
  /** Sign the CSR with the active certificate's key instead of a new one. */
  reuseKey: boolean;
}

export interface MakeCsrResult {
  /** The record as it was before (undefined for a new name). */
  before: PushRecord | undefined;
  csrPath: string;
  keyId: string;
  replaced: PendingKey | null;
  /** null when no Apple ID was given or none was recorded. */
  appleIdMatches: boolean | null;
}

/**
 * Makes the record's pending key (new RSA-2048, or the active one with reuseKey) and writes its CSR.
 * Key file, CSR file and index change together under the store lock; on failure nothing is left behind.
 */
export async function makeCsr(req: MakeCsrRequest, deps: Deps): Promise<MakeCsrResult> {
  if (req.appleId !== undefined) rejectReplacementCharacter(req.appleId, 'the Apple ID');
  await assertCanCreate(req.outPath, { force: req.force, flag: req.outFlag });
  // Three things overlap: the key is generated on the thread pool, forge loads on the main thread,
  // and the store is unlocked (scrypt, thread pool) under the lock.
  const fresh = req.reuseKey ? undefined : generateRsaKeyAsync();
  fresh?.catch(() => undefined);
  const early = unlockEarly(deps.store, deps.vaults);
  const csrModule = import('../../core/csr.js');
  const now = deps.now();
  const nowIso = now.toISOString();
  const csrPath = resolve(req.outPath);

  return deps.store.withLock(async () => {
    const { index, masterKey } = await unlockOrCreateStore(deps.store, deps.vaults, deps.backendForNewStore, now, early);
    const before = index.records[req.name];
    if (before?.retiredAt != null) {
      throw new AppError('USAGE', `make a CSR for "${req.name}": it was retired on ${before.retiredAt}`, {
        hint: `apns-cert retire ${req.name} --purge --yes   # or choose another --name`,
      });
    }
    const record: PushRecord = before ? structuredClone(before) : newRecord(req.name, nowIso);
    let key = await fresh;
    if (key === undefined) {
      const active = activeCertificate(record);
      if (active === undefined) {
        throw new AppError('USAGE', `reuse the key of "${req.name}": it has no active certificate`, { hint: `apns-cert renew ${req.name}   # without --reuse-key` });
      }
      key = await loadPrivateKey(deps.store, masterKey, active.keyId);
    }
    const replaced = record.pendingKey;
    let matches: boolean | null = null;
    if (req.appleId !== undefined) {
      if (record.appleIdHash === null) record.appleIdHash = hashAppleId(req.appleId);
      else matches = appleIdMatches(req.appleId, record.appleIdHash);
    }
    record.pendingKey = { keyId: key.keyId, createdAt: nowIso, csrPath };
    record.updatedAt = nowIso;
    index.records[req.name] = record;

    const isNewKeyFile = fresh !== undefined;
    if (isNewKeyFile) await savePrivateKey(deps.store, masterKey, key);
    try {
      const { buildCsr } = await csrModule;
      await writeOutputFile(req.outPath, buildCsr(key, req.subject).pem, { force: req.force, flag: req.outFlag });
    } catch (error) {
      if (isNewKeyFile) await deps.store.removeFile(keyPath(key.keyId));
      throw error;
    }
    await deps.store.writeIndex(index);
    if (replaced !== null && replaced.keyId !== key.keyId && !record.certificates.some((c) => c.keyId === replaced.keyId)) {
      await deps.store.removeFile(keyPath(replaced.keyId));
    }
    return { before, csrPath, keyId: key.keyId, replaced, appleIdMatches: matches };
  });
}
