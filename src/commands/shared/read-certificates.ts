import { AppError } from '../../errors.js';
import { WrongPassword } from '../../core/errors.js';
import { decodeCertificateFile, isPkcs12 } from '../../core/input.js';
import { readSecretFile } from '../../io/files.js';
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
  if (opts.passwordFile !== undefined)
    return decodePkcs12(bytes, readSecretFile(opts.passwordFile, '--password-file'), path);
  const fromEnv = deps.env.APNS_CERT_P12_PASSWORD;
  if (fromEnv !== undefined) return decodePkcs12(bytes, fromEnv, path);
  try {
    return decodePkcs12(bytes, '', path);
  } catch (error) {
    if (!(error instanceof WrongPassword)) throw error;
    if (!deps.interactive) {
      throw new AppError('USAGE', `open ${path}: the .p12 needs its password and there is no terminal to ask`, {
        hint: `APNS_CERT_P12_PASSWORD=... apns-cert <command> ${path}   # or --password-file <file>`,
      });
    }
  }
  return decodePkcs12(bytes, await deps.prompter.password(`Password of ${path}:`), path);
}
