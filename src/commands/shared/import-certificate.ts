import { randomUUID } from 'node:crypto';
import { emptyIndex } from '../../core/index-model.js';
import { planImport } from '../../core/import-plan.js';
import type { ImportPlan } from '../../core/import-plan.js';
import type { DecodedFile } from '../../core/input.js';
import { hashAppleId } from '../../core/topic.js';
import { savePrivateKey, unlockOrCreateStore } from '../../store/private-keys.js';
import type { Deps } from '../kit.js';

export interface ImportCertificateRequest {
  decoded: DecodedFile;
  source: string;
  name: string | undefined;
  appleId: string | undefined;
  allowNewTopic: boolean;
  allowExpired: boolean;
}

/**
 * Plans the import under the store lock and, only when the plan holds, writes the key found in the file
 * (if any), the certificate and, last, the index. A refused import writes nothing, and neither does one whose
 * commit fails (a full disk, a lost lock): the store removes the files it created (FileStore.withLock).
 */
export async function importCertificate(req: ImportCertificateRequest, deps: Deps): Promise<ImportPlan> {
  const now = deps.now();
  const appleId = req.appleId === undefined ? undefined : { plain: req.appleId, hash: hashAppleId(req.appleId) };
  return deps.store.withLock(async () => {
    const existing = await deps.store.readIndex();
    const base = existing ?? emptyIndex(randomUUID(), deps.backendForNewStore, now);
    const plan = planImport(base, {
      decoded: req.decoded,
      source: req.source,
      name: req.name,
      appleId,
      allowNewTopic: req.allowNewTopic,
      allowExpired: req.allowExpired,
      now,
    });
    if (plan.fileKey !== undefined) {
      const unlocked = await unlockOrCreateStore(deps.store, deps.vaults, base.secretBackend, now);
      // A new store's master key is kept under the id unlockOrCreateStore gave it.
      plan.index.storeId = unlocked.index.storeId;
      await savePrivateKey(deps.store, unlocked.masterKey, plan.fileKey);
    }
    await deps.store.writeFile(plan.entry.file, plan.certificate.pem);
    await deps.store.writeIndex(plan.index);
    return plan;
  });
}
