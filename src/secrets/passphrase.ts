import { AppError } from '../errors.js';
import { isCurrentWrap, parseWrappedMasterKey, unwrapMasterKey, wrapMasterKey } from '../core/sealed.js';
import { rejectReplacementCharacter } from '../core/utf8.js';
import { secretSource } from './source.js';
import type { KdfUpgrade, MasterKeyVault, PassphraseSource, VaultDocument } from '../store/vault.js';

/** The master key wrapped under a passphrase (scrypt), in a document the store keeps (file store: master-key.json). */
export class PassphraseVault implements MasterKeyVault {
  readonly backend = 'passphrase' as const;
  constructor(
    private readonly document: VaultDocument,
    private readonly passphrase: PassphraseSource,
  ) {}

  private async read() {
    const path = this.document.location;
    return { path, wrapped: parseWrappedMasterKey(await this.document.read(), path) };
  }

  async load(): Promise<Buffer> {
    const { path, wrapped } = await this.read();
    return unwrapMasterKey(wrapped, await this.passphrase.get(false), path);
  }

  /** Re-wraps the master key (same passphrase) with today's scrypt parameters and a check value; call under the store lock. */
  async upgrade(): Promise<KdfUpgrade> {
    const { path, wrapped } = await this.read();
    const from = { N: wrapped.kdf.N, r: wrapped.kdf.r, p: wrapped.kdf.p, check: wrapped.check !== undefined };
    if (isCurrentWrap(wrapped)) return { from, to: from, changed: false };
    const passphrase = await this.passphrase.get(false);
    const rewrapped = await wrapMasterKey(await unwrapMasterKey(wrapped, passphrase, path), passphrase);
    await this.document.write(`${JSON.stringify(rewrapped, null, 2)}\n`);
    return { from, to: { N: rewrapped.kdf.N, r: rewrapped.kdf.r, p: rewrapped.kdf.p, check: true }, changed: true };
  }

  async save(_storeId: string, masterKey: Buffer): Promise<void> {
    const wrapped = await wrapMasterKey(masterKey, await this.passphrase.get(true));
    await this.document.write(`${JSON.stringify(wrapped, null, 2)}\n`);
  }
}

const noPassphrase = () =>
  new AppError(
    'SECRETS_UNAVAILABLE',
    'unlock the store: the passphrase backend needs a passphrase and there is no terminal to ask for one',
    {
      hint: 'APNS_CERT_PASSPHRASE=... apns-cert <command>   # or --passphrase-file <file>',
    },
  );

export interface PassphraseOptions {
  file: string | undefined;
  /** $APNS_CERT_PASSPHRASE (empty: not set) */
  env: string | undefined;
  interactive: boolean;
  prompt: (message: string) => Promise<string>;
}

const differ = () =>
  new AppError('USAGE', 'set the store passphrase: the two entries differ', { hint: 'run the command again' });

/** `--passphrase-file` > `APNS_CERT_PASSPHRASE` > a prompt on a terminal. */
export function passphraseSource(opts: PassphraseOptions): PassphraseSource {
  let cached: string | undefined;
  const source = secretSource({ ...opts, flag: '--passphrase-file' });
  return {
    given: source.given,
    async get(confirm: boolean): Promise<string> {
      if (cached !== undefined) return cached;
      const value = await source.read({
        message: 'Store passphrase:',
        ...(confirm ? { repeat: { message: 'Repeat the passphrase:', differ } } : {}),
      });
      if (value === null) throw noPassphrase();
      rejectReplacementCharacter(value, 'the passphrase');
      if (value === '')
        throw new AppError('USAGE', 'read the passphrase: it is empty', {
          hint: 'APNS_CERT_PASSPHRASE=... apns-cert <command>',
        });
      cached = value;
      return value;
    },
  };
}
