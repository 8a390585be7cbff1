import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { Terminal, tmuxAvailable } from '../helpers/tmux.js';

if (!tmuxAvailable && process.env.CI) throw new Error('tmux is required for the pseudo-terminal tests in CI');
if (!tmuxAvailable) console.warn('skipping pseudo-terminal tests: tmux is not installed (apt-get install tmux)');

let term: Terminal | undefined;
afterEach(() => term?.close());

describe.skipIf(!tmuxAvailable)('passphrase prompt in a real terminal', () => {
  it('asks twice for a new store, then once to unlock; a wrong one is refused with 77', async () => {
    const store = tempDir();
    const work = tempDir(); // the CSR goes outside the store, which refuses output files inside itself
    const env = cleanEnv({ APNS_CERT_STORE: store, TERM: 'xterm' });
    term = new Terminal(
      `${process.execPath} ${BIN} --secret-backend passphrase csr --name acme --out acme.csr`,
      env,
      work,
    );
    await term.waitFor(/Store passphrase:/);
    term.type('s3cret pass');
    term.press('Enter');
    await term.waitFor(/Repeat the passphrase:/);
    expect(term.screen()).not.toContain('s3cret');
    term.type('s3cret pass');
    term.press('Enter');
    expect(await term.exitCode()).toBe(0);
    expect(existsSync(join(work, 'acme.csr'))).toBe(true);
    expect(JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')).secretBackend).toBe('passphrase');
    term.close();

    term = new Terminal(`${process.execPath} ${BIN} csr --name other --out other.csr`, env, work);
    await term.waitFor(/Store passphrase:/);
    term.type('not it');
    term.press('Enter');
    expect(await term.exitCode()).toBe(77);
    expect(term.screen()).toMatch(/wrong passphrase/);
  });

  it('Ctrl-C at the prompt cancels with 130 and leaves no store behind', async () => {
    const store = join(tempDir(), 'store');
    const env = cleanEnv({ APNS_CERT_STORE: store, TERM: 'xterm' });
    term = new Terminal(
      `${process.execPath} ${BIN} --secret-backend passphrase csr --name acme --out acme.csr`,
      env,
      tempDir(),
    );
    await term.waitFor(/Store passphrase:/);
    term.press('C-c');
    expect(await term.exitCode()).toBe(130);
    expect(existsSync(join(store, 'index.json'))).toBe(false);
  });
});
