import { AppError } from '../errors.js';
import type { MasterKeyVault } from './vault.js';

/** In-memory vault for unit tests. */
export class MemoryVault implements MasterKeyVault {
  readonly backend = 'keychain' as const;
  readonly keys = new Map<string, Buffer>();

  async load(storeId: string): Promise<Buffer> {
    const key = this.keys.get(storeId);
    if (key === undefined)
      throw new AppError('SECRETS_UNAVAILABLE', `read the master key of store ${storeId}: not in the memory vault`);
    return key;
  }

  async save(storeId: string, masterKey: Buffer): Promise<void> {
    this.keys.set(storeId, Buffer.from(masterKey));
  }
}
