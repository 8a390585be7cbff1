import { AppError } from '../../errors.js';
import type { CertificateInfo } from '../../core/certificate.js';
import { CoreError } from '../../core/errors.js';
import { decodeCertificateFile, isPkcs12 } from '../../core/input.js';
import type { Deps } from '../kit.js';

/** The certificate a file holds (PEM, DER or a .p12, by its content), or why it cannot be read. */
export async function certificateIn(
  path: string,
  password: string | undefined,
  deps: Deps,
): Promise<{ cert: CertificateInfo; keyId: string | undefined } | { cause: string }> {
  try {
    const bytes = await deps.readInput(path);
    const decoded = isPkcs12(bytes)
      ? (await import('../../core/pkcs12.js')).decodePkcs12(bytes, password ?? '', path)
      : decodeCertificateFile(bytes, path);
    const cert = decoded.certificates.find((c) => c.topic !== null) ?? decoded.certificates[0]!;
    return { cert, keyId: decoded.privateKeys[0]?.keyId };
  } catch (error) {
    if (error instanceof AppError || error instanceof CoreError) return { cause: error.message };
    throw error;
  }
}
