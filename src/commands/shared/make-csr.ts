import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { AppError, isAppError } from '../../errors.js';
import type { CsrSubject } from '../../core/csr.js';
import { activeCertificate, newRecord, recordNamed } from '../../core/index-model.js';
import type { KeylessPending, PendingKey, PushRecord, Signing } from '../../core/index-model.js';
import { keylessRefusal } from './keyless.js';
import { generateRsaKeyAsync } from '../../core/keys.js';
import { appleIdMatches, hashAppleId } from '../../core/topic.js';
import { rejectReplacementCharacter } from '../../core/utf8.js';
import { assertCanCreate, writeOutputFile } from '../../io/files.js';
import type { Deps } from '../kit.js';
import type { StoreChange } from '../../store/store.js';
import { applyCustody } from './custody.js';
import type { CustodyChange } from './custody.js';

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
  /** A file made from the CSR (csr --vendor-cert: the vendor-signed request), written with it. */
  companion?: { path: string; flag: string; make: (csrDer: Buffer, csrPath: string) => Promise<string> };
  /** How the record's requests are signed from now on (absent: as recorded). */
  signing?: Signing;
  /** Owner, note and a remembered Apple ID to keep with the record (absent: as recorded). */
  custody?: CustodyChange;
  /**
   * A CSR made elsewhere for a key this store never holds (Fleet's, for a keyless record): written as given, and the
   * pending entry is keyless (no key is generated or reused).
   */
  external?: { pem: string; der: Buffer; keyless: KeylessPending };
  /** Within the change, before the commit (csr: keeps a new vendor identity). */
  prepare?: (tx: StoreChange) => Promise<void>;
}

export interface MakeCsrResult {
  /** The record as it was before (undefined for a new name). */
  before: PushRecord | undefined;
  csrPath: string;
  /** The CSR as written (PEM). */
  csrPem: string;
  /** The companion file as written (absolute), or null. */
  companionPath: string | null;
  /** The pending key's id; null for an external CSR. */
  keyId: string | null;
  replaced: PendingKey | null;
  /** null when no Apple ID was given or none was recorded. */
  appleIdMatches: boolean | null;
}

/**
 * Makes the record's pending key (new RSA-2048, or the active one with reuseKey; none with an external CSR) and
 * writes its CSR.
 * All of it or nothing, under the store lock: the CSR (and companion) are made in memory, the key file is
 * written, the index committed, then the CSR and companion written; a failure before the commit removes
 * the key file, one after it reverts the commit. The replaced pending key is deleted only at the end.
 */
export async function makeCsr(req: MakeCsrRequest, deps: Deps): Promise<MakeCsrResult> {
  if (req.appleId !== undefined) rejectReplacementCharacter(req.appleId, 'the Apple ID');
  await assertCanCreate(req.outPath, { force: req.force, flag: req.outFlag, store: deps.store });
  // Three things overlap: the key is generated on the thread pool, forge loads on the main thread,
  // and the store is unlocked (scrypt, thread pool) under the lock.
  const fresh = req.reuseKey || req.external !== undefined ? undefined : generateRsaKeyAsync();
  fresh?.catch(() => undefined);
  deps.store.unlockEarly();
  const csrModule = import('../../core/csr.js');
  const now = deps.now();
  const nowIso = now.toISOString();
  const csrPath = resolve(req.outPath);

  return deps.store.change(async (tx) => {
    const { index } = tx;
    await tx.masterKey();
    const before = recordNamed(index, req.name);
    if (before?.retiredAt != null) {
      throw new AppError('USAGE', `make a CSR for "${req.name}": it was retired on ${before.retiredAt}`, {
        hint: `apns-cert retire ${req.name} --purge --yes   # or choose another --name`,
      });
    }
    const record: PushRecord = before ? structuredClone(before) : newRecord(req.name, nowIso);
    deps.audit.note({ record: req.name, topic: record.topic ?? undefined });
    let key = await fresh;
    if (key === undefined && req.external === undefined) {
      const active = activeCertificate(record);
      if (active === undefined) {
        throw new AppError('USAGE', `reuse the key of "${req.name}": it has no active certificate`, {
          hint: `apns-cert renew ${req.name}   # without --reuse-key`,
        });
      }
      if (active.keyId === null) throw keylessRefusal(`reuse the key of "${req.name}"`, req.name);
      key = await tx.privateKey(active.keyId);
    }
    const replaced = record.pendingKey;
    let matches: boolean | null = null;
    if (req.appleId !== undefined) {
      if (record.appleIdHash === null) record.appleIdHash = hashAppleId(req.appleId);
      else matches = appleIdMatches(req.appleId, record.appleIdHash);
    }
    const keyId = key?.keyId ?? null;
    record.pendingKey =
      req.external === undefined
        ? { keyId, createdAt: nowIso, csrPath }
        : { keyId: null, keyless: req.external.keyless, createdAt: nowIso, csrPath };
    record.updatedAt = nowIso;
    if (req.signing !== undefined) record.signing = req.signing;
    const replacedAppleId = req.custody === undefined ? null : await applyCustody(tx, record, req.custody);
    index.records[req.name] = record;
    await req.prepare?.(tx);

    const { buildCsr } = await csrModule;
    const built = key === undefined ? req.external! : buildCsr(key, req.subject);
    const companion =
      req.companion === undefined
        ? undefined
        : { ...req.companion, data: await req.companion.make(built.der, csrPath) };

    if (fresh !== undefined && key !== undefined) await tx.putPrivateKey(key);
    await tx.commit(index);
    const written: string[] = [];
    try {
      await writeOutputFile(req.outPath, built.pem, { force: req.force, flag: req.outFlag, store: deps.store });
      written.push(req.outPath);
      if (companion !== undefined)
        await writeOutputFile(companion.path, companion.data, {
          force: req.force,
          flag: companion.flag,
          store: deps.store,
          mode: 0o644,
        });
    } catch (error) {
      for (const path of written) rmSync(path, { force: true });
      const reverted = await tx.revertCommit().then(
        () => true,
        () => false,
      );
      if (reverted || !isAppError(error)) throw error;
      throw new AppError(error.code, error.message, {
        hint: `apns-cert csr --name ${req.name} --force   # when there is room: the new key stayed as the pending key of "${req.name}"`,
        details: [...error.details, ...(error.hint === undefined ? [] : [`first: ${error.hint}`])],
      });
    }
    if (
      replaced?.keyId != null &&
      replaced.keyId !== keyId &&
      !record.certificates.some((c) => c.keyId === replaced.keyId)
    ) {
      await tx.removePrivateKey(replaced.keyId);
    }
    if (replacedAppleId !== null) await tx.removeSecret(replacedAppleId);
    const exchangeKey = replaced?.mdmcert?.exchangeKeyId;
    if (exchangeKey !== undefined && !record.certificates.some((c) => c.keyId === exchangeKey))
      await tx.removePrivateKey(exchangeKey);
    return {
      before,
      csrPath,
      csrPem: built.pem,
      companionPath: companion === undefined ? null : resolve(companion.path),
      keyId,
      replaced,
      appleIdMatches: matches,
    };
  });
}
