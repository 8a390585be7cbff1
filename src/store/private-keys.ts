import { randomBytes, randomUUID } from 'node:crypto';
import { emptyIndex } from '../core/index-model.js';
import type { SecretBackendName, StoreIndex } from '../core/index-model.js';
import { privateKeyFromPkcs8 } from '../core/keys.js';
import type { PrivateKeyInfo } from '../core/keys.js';
import { openPrivateKey, parseSealedBox, sealPrivateKey } from '../core/sealed.js';
import type { MasterKeyVault } from '../secrets/vault.js';
import type { FileStore } from './file-store.js';
import { keyPath } from './paths.js';

export { keyPath };

export type VaultFactory = (backend: SecretBackendName) => MasterKeyVault;

/**
 * Under the store lock: the index and master key of the store, creating both (with the chosen
 * backend) when the store is new. The new index is written only by the caller's final writeIndex.
 */
export async function unlockOrCreateStore(
  store: FileStore,
  vaults: VaultFactory,
  backendForNewStore: SecretBackendName,
  now: Date,
  early?: Promise<UnlockedKey | null>,
): Promise<{ index: StoreIndex; masterKey: Buffer; created: boolean }> {
  const existing = await store.readIndex();
  if (existing !== null) {
    const unlocked = await early;
    const masterKey =
      unlocked?.storeId === existing.storeId
        ? unlocked.masterKey
        : await vaults(existing.secretBackend).load(existing.storeId);
    return { index: existing, masterKey, created: false };
  }
  const index = emptyIndex(randomUUID(), backendForNewStore, now);
  const masterKey = randomBytes(32);
  await vaults(backendForNewStore).save(index.storeId, masterKey);
  return { index, masterKey, created: true };
}

export interface UnlockedKey {
  storeId: string;
  masterKey: Buffer;
}

/**
 * Starts unlocking an existing store before its lock is taken (the master key never changes once made),
 * so that scrypt or the keychain can run while other work goes on. Errors surface when awaited.
 */
export function unlockEarly(store: FileStore, vaults: VaultFactory): Promise<UnlockedKey | null> {
  const unlocking = (async () => {
    const index = await store.readIndex();
    return index === null
      ? null
      : { storeId: index.storeId, masterKey: await vaults(index.secretBackend).load(index.storeId) };
  })();
  unlocking.catch(() => undefined);
  return unlocking;
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
