import type { KdfUpgrade, MasterKeyVault } from '../store/vault.js';

/** The OS keychain as a cache of master keys (src/secrets/keychain.ts KeychainVault). */
export interface KeyCache {
  find(storeId: string): Promise<Buffer | null>;
  save(storeId: string, masterKey: Buffer): Promise<void>;
}

/**
 * A shared store's master key (wrapped by the team passphrase in the store, `inner`), cached per admin in the OS
 * keychain: an unlock tries the keychain first; with `remember`, a key unwrapped by the passphrase is kept there
 * (keyed by the store id) for the next time. The keychain never silently stands in for the passphrase: a
 * keychain that fails is said (`warn`), and the passphrase is asked for. The database never holds the key in clear.
 */
export class RememberedVault implements MasterKeyVault {
  readonly backend = 'passphrase' as const;
  constructor(
    private readonly inner: MasterKeyVault,
    private readonly cache: () => Promise<KeyCache>,
    private readonly remember: boolean,
    private readonly warn: (line: string) => void,
  ) {}

  async load(storeId: string): Promise<Buffer> {
    let cache: KeyCache | undefined;
    try {
      cache = await this.cache();
      const cached = await cache.find(storeId);
      if (cached !== null) return cached;
    } catch (error) {
      this.warn(`the OS keychain could not be read (${(error as Error).message}); asking for the store passphrase`);
      cache = undefined;
    }
    const key = await this.inner.load(storeId);
    if (this.remember && cache !== undefined) {
      try {
        await cache.save(storeId, key);
        this.warn('the master key of this store is now remembered in your OS keychain');
      } catch (error) {
        this.warn(`the master key could not be remembered in the OS keychain: ${(error as Error).message}`);
      }
    }
    return key;
  }

  async save(storeId: string, masterKey: Buffer): Promise<void> {
    await this.inner.save(storeId, masterKey);
    if (!this.remember) return;
    try {
      await (await this.cache()).save(storeId, masterKey);
    } catch (error) {
      this.warn(`the master key could not be remembered in the OS keychain: ${(error as Error).message}`);
    }
  }

  upgrade(): Promise<KdfUpgrade | null> {
    return this.inner.upgrade();
  }
}
