import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveStoreDir } from '../../src/store/location.js';

describe('store location', () => {
  it('prefers --store, then APNS_CERT_STORE, then the platform data directory', () => {
    expect(resolveStoreDir('rel/store', { APNS_CERT_STORE: '/env' })).toBe(resolve('rel/store'));
    expect(resolveStoreDir(undefined, { APNS_CERT_STORE: '/env' })).toBe('/env');
    expect(resolveStoreDir(undefined, { LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32')).toBe(
      join('C:\\Users\\a\\AppData\\Local', 'apns-cert'),
    );
  });
  it('uses $XDG_DATA_HOME/apns-cert, else ~/.local/share/apns-cert on Linux (no -nodejs suffix)', () => {
    expect(resolveStoreDir(undefined, {}, 'linux')).toBe(join(homedir(), '.local/share/apns-cert'));
    expect(resolveStoreDir(undefined, { XDG_DATA_HOME: '/data' }, 'linux')).toBe('/data/apns-cert');
  });
  it('uses ~/Library/Application Support/apns-cert on macOS', () => {
    expect(resolveStoreDir(undefined, { XDG_DATA_HOME: '/data' }, 'darwin')).toBe(
      join(homedir(), 'Library/Application Support/apns-cert'),
    );
  });
});
