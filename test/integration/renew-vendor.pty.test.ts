/**
 * The renew wizard of a record signed via vendor, in a real terminal (tmux) with the built CLI: it writes the
 * vendor-signed request beside the CSR, says to upload the request (not the CSR), then imports Apple's certificate
 * given at the prompt.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { createFakeCa, createVendorHierarchy, daysFrom, mdmTopic, signPushRequestFile } from '../helpers/fake-apple.js';
import { runInProcess } from '../helpers/in-process.js';
import { Terminal, tmuxAvailable } from '../helpers/tmux.js';

if (!tmuxAvailable && process.env.CI) throw new Error('tmux is required for the pseudo-terminal tests in CI');

const ca = createFakeCa();
const topic = mdmTopic();
let term: Terminal | undefined;
afterEach(() => term?.close());

/** Apple's portal: a certificate for the CSR inside the request. */
function portal(requestFile: string, certFile: string, notAfterDays: number): void {
  const now = new Date();
  signPushRequestFile(ca, requestFile, certFile, {
    topic,
    notBefore: daysFrom(now, -1),
    notAfter: daysFrom(now, notAfterDays),
  });
}

describe.skipIf(!tmuxAvailable)('renew wizard of a via-vendor record in a real terminal', () => {
  it('writes the signed request, says to upload it (not the CSR), imports the certificate given', async () => {
    const work = tempDir();
    const file = (name: string) => join(work, name);
    const vendor = createVendorHierarchy(new Date());
    writeFileSync(file('vendor.pem'), vendor.vendor.pem);
    writeFileSync(file('vendor.key'), vendor.vendor.privatePem);
    writeFileSync(file('chain.pem'), vendor.wwdr.pem + vendor.root.pem);
    const env = cleanEnv({
      APNS_CERT_STORE: tempDir(),
      APNS_CERT_PASSPHRASE: 'wizard',
      TERM: 'xterm',
      COLUMNS: '200',
    });
    const first = await runInProcess(
      ['csr', '--name', 'acme', '--apple-id', 'mdm@acme.example', '--out', file('first.csr')].concat([
        '--vendor-cert',
        file('vendor.pem'),
        '--vendor-key',
        file('vendor.key'),
        '--chain',
        file('chain.pem'),
        '--request-out',
        file('first.request.b64'),
      ]),
      { env },
    );
    expect(first.code, first.stderr).toBe(0);
    portal(file('first.request.b64'), file('first.pem'), 20);
    expect((await runInProcess(['import', file('first.pem')], { env })).code).toBe(0);

    term = new Terminal(`${process.execPath} ${BIN} renew acme --apple-id mdm@acme.example`, env, work);
    await term.waitFor(/Path of the certificate downloaded from Apple/);
    const screen = term.screen();
    expect(screen).toMatch(
      /Wrote the vendor-signed request to \S*\/acme-renew-\d{8}\.request\.b64: upload the request/,
    );
    expect(screen).toMatch(/Upload the signed request .*acme-renew-\d{8}\.request\.b64 \(not the CSR\)/);
    expect(screen).toContain(`Find the row whose topic is ${topic}`);
    const request = readdirSync(work).find((f) => /^acme-renew-\d{8}\.request\.b64$/.test(f))!;
    expect(readdirSync(work)).toContain(request.replace(/\.request\.b64$/, '.csr.pem'));
    // the request carries the renewal's CSR: what Apple signs is the new key
    portal(file(request), file('renewed.pem'), 385);
    term.type(file('renewed.pem'));
    term.press('Enter');
    expect(await term.exitCode()).toBe(0);
    expect(term.screen()).toContain(`Renewed acme: same topic ${topic}`);
    const list = await runInProcess(['list', '--json'], { env });
    expect(JSON.parse(list.stdout).certificates[0]).toMatchObject({ name: 'acme', signing: { via: 'vendor' } });
  });
});
