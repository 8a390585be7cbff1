/** Apple's Push Certificates Portal, where a CSR is uploaded and a push certificate renewed or revoked. */
export const PORTAL_URL = 'https://identity.apple.com/pushcert';
