/**
 * Iteration counts of the .p12 files apns-cert writes (here, apart from pkcs12.ts, so that parsing options
 * does not load node-forge). Default: OWASP's PBKDF2-HMAC-SHA256 guidance (600 000); the MAC uses the same
 * count, as `openssl pkcs12 -export -iter` does, else the MAC would be the cheap way to test a password.
 * --legacy: OpenSSL's -legacy default (2048), as the old importers it is for expect.
 */
export const P12_ITERATIONS = 600_000;
export const LEGACY_P12_ITERATIONS = 2048;
export const MIN_P12_ITERATIONS = 1000;
/** The most that our own import still opens within its work limit (MAX_P12_WORK in pkcs12.ts). */
export const MAX_P12_ITERATIONS = 1_000_000;
export const MAX_LEGACY_P12_ITERATIONS = 500_000;
