/**
 * The renew wizard (built CLI in a real terminal, tmux) for a record without a key: the CSR comes from the record's
 * fleet target (the loopback fake Fleet), the portal steps are the usual ones, and the certificate a test "Apple"
 * signs for Fleet's CSR is imported keyless, with the hint to deploy it to Fleet.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem, signCsrFile } from '../helpers/fake-apple.js';
import { startFakeMdm } from '../helpers/fake-mdm-servers.js';
import type { FakeMdm } from '../helpers/fake-mdm-servers.js';
import { Terminal, tmuxAvailable } from '../helpers/tmux.js';

if (!tmuxAvailable && process.env.CI) throw new Error('tmux is required for the pseudo-terminal tests in CI');
if (!tmuxAvailable) console.warn('skipping the Fleet renew wizard terminal test: tmux is not installed');

const NOW = new Date();
const ca = createFakeCa();
let term: Terminal | undefined;
let server: FakeMdm | undefined;
afterEach(() => term?.close());
afterAll(async () => server?.close());

describe.skipIf(!tmuxAvailable)('renew wizard, record without a key (built CLI)', () => {
  it("renews with Fleet's CSR and imports the certificate without a key", async () => {
    const store = tempDir();
    const work = tempDir();
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'wizard', TERM: 'xterm', COLUMNS: '160' });
    const topic = mdmTopic();
    const fleetKey = newKeyPem();
    const firstPem = issuePushCert(ca, {
      publicKeyPem: fleetKey.publicPem,
      topic,
      notBefore: daysFrom(NOW, -340),
      notAfter: daysFrom(NOW, 25),
    });
    writeFileSync(join(work, 'first.pem'), firstPem);
    expect((await runInProcess(['import', join(work, 'first.pem'), '--name', 'fleet', '--no-key'], { env })).code).toBe(
      0,
    );
    server = await startFakeMdm({ kind: 'fleet', credential: 'token-x', fleetKeyPem: fleetKey.privatePem });
    writeFileSync(join(work, 'token'), 'token-x\n');
    const added = await runInProcess(
      ['target', 'add', 'fleet', '--kind', 'fleet', '--url', server.url, '--credential-file', join(work, 'token')],
      { env },
    );
    expect(added.code, added.stderr).toBe(0);

    term = new Terminal(`${process.execPath} ${BIN} renew fleet`, env, work);
    await term.waitFor(/Apple ID used for this push certificate/);
    term.type('mdm@acme.example');
    term.press('Enter');
    await term.waitFor(/Remember this Apple ID for the next renewal\?.*\(y\/N\)/);
    term.press('Enter'); // no
    const screen = await term.waitFor(/Path of the certificate downloaded from Apple/);
    expect(screen).toMatch(/Wrote the CSR to .*fleet-renew-\d{8}\.csr\.pem/);
    expect(screen).toContain(`Find the row whose topic is ${topic}`);
    const csr = readdirSync(work).find((f) => /^fleet-renew-\d{8}\.csr\.pem$/.test(f))!;
    const pem = join(work, 'MDM_Fleet_Certificate.pem');
    signCsrFile(ca, join(work, csr), pem, { topic, notBefore: daysFrom(NOW, -1), notAfter: daysFrom(NOW, 390) });
    term.type(pem);
    term.press('Enter');
    expect(await term.exitCode()).toBe(0);
    const done = term.screen();
    expect(done).toContain(`Renewed fleet: same topic ${topic}`);
    expect(done).toContain('apns-cert deploy fleet');
    const record = JSON.parse(readFileSync(join(store, 'index.json'), 'utf8')).records.fleet;
    expect(record.pendingKey).toBeNull();
    expect(record.certificates.at(-1)).toMatchObject({ status: 'active', keyId: null, keyless: true });
  });
});
