import { join, resolve } from 'node:path';

/** `--store` > `APNS_CERT_STORE` > the platform data directory. */
export async function resolveStoreDir(flag: string | undefined, env: NodeJS.ProcessEnv, platform = process.platform): Promise<string> {
  if (flag !== undefined && flag !== '') return resolve(flag);
  if (env.APNS_CERT_STORE !== undefined && env.APNS_CERT_STORE !== '') return resolve(env.APNS_CERT_STORE);
  if (platform === 'win32') {
    const { homedir } = await import('node:os');
    return join(env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'), 'apns-cert');
  }
  const { default: envPaths } = await import('env-paths');
  return envPaths('apns-cert', { suffix: '' }).data;
}
