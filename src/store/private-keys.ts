import { randomBytes, randomUUID } from 'node:crypto';
import { emptyIndex } from '../core/index-model.js';
import type { SecretBackendName, StoreIndex } from '../core/index-model.js';
import { privateKeyFromPkcs8 } from '../core/keys.js';
import type { PrivateKeyInfo } from '../core/keys.js';
import { openPrivateKey, parseSealedBox, sealPrivateKey } from '../core/sealed.js';
import type { MasterKeyVault } from '../secrets/vault.js';
import type { FileStore } from './file-store.js';

export type VaultFactory = (backend: SecretBackendName) => MasterKeyVault;

export function keyPath(keyId: string): string {
  return `keys/${keyId}.key`;
}

/**
 * Under the store lock: the index and master key of the store, creating both (with the chosen
 * backend) when the store is new. The new index is written only by the caller's final writeIndex.
 */
export async function unlockOrCreateStore(
  store: FileStore,
  vaults: VaultFactory,
  backendForNewStore: SecretBackendName,
  now: Date,
): Promise<{ index: StoreIndex; masterKey: Buffer; created: boolean }> {
  const existing = await store.readIndex();
  if (existing !== null) {
    return { index: existing, masterKey: await vaults(existing.secretBackend).load(existing.storeId), created: false };
  }
  const index = emptyIndex(randomUUID(), backendForNewStore, now);
  const masterKey = randomBytes(32);
  await vaults(backendForNewStore).save(index.storeId, masterKey);
  return { index, masterKey, created: true };
}

export async function unlockStore(vaults: VaultFactory, index: StoreIndex): Promise<Buffer> {
  return vaults(index.secretBackend).load(index.storeId);
}

export async function savePrivateKey(store: FileStore, masterKey: Buffer, key: PrivateKeyInfo): Promise<void> {
  const box = sealPrivateKey(key.pkcs8, masterKey, key.keyId);
  await store.writeFile(keyPath(key.keyId), `${JSON.stringify(box)}\n`);
}

export async function loadPrivateKey(store: FileStore, masterKey: Buffer, keyId: string): Promise<PrivateKeyInfo> {
  const box = parseSealedBox(await store.readText(keyPath(keyId)), keyPath(keyId));
  return privateKeyFromPkcs8(openPrivateKey(box, masterKey, keyId));
}
