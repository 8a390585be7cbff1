import { AppError } from '../../errors.js';

/** Why a keyless record (imported with --no-key) cannot do what needs its private key: exit 65. */
export function keylessRefusal(action: string, name: string): AppError {
  return new AppError(
    'NO_KEY',
    `${action}: its private key is kept by the server that made its CSR (imported with --no-key), not by this store`,
    { hint: `apns-cert export ${name} --pem ${name}.pem --cert-only   # the certificate alone` },
  );
}
