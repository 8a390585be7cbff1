import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { isPostgresUrl } from './postgres/url.js';

/**
 * `--store` > `APNS_CERT_STORE` > the platform's data directory: ~/Library/Application Support/apns-cert on
 * macOS, $XDG_DATA_HOME/apns-cert (else ~/.local/share/apns-cert) elsewhere, %LOCALAPPDATA%\apns-cert on Windows.
 */
export function resolveStoreDir(
  flag: string | undefined,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): string {
  if (flag !== undefined && flag !== '') return resolve(flag);
  if (env.APNS_CERT_STORE !== undefined && env.APNS_CERT_STORE !== '') return resolve(env.APNS_CERT_STORE);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'apns-cert');
  if (platform === 'win32') return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), 'apns-cert');
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'apns-cert');
}

/** The PostgreSQL URL `--store` or `APNS_CERT_STORE` names (that one, as resolveStoreDir chooses), else undefined: a directory. */
export function postgresStoreUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const chosen = flag !== undefined && flag !== '' ? flag : env.APNS_CERT_STORE;
  return chosen !== undefined && isPostgresUrl(chosen) ? chosen : undefined;
}
