import { AppError } from '../errors.js';
import type { MasterKeyVault } from './vault.js';

export const KEYCHAIN_SERVICE = 'apns-cert';

const unavailable = (cause: string) =>
  new AppError('SECRETS_UNAVAILABLE', `reach the OS keychain: ${cause}`, {
    hint: 'APNS_CERT_PASSPHRASE=... apns-cert --secret-backend passphrase <command>   # headless machines: a new store with the passphrase backend',
    details: process.platform === 'linux' ? ['On Linux the keychain is the Secret Service (gnome-keyring, KeePassXC...) on the D-Bus session bus; it must be running and unlocked.'] : [],
  });

/** Rejects with exit 69 when `work` has not settled within `ms`. */
export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`the keychain did not answer within ${Math.round(ms / 100) / 10} s (is the Secret Service hung or locked?)`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/^Platform failure: /, '');
  if (/Did not receive a reply/i.test(message)) return 'the Secret Service did not answer (is it hung or waiting for an unlock prompt?)';
  return message;
}

/**
 * The OS keychain via @napi-rs/keyring (service "apns-cert", account "store-<id>").
 * On Linux the entry is pinned to the Secret Service: no silent fallback to the kernel keyring.
 * Every call gives up after `timeoutMs` (a hung Secret Service must not hang the CLI).
 */
export class KeychainVault implements MasterKeyVault {
  readonly backend = 'keychain' as const;
  constructor(private readonly timeoutMs: number) {}

  private async entry(storeId: string) {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    try {
      return new AsyncEntry(KEYCHAIN_SERVICE, `store-${storeId}`, { linux: { store: 'secret-service' } });
    } catch (error) {
      throw unavailable(describe(error));
    }
  }

  async load(storeId: string): Promise<Buffer> {
    const run = async () => {
      const entry = await this.entry(storeId);
      let secret: number[] | null;
      try {
        secret = await entry.getSecret();
      } catch (error) {
        throw unavailable(describe(error));
      }
      if (secret === null) {
        throw new AppError('SECRETS_UNAVAILABLE', `read the master key of this store: the keychain has no entry "${KEYCHAIN_SERVICE}" / "store-${storeId}"`, {
          hint: 'use the keychain of the account that created the store',
        });
      }
      return Buffer.from(secret);
    };
    return withTimeout(run(), this.timeoutMs);
  }

  async save(storeId: string, masterKey: Buffer): Promise<void> {
    const run = async () => {
      const entry = await this.entry(storeId);
      try {
        await entry.setSecret(masterKey);
      } catch (error) {
        throw unavailable(describe(error));
      }
    };
    return withTimeout(run(), this.timeoutMs);
  }
}
