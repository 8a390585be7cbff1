import type { SecretBackendName } from '../core/index-model.js';

/** Holds a store's 32-byte master key, which encrypts every secret in the store (src/store/store.ts). */
export interface MasterKeyVault {
  readonly backend: SecretBackendName;
  /** The master key of an existing store. */
  load(storeId: string): Promise<Buffer>;
  /** Keeps the master key of a new store; the store calls it under its lock, once. */
  save(storeId: string, masterKey: Buffer): Promise<void>;
  /** Re-wraps the stored master key with today's key derivation (under the store lock); null for a backend that derives none (keychain). */
  upgrade(): Promise<KdfUpgrade | null>;
}

/**
 * A small document the store keeps for a vault (the passphrase backend's wrapped master key): the backend decides
 * where it lives; `write` replaces it atomically and only under the store lock, as part of the change under way.
 */
export interface VaultDocument {
  /** Where it is, for messages (a file path). */
  readonly location: string;
  read(): Promise<string>;
  write(text: string): Promise<void>;
}

/** The vault of a backend, for a store; `document` is where that store keeps what the vault writes. */
export type VaultFactory = (backend: SecretBackendName, document: VaultDocument) => MasterKeyVault;

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
