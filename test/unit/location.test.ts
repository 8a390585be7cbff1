import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveStoreDir } from '../../src/store/location.js';

describe('store location', () => {
  it('prefers --store, then APNS_CERT_STORE, then the platform data directory', async () => {
    expect(await resolveStoreDir('rel/store', { APNS_CERT_STORE: '/env' })).toBe(resolve('rel/store'));
    expect(await resolveStoreDir(undefined, { APNS_CERT_STORE: '/env' })).toBe('/env');
    expect(await resolveStoreDir(undefined, { LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32')).toBe(join('C:\\Users\\a\\AppData\\Local', 'apns-cert'));
  });
  it('uses ~/.local/share/apns-cert on Linux (no -nodejs suffix)', async () => {
    const saved = process.env.XDG_DATA_HOME;
    delete process.env.XDG_DATA_HOME;
    try {
      expect(await resolveStoreDir(undefined, {}, 'linux')).toBe(join(homedir(), '.local/share/apns-cert'));
    } finally {
      if (saved !== undefined) process.env.XDG_DATA_HOME = saved;
    }
  });
});
