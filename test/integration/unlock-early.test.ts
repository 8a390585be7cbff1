/**
 * The built CLI's early unlock (Store.unlockEarly, src/store/store.ts: "before the lock is taken"): an import that
 * will seal the key in its file reads the wrapped master key, and so starts scrypt, before it takes the store lock
 * and parses the index, which blocks its one thread for as long as the index is big (~50 ms at 10 000 records).
 * In the bundle the unlock's awaits and the change's run in one queue of microtasks: without a turn of the event
 * loop between them (FileStore.change) the change took the lock and parsed the index first, and scrypt ran after.
 *
 * master-key.json is made a FIFO: the CLI's read of it then waits for this test to write, and while it waits the
 * test looks whether the lock is taken.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

const ca = createFakeCa();
const now = new Date();

function pushCertWithKey(dir: string, name: string): string {
  const key = newKeyPem();
  const cert = issuePushCert(ca, {
    publicKeyPem: key.publicPem,
    topic: mdmTopic(),
    notBefore: daysFrom(now, -1),
    notAfter: daysFrom(now, 300),
  });
  const file = join(dir, `${name}.pem`);
  writeFileSync(file, cert + key.privatePem, { mode: 0o600 });
  return file;
}

describe('import into a passphrase store', () => {
  it('reads the wrapped master key (and starts scrypt) before it takes the lock and parses the index', async () => {
    const dir = tempDir();
    const store = join(dir, 'store');
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'early bird' });
    const first = await runCli(['--secret-backend', 'passphrase', 'import', pushCertWithKey(dir, 'a'), '--name', 'a'], {
      env,
    });
    expect(first.stderr).toBe('');
    const masterKeyFile = join(store, 'master-key.json');
    const wrapped = readFileSync(masterKeyFile);
    rmSync(masterKeyFile);
    execFileSync('mkfifo', ['-m', '600', masterKeyFile]);

    const second = runCli(['import', pushCertWithKey(dir, 'b'), '--name', 'b'], { env });
    // resolves once the CLI has opened the FIFO to read it; its read then waits for what is written here
    const writer = await Promise.race([
      open(masterKeyFile, 'w'),
      second.then((r) => {
        throw new Error(`the CLI ended without reading master-key.json: ${r.code} ${r.stderr}`);
      }),
    ]);
    const lockTaken = existsSync(join(store, 'store.lock'));
    await writer.writeFile(wrapped);
    await writer.close();
    const result = await second;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(lockTaken, 'the lock was taken (and the index parsed) before the master key was read').toBe(false);
  });
});
