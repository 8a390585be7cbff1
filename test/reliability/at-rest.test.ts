/**
 * Secrets at rest and refusals: after a full flow no file in the store holds a private key in clear or the
 * Apple ID, modes are 0700/0600; and every refusal leaves the store byte-identical.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REAL, cleanEnv, runCli, tempDir, treeDigest } from '../helpers/cli.js';
import { createFakeCa, daysFrom, issuePushCert, mdmTopic, newKeyPem, signCsrFile } from '../helpers/fake-apple.js';

const APPLE_ID = 'Secret.Admin@acme.example';
const NOW = new Date();
const ca = createFakeCa();
let store: string;
let work: string;
let env: NodeJS.ProcessEnv;
const topic = mdmTopic();

/** A PKCS#8 RSA private key carries these DER bytes near its start: version 0, then the rsaEncryption identifier. */
const DER_KEY_MARKERS = [Buffer.from('020100300d06092a864886f70d0101010500', 'hex')];

function allFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)],
  );
}

beforeAll(async () => {
  store = tempDir();
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'at rest' });
  // the full flow: csr with an Apple ID, import, renewal, a .p12 import with its key, an export
  expect(
    (await runCli(['csr', '--name', 'acme', '--apple-id', APPLE_ID, '--out', join(work, 'a.csr')], { env })).code,
  ).toBe(0);
  signCsrFile(ca, join(work, 'a.csr'), join(work, 'a.pem'), {
    topic,
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 100),
  });
  expect((await runCli(['import', join(work, 'a.pem'), '--apple-id', APPLE_ID], { env })).code).toBe(0);
  expect(
    (await runCli(['renew', 'acme', '--apple-id', APPLE_ID, '--csr-out', join(work, 'r.csr')], { env })).code,
  ).toBe(0);
  signCsrFile(ca, join(work, 'r.csr'), join(work, 'r.pem'), {
    topic,
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 400),
  });
  expect((await runCli(['import', join(work, 'r.pem'), '--name', 'acme'], { env })).code).toBe(0);
  const keys = newKeyPem();
  writeFileSync(join(work, 'k.pem'), keys.privatePem);
  writeFileSync(
    join(work, 'c.pem'),
    issuePushCert(ca, {
      publicKeyPem: keys.publicPem,
      topic: mdmTopic(),
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 200),
    }),
  );
  execFileSync('openssl', [
    'pkcs12',
    '-export',
    '-in',
    join(work, 'c.pem'),
    '-inkey',
    join(work, 'k.pem'),
    '-out',
    join(work, 'b.p12'),
    '-passout',
    'pass:p12',
  ]);
  expect(
    (
      await runCli(['import', join(work, 'b.p12'), '--name', 'beta'], {
        env: { ...env, APNS_CERT_P12_PASSWORD: 'p12' },
      })
    ).code,
  ).toBe(0);
  expect((await runCli(['export', 'acme', '--pem', join(work, 'exported.pem')], { env })).code).toBe(0);
});

describe('secrets at rest', () => {
  it('no file in the store holds a private key in clear (PEM or DER) or the Apple ID', () => {
    const files = allFiles(store);
    expect(files.length).toBeGreaterThan(6);
    for (const file of files) {
      const bytes = readFileSync(file);
      const text = bytes.toString('latin1');
      expect(text, file).not.toMatch(/PRIVATE KEY/);
      expect(text.toLowerCase(), file).not.toContain(APPLE_ID.toLowerCase());
      expect(text.toLowerCase(), file).not.toContain('secret.admin');
      expect(bytes.includes(DER_KEY_MARKERS[0]!), file).toBe(false);
      // sealed key files are JSON with base64 ciphertext: decoding it must not reveal a DER key either
      if (file.endsWith('.key')) {
        const box = JSON.parse(text) as { ciphertext: string };
        expect(Buffer.from(box.ciphertext, 'base64').includes(DER_KEY_MARKERS[0]!), file).toBe(false);
      }
    }
    // while the export the admin asked for does hold the key, and matches the certificate
    expect(readFileSync(join(work, 'exported.pem'), 'utf8')).toContain('PRIVATE KEY');
  });

  it('directories are 0700 and files 0600', () => {
    for (const dir of [store, join(store, 'certs'), join(store, 'keys')])
      expect(statSync(dir).mode & 0o777, dir).toBe(0o700);
    for (const file of allFiles(store)) expect(statSync(file).mode & 0o777, file).toBe(0o600);
  });
});

describe('refusals leave no trace', () => {
  it.each([
    [
      'a certificate with another topic',
      async () => {
        await runCli(['csr', '--name', 'acme', '--out', join(work, 'w.csr'), '--force'], { env });
        signCsrFile(ca, join(work, 'w.csr'), join(work, 'w.pem'), {
          topic: mdmTopic(),
          notBefore: daysFrom(NOW, -1),
          notAfter: daysFrom(NOW, 500),
        });
        return [['import', join(work, 'w.pem'), '--name', 'acme'], env, 1] as const;
      },
    ],
    [
      'a wrong passphrase',
      async () =>
        [
          ['csr', '--name', 'gamma', '--out', join(work, 'g.csr')],
          { ...env, APNS_CERT_PASSPHRASE: 'nope' },
          77,
        ] as const,
    ],
    [
      'a wrong .p12 password',
      async () =>
        [['import', join(work, 'b.p12'), '--name', 'delta'], { ...env, APNS_CERT_P12_PASSWORD: 'nope' }, 77] as const,
    ],
    [
      'a bad file',
      async () =>
        [['import', join(REAL, 'negative_msft365dsc_FakeCert-mdm-push.txt'), '--name', 'eps'], env, 65] as const,
    ],
  ])('%s: the store directory is byte-identical afterwards', async (_what, setup) => {
    const [args, runEnv, code] = await setup();
    const before = treeDigest(store);
    const r = await runCli([...args], { env: runEnv });
    expect(r.code, r.stderr).toBe(code);
    expect(treeDigest(store)).toBe(before);
  });
});
