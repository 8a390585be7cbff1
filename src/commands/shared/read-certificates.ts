import { AppError } from '../../errors.js';
import { WrongPassword } from '../../core/errors.js';
import { decodeCertificateFile, isPkcs12 } from '../../core/input.js';
import { secretSource } from '../../secrets/source.js';
import type { SecretSource } from '../../secrets/source.js';
import type { DecodedFile } from '../../core/input.js';
import type { Deps } from '../kit.js';

export interface ReadOptions {
  /** --password-file for a .p12 */
  passwordFile?: string | undefined;
}

/**
 * Reads a certificate file by content: PEM, DER or PKCS#12. A .p12's password comes from --password-file,
 * else $APNS_CERT_P12_PASSWORD, else the empty password, else a prompt on a terminal.
 */
export async function readCertificates(path: string, deps: Deps, opts: ReadOptions = {}): Promise<DecodedFile> {
  return decodeCertificates(await deps.readInput(path), path, deps, opts);
}

/** The same, for bytes already read (a caller that first looked at what the file is). */
export async function decodeCertificates(
  bytes: Buffer,
  path: string,
  deps: Deps,
  opts: ReadOptions = {},
): Promise<DecodedFile> {
  if (!isPkcs12(bytes)) return decodeCertificateFile(bytes, path);
  const { decodePkcs12 } = await import('../../core/pkcs12.js');
  const source = p12PasswordSource(opts.passwordFile, deps);
  const ask = { message: `Password of ${path}:` };
  if (source.given) return decodePkcs12(bytes, (await source.read(ask))!, path);
  try {
    return decodePkcs12(bytes, '', path);
  } catch (error) {
    if (!(error instanceof WrongPassword)) throw error;
  }
  const typed = await source.read(ask);
  if (typed === null) {
    throw new AppError('USAGE', `open ${path}: the .p12 needs its password and there is no terminal to ask`, {
      hint: `APNS_CERT_P12_PASSWORD=... apns-cert <command> ${path}   # or --password-file <file>`,
    });
  }
  return decodePkcs12(bytes, typed, path);
}

/** A .p12's password: --password-file, else $APNS_CERT_P12_PASSWORD, else a prompt on a terminal. */
export function p12PasswordSource(passwordFile: string | undefined, deps: Deps): SecretSource {
  return secretSource({
    file: passwordFile,
    flag: '--password-file',
    env: deps.settings.p12Password,
    interactive: deps.interactive,
    prompt: (message) => deps.prompter.password(message),
  });
}
