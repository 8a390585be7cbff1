import { mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';

describe('the store lock', () => {
  it('a writer that cannot get the lock gives up with exit 75 and a clear message', async () => {
    const store = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p', APNS_CERT_LOCK_WAIT_MS: '300' });
    mkdirSync(join(store, 'store.lock'), { recursive: true });
    const fresh = new Date();
    utimesSync(join(store, 'store.lock'), fresh, fresh);
    const r = await runCli(['csr', '--name', 'acme', '--out', join(tempDir(), 'acme.csr')], { env });
    expect(r.code).toBe(75);
    expect(r.stderr).toMatch(/another apns-cert process is changing it/);
    expect(r.stderr).toMatch(/hint: /);
  });
});
