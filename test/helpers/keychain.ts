/**
 * Whether the real Secret Service is here (scripts/with-secret-service.sh sets APNS_CERT_SECRET_SERVICE=1).
 * CI sets APNS_CERT_REQUIRE_KEYCHAIN=1: there the keychain tests fail instead of skipping.
 */
export const keychainAvailable = process.env.APNS_CERT_SECRET_SERVICE === '1' && process.env.DBUS_SESSION_BUS_ADDRESS !== undefined;
export const keychainRequired = process.env.APNS_CERT_REQUIRE_KEYCHAIN === '1';

export function keychainSkipReason(): string | undefined {
  if (keychainAvailable) return undefined;
  if (keychainRequired) throw new Error('APNS_CERT_REQUIRE_KEYCHAIN=1 but no Secret Service: run the tests through scripts/with-secret-service.sh');
  return 'no Secret Service in this session: run `scripts/with-secret-service.sh npm test` to include the keychain tests';
}
