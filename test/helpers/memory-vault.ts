import { AppError } from '../../src/errors.js';
import type { SecretBackendName } from '../../src/core/index-model.js';
import type { MasterKeyVault } from '../../src/store/vault.js';

/** In-memory vault for in-process tests; it stands for the backend it is given (what the index records). */
export class MemoryVault implements MasterKeyVault {
  readonly keys = new Map<string, Buffer>();
  /** Store ids in the order `save` was called for them. */
  readonly saved: string[] = [];

  constructor(readonly backend: SecretBackendName = 'keychain') {}

  async load(storeId: string): Promise<Buffer> {
    const key = this.keys.get(storeId);
    if (key === undefined)
      throw new AppError('SECRETS_UNAVAILABLE', `read the master key of store ${storeId}: not in the memory vault`);
    return key;
  }

  async save(storeId: string, masterKey: Buffer): Promise<void> {
    this.saved.push(storeId);
    this.keys.set(storeId, Buffer.from(masterKey));
  }

  async upgrade(): Promise<null> {
    return null;
  }
}
