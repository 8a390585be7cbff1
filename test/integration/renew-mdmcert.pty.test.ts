/**
 * The renew wizard of a record signed via mdmcert.download, in a real terminal (tmux) with the built CLI: it sends
 * the request to the loopback fake of the service (test/helpers/fake-mdmcert.ts), waits for the mailed file,
 * decrypts and checks it, shows the portal steps for the request, then imports Apple's certificate.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, mdmTopic, signPushRequestFile } from '../helpers/fake-apple.js';
import { startFakeMdmcert } from '../helpers/fake-mdmcert.js';
import type { FakeMdmcert } from '../helpers/fake-mdmcert.js';
import { runInProcess } from '../helpers/in-process.js';
import { Terminal, tmuxAvailable } from '../helpers/tmux.js';

if (!tmuxAvailable && process.env.CI) throw new Error('tmux is required for the pseudo-terminal tests in CI');

const API_KEY = 'abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789';
const ca = createFakeCa();
const topic = mdmTopic();
let fake: FakeMdmcert;
let term: Terminal | undefined;

beforeAll(async () => {
  fake = await startFakeMdmcert({ apiKey: API_KEY, mailbox: tempDir('apns-mailbox-') });
});
afterAll(() => fake.close());
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

describe.skipIf(!tmuxAvailable)('renew wizard of a via-mdmcert record in a real terminal', () => {
  it('sends the request, waits for the mailed file, shows the request to upload, imports', async () => {
    const work = tempDir();
    const keyFile = join(work, 'api-key');
    writeFileSync(keyFile, API_KEY, { mode: 0o600 });
    const caFile = join(work, 'vendor-root.pem');
    writeFileSync(caFile, fake.vendor.root.pem);
    const env = cleanEnv({
      APNS_CERT_STORE: tempDir(),
      APNS_CERT_PASSPHRASE: 'wizard',
      APNS_CERT_MDMCERT_URL: fake.url,
      TERM: 'xterm',
      COLUMNS: '200',
    });
    const first = await runInProcess(
      [
        'csr',
        '--name',
        'acme',
        '--via',
        'mdmcert',
        '--email',
        'admin@acme.example',
        '--apple-id',
        'mdm@acme.example',
      ].concat(['--mdmcert-api-key-file', keyFile, '--out', join(work, 'first.csr')]),
      { env },
    );
    expect(first.code, first.stderr).toBe(0);
    const firstMail = fake.requests.at(-1)!.mailed!;
    const out = join(work, 'first.request.b64');
    expect((await runInProcess(['mdmcert-decrypt', firstMail, '--out', out, '--ca-file', caFile], { env })).code).toBe(
      0,
    );
    portal(out, join(work, 'first.pem'), 20);
    expect((await runInProcess(['import', join(work, 'first.pem')], { env })).code).toBe(0);

    const sentBefore = fake.requests.length;
    term = new Terminal(
      `${process.execPath} ${BIN} renew acme --apple-id mdm@acme.example --mdmcert-api-key-file ${keyFile} --ca-file ${caFile}`,
      env,
      work,
    );
    await term.waitFor(/Path of the file mailed by mdmcert\.download/);
    expect(fake.requests.length).toBe(sentBefore + 1);
    expect(term.screen()).toContain('the signed request is mailed to admin@acme.example');
    // last year's mail first: not for this request, asked again
    term.type(firstMail);
    term.press('Enter');
    await term.waitFor(/not encrypted to the request of "acme"/);
    term.press('C-u');
    term.type(fake.requests.at(-1)!.mailed!);
    term.press('Enter');
    await term.waitFor(/Path of the certificate downloaded from Apple/);
    const screen = term.screen();
    expect(screen).toMatch(/ok +csr-key:/);
    expect(screen).toMatch(/Upload the signed request .*acme-renew-\d{8}\.request\.b64 \(not the CSR\)/);
    expect(screen).toContain(`Find the row whose topic is ${topic}`);
    const request = readdirSync(work).find((f) => /^acme-renew-\d{8}\.request\.b64$/.test(f))!;
    portal(join(work, request), join(work, 'renewed.pem'), 385);
    term.type(join(work, 'renewed.pem'));
    term.press('Enter');
    expect(await term.exitCode()).toBe(0);
    expect(term.screen()).toContain(`Renewed acme: same topic ${topic}`);
    expect(term.screen()).not.toContain(API_KEY);
  });
});
