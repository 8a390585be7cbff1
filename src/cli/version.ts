import { readFileSync } from 'node:fs';

/** The package version, from the nearest package.json named apns-cert above this file (when the sources run as they are). */
function findVersion(): string {
  for (const up of ['../', '../../', '../../../']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${up}package.json`, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'apns-cert' && pkg.version) return pkg.version;
    } catch {
      // not here
    }
  }
  return '0.0.0-unknown';
}

/** Set by the release build (scripts/bundle.js); absent when the sources run as they are (tests). */
declare const APNS_CERT_VERSION: string | undefined;

export const VERSION: string = typeof APNS_CERT_VERSION === 'string' ? APNS_CERT_VERSION : findVersion();
