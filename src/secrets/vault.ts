import type { SecretBackendName } from '../core/index-model.js';

/** Holds a store's 32-byte master key, which encrypts every private key in the store. */
export interface MasterKeyVault {
  readonly backend: SecretBackendName;
  /** The master key of an existing store. */
  load(storeId: string): Promise<Buffer>;
  /** Keeps the master key of a new store. */
  save(storeId: string, masterKey: Buffer): Promise<void>;
  /** Re-wraps the stored master key with today's key derivation; null (or absent) for a backend that derives none (keychain). */
  upgrade?(): Promise<KdfUpgrade | null>;
}

/** What `store upgrade` did: scrypt parameters and check value before and after. */
export interface KdfUpgrade {
  from: { N: number; r: number; p: number; check: boolean };
  to: { N: number; r: number; p: number; check: boolean };
  changed: boolean;
}

/** Where a passphrase comes from: env, a file, or a prompt. */
export interface PassphraseSource {
  /** `confirm` asks twice (a new store); the result is never empty. */
  get(confirm: boolean): Promise<string>;
  /** True when a passphrase was given without prompting (env or file). */
  readonly given: boolean;
}
