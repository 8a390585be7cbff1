import type { SecretBackendName } from '../core/index-model.js';

/** Holds a store's 32-byte master key, which encrypts every private key in the store. */
export interface MasterKeyVault {
  readonly backend: SecretBackendName;
  /** The master key of an existing store. */
  load(storeId: string): Promise<Buffer>;
  /** Keeps the master key of a new store. */
  save(storeId: string, masterKey: Buffer): Promise<void>;
}

/** Where a passphrase comes from: env, a file, or a prompt. */
export interface PassphraseSource {
  /** `confirm` asks twice (a new store); the result is never empty. */
  get(confirm: boolean): Promise<string>;
  /** True when a passphrase was given without prompting (env or file). */
  readonly given: boolean;
}
