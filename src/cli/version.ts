import { readFileSync } from 'node:fs';

/** The package version, from the nearest package.json named apns-cert above this file (dist/ or dist/bundle/). */
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

export const VERSION: string = findVersion();
