/** The package version: scripts/bundle.js writes it into the bundle from package.json (esbuild define). */
declare const APNS_CERT_VERSION: string;

export const VERSION: string = APNS_CERT_VERSION;
