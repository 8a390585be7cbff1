/**
 * Core errors as each command shows them (in process, through src/cli/main.ts run): the hint names the command
 * that is running and the file it read, never another command's (issue 10: a wrong .p12 password in inspect
 * or hash used to say `apns-cert import X --password-file`).
 */
import { createPrivateKey } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeCertificateFile } from '../../src/core/input.js';
import { describePrivateKey } from '../../src/core/keys.js';
import { encodePkcs12 } from '../../src/core/pkcs12.js';
import { tempDir } from '../helpers/cli.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem } from '../helpers/fake-apple.js';

const NOW = new Date();
// the bundle defines the version (scripts/bundle.js); in process it is given here, before main.ts loads
(globalThis as Record<string, unknown>).APNS_CERT_VERSION ??= '0.0.0-test';
const { run } = await import('../../src/cli/main.js');
const work = tempDir();

async function apnsCert(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const code = await run({
    argv: ['node', 'apns-cert', ...args],
    env: { APNS_CERT_STORE: join(work, 'store'), APNS_CERT_SECRET_BACKEND: 'passphrase', ...env },
    stdin: () => process.stdin,
    stderrStream: () => process.stderr,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    tty: { stdin: () => false, stdout: () => false, stderr: () => false },
  });
  return { code, stdout, stderr };
}

/** A .p12 (password "right") of a push certificate minted here, under a name with a space. */
function mintP12(): string {
  const ca = createFakeCa();
  const key = newKeyPem();
  const pem = issuePushCert(ca, {
    publicKeyPem: key.publicPem,
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 300),
  });
  const cert = decodeCertificateFile(Buffer.from(pem), 'minted').certificates[0]!;
  const p12 = encodePkcs12(describePrivateKey(createPrivateKey(key.privatePem)), [cert], 'right', {
    legacy: false,
    iterations: 2048,
    friendlyName: 'test',
  });
  const file = join(work, 'my push.p12');
  writeFileSync(file, p12);
  return file;
}

describe('a wrong .p12 password: the hint is the running command with --password-file', () => {
  const file = mintP12();

  it.each(['inspect', 'hash', 'verify', 'check-expiry', 'import'])('%s', async (command) => {
    const extra = command === 'verify' ? ['--topic-hash', '0'.repeat(64)] : [];
    const r = await apnsCert([command, file, ...extra], { APNS_CERT_P12_PASSWORD: 'wrong' });
    // check-expiry keeps its Nagios UNKNOWN (3) and lists the file as a problem
    if (command === 'check-expiry') {
      expect(r.code).toBe(3);
      expect(r.stdout + r.stderr).toContain(`open ${file}: wrong .p12 password`);
      return;
    }
    expect(r.code).toBe(77);
    expect(r.stderr).toContain(`apns-cert: open ${file}: wrong .p12 password\n`);
    const hint = r.stderr.split('\n').find((line) => line.startsWith('hint: '));
    expect(hint).toBe(`hint: apns-cert ${command} ${file} --password-file <file>   # or set APNS_CERT_P12_PASSWORD`);
  });

  it('the right password opens it for inspect and hash', async () => {
    expect((await apnsCert(['inspect', file], { APNS_CERT_P12_PASSWORD: 'right' })).code).toBe(0);
    expect((await apnsCert(['hash', file], { APNS_CERT_P12_PASSWORD: 'right' })).stdout).toMatch(/^[0-9a-f]{64}\n$/);
  });
});

describe('other core errors, shown by the command that met them', () => {
  it('a bad --warn-days in check-expiry: 64, the hint is check-expiry with sound thresholds', async () => {
    const r = await apnsCert(['check-expiry', '--warn-days', '5', '--critical-days', '9']);
    expect(r.stderr).toContain('--critical-days (9) is larger than --warn-days (5)');
    expect(r.stderr).toMatch(/^hint: apns-cert check-expiry --warn-days 30 --critical-days 7$/m);
  });

  it('a CSR given to inspect as a certificate names the portal and import', async () => {
    const csr = join(work, 'request.csr.pem');
    writeFileSync(csr, '-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n');
    const r = await apnsCert(['hash', csr]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('it is a certificate signing request (CSR), not a certificate');
    expect(r.stderr).toMatch(
      /^hint: upload the CSR at https:\/\/identity\.apple\.com\/pushcert, then: apns-cert import /m,
    );
  });
});
