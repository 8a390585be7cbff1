import { describe, expect, it } from 'vitest';
import { cleanEnv, hasStackTrace, runCli, tempDir } from '../helpers/cli.js';
import { keychainSkipReason } from '../helpers/keychain.js';

describe('keychain backend failures', () => {
  it('says so, and how to use the passphrase backend, when there is no Secret Service (exit 69, no fallback)', async () => {
    const store = tempDir();
    const work = tempDir(); // the CSR goes outside the store, which refuses output files inside itself
    const env = cleanEnv({
      APNS_CERT_STORE: store,
      DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus',
      APNS_CERT_KEYCHAIN_TIMEOUT_MS: '5000',
    });
    const r = await runCli(['csr', '--name', 'acme', '--out', `${work}/acme.csr`], { env });
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/^apns-cert: reach the OS keychain: /);
    expect(r.stderr).toMatch(/hint: .*--secret-backend passphrase/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    // nothing was written: no index, no CSR
    const { existsSync } = await import('node:fs');
    expect(existsSync(`${store}/index.json`)).toBe(false);
    expect(existsSync(`${work}/acme.csr`)).toBe(false);
  });

  const skip = keychainSkipReason();
  if (skip) console.warn(`skipping the hung-keychain test: ${skip}`);
  it.skipIf(skip !== undefined)(
    'a Secret Service that takes the call and never answers: exit 69 within 10 s, not a hang',
    async () => {
      const pid = Number(process.env.APNS_CERT_TEST_KEYRING_PID);
      expect(pid).toBeGreaterThan(0);
      const store = tempDir();
      const env = cleanEnv({ APNS_CERT_STORE: store }); // the default 10 s timeout
      process.kill(pid, 'SIGSTOP'); // the daemon keeps its D-Bus name; calls to it are queued, never answered
      let r;
      try {
        // killed (code null) if it is still running after 12 s: start-up, key generation and 10 s of waiting at most
        r = await runCli(['csr', '--name', 'acme', '--out', `${tempDir()}/acme.csr`], { env, timeoutMs: 12_000 });
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      expect(r.code, r.stderr).toBe(69);
      expect(r.stderr).toMatch(/^apns-cert: reach the OS keychain: the (Secret Service|keychain) did not answer/);
    },
  );
});
