import { planImport } from '../../core/import-plan.js';
import type { ImportPlan } from '../../core/import-plan.js';
import { droppedExchangeKeys } from '../../core/exchange-keys.js';
import type { DecodedFile } from '../../core/input.js';
import { hashAppleId } from '../../core/topic.js';
import type { Deps } from '../kit.js';
import { applyCustody } from './custody.js';
import type { CustodyChange } from './custody.js';

export interface ImportCertificateRequest {
  decoded: DecodedFile;
  source: string;
  name: string | undefined;
  appleId: string | undefined;
  allowNewTopic: boolean;
  allowExpired: boolean;
  noKey?: boolean | undefined;
  /** Owner, note and a remembered Apple ID to keep with the record (absent: as recorded). */
  custody?: CustodyChange | undefined;
}

/**
 * Plans the import under the store lock and, only when the plan holds, writes the key found in the file
 * (if any), the certificate and, last, the index. A refused import writes nothing, and neither does one whose
 * commit fails (a full disk, a lost lock): nothing of a change stays unless it commits (Store.change).
 */
export async function importCertificate(req: ImportCertificateRequest, deps: Deps): Promise<ImportPlan> {
  const now = deps.now();
  const appleId = req.appleId === undefined ? undefined : { plain: req.appleId, hash: hashAppleId(req.appleId) };
  const offered = req.decoded.certificates.find((c) => c.topic !== null);
  if (offered !== undefined) deps.audit.note({ serialNumber: offered.serialNumber, topic: offered.topic ?? undefined });
  if (await willSealFileKey(req, now, deps)) deps.store.unlockEarly();
  return deps.store.change(async (tx) => {
    const plan = planImport(tx.index, {
      decoded: req.decoded,
      source: req.source,
      name: req.name,
      appleId,
      allowNewTopic: req.allowNewTopic,
      allowExpired: req.allowExpired,
      noKey: req.noKey,
      now,
      certificateFile: tx.certificateFile,
    });
    deps.audit.note({
      record: plan.name,
      serialNumber: plan.entry.serialNumber,
      topic: plan.certificate.topic ?? undefined,
    });
    const replacedAppleId =
      req.custody === undefined ? null : await applyCustody(tx, plan.index.records[plan.name]!, req.custody);
    if (plan.fileKey !== undefined) await tx.putPrivateKey(plan.fileKey);
    await tx.putCertificate(plan.entry, plan.certificate.pem);
    await tx.commit(plan.index);
    for (const keyId of droppedExchangeKeys(tx.index, plan.index)) await tx.removePrivateKey(keyId);
    if (replacedAppleId !== null) await tx.removeSecret(replacedAppleId);
    return plan;
  });
}

/**
 * Whether the import will seal the key the file holds, as far as can be told before the lock: the file has the key
 * of a certificate with a topic, valid now (or --allow-expired), not --no-key, and the store says it holds no such
 * key yet (a store that cannot tell: no). Then the master key is opened now (scrypt, the keychain) while the lock
 * is taken and the index read, not after; an import that needs no key never asks for a passphrase. (One the
 * index then refuses, a topic of another record say, may have asked for it, as csr does.)
 */
async function willSealFileKey(req: ImportCertificateRequest, now: Date, deps: Deps): Promise<boolean> {
  if (req.noKey === true) return false;
  const keyIds = new Set(req.decoded.privateKeys.map((k) => k.keyId));
  const cert = req.decoded.certificates.find((c) => c.topic !== null && keyIds.has(c.publicKeyId));
  if (cert === undefined || cert.notBefore.getTime() > now.getTime()) return false;
  if (cert.notAfter.getTime() <= now.getTime() && !req.allowExpired) return false;
  return !(await deps.store.holdsPrivateKey(cert.publicKeyId));
}
