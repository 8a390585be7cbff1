import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REAL, cleanEnv, hasStackTrace, runCli, tempDir, treeDigest } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import {
  createFakeCa,
  createVendorHierarchy,
  daysFrom,
  issuePushCert,
  mdmTopic,
  newKeyPem,
  signCsrFile,
} from '../helpers/fake-apple.js';

const NOW = new Date();
const ca = createFakeCa();
const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

function pubkeyOfCert(certFile: string): string {
  return sh(`openssl x509 -in '${certFile}' -noout -pubkey`);
}

describe('PKCS#12 in and out', () => {
  let work: string;
  let topic: string;
  beforeAll(() => {
    work = tempDir();
    topic = mdmTopic();
    const keys = newKeyPem();
    writeFileSync(join(work, 'key.pem'), keys.privatePem);
    writeFileSync(
      join(work, 'cert.pem'),
      issuePushCert(ca, {
        publicKeyPem: keys.publicPem,
        topic,
        notBefore: daysFrom(NOW, -5),
        notAfter: daysFrom(NOW, 300),
      }),
    );
    writeFileSync(join(work, 'ca.pem'), ca.pem);
    writeFileSync(join(work, 'pw'), 'p12 secret\n');
    writeFileSync(join(work, 'wrong'), 'not it\n');
    const base = `openssl pkcs12 -export -in ${work}/cert.pem -inkey ${work}/key.pem`;
    sh(`${base} -out ${work}/modern.p12 -passout 'pass:p12 secret' -certfile ${work}/ca.pem`);
    sh(`${base} -out ${work}/legacy.p12 -passout 'pass:p12 secret' -legacy`);
    sh(`${base} -out ${work}/nopass.p12 -passout pass:`);
    sh(`openssl pkcs12 -export -nokeys -in ${work}/cert.pem -out ${work}/nokey.p12 -passout pass:x`);
  });
  const env = (store: string, extra: Record<string, string> = {}) =>
    cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'store pass', ...extra });

  it('imports an OpenSSL 3 .p12 (AES-256, SHA-256 MAC) holding a chain: picks the leaf whose key is present and says so', async () => {
    const store = tempDir();
    const r = await runInProcess(
      ['import', join(work, 'modern.p12'), '--name', 'p12', '--password-file', join(work, 'pw'), '--json'],
      { env: env(store) },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'p12', topic, keySource: 'file' });
    expect(r.stderr).toMatch(/holds 2 certificates; imported the one for topic/);
  });

  it('imports a legacy .p12 (RC2/3DES, SHA-1 MAC) with the password from the environment', async () => {
    const r = await runInProcess(['import', join(work, 'legacy.p12'), '--name', 'legacy'], {
      env: env(tempDir(), { APNS_CERT_P12_PASSWORD: 'p12 secret' }),
    });
    expect(r.code, r.stderr).toBe(0);
  });

  it('imports a .p12 with an empty password without asking', async () => {
    const r = await runInProcess(['import', join(work, 'nopass.p12'), '--name', 'nopass'], { env: env(tempDir()) });
    expect(r.code, r.stderr).toBe(0);
  });

  it('a wrong password is exit 77 and leaves the store byte-identical; no password and no terminal is exit 64', async () => {
    const store = tempDir();
    expect(
      (await runInProcess(['import', join(work, 'nopass.p12'), '--name', 'first'], { env: env(store) })).code,
    ).toBe(0);
    const before = treeDigest(store);
    let r = await runInProcess(
      ['import', join(work, 'legacy.p12'), '--name', 'x', '--password-file', join(work, 'wrong')],
      {
        env: env(store),
      },
    );
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/^apns-cert: open .*legacy\.p12: wrong \.p12 password/);
    expect(hasStackTrace(r.stderr)).toBe(false);
    r = await runInProcess(['import', join(work, 'modern.p12'), '--name', 'x'], { env: env(store) });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/needs its password/);
    expect(treeDigest(store)).toBe(before);
  });

  it('a .p12 without a key needs a pending key in the store', async () => {
    const r = await runInProcess(
      ['import', join(work, 'nokey.p12'), '--name', 'x', '--password-file', join(work, 'wrong')],
      {
        env: env(tempDir(), { APNS_CERT_P12_PASSWORD: 'x' }),
      },
    );
    expect(r.code).toBe(77); // --password-file wins over the environment
    const r2 = await runInProcess(['import', join(work, 'nokey.p12'), '--name', 'x'], {
      env: env(tempDir(), { APNS_CERT_P12_PASSWORD: 'x' }),
    });
    expect(r2.code).toBe(65);
    expect(r2.stderr).toMatch(/no private key for this certificate/);
  });

  it('exports .p12 files openssl opens (modern by default, --legacy), 0600, never overwritten, re-importable', async () => {
    const store = tempDir();
    expect((await runCli(['import', join(work, 'nopass.p12'), '--name', 'acme'], { env: env(store) })).code).toBe(0);
    const out = tempDir();
    for (const legacy of [false, true]) {
      const file = join(out, legacy ? 'legacy.p12' : 'modern.p12');
      const r = await runCli(
        ['export', 'acme', '--p12', file, '--password-file', join(work, 'pw'), ...(legacy ? ['--legacy'] : [])],
        { env: env(store) },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const info = sh(`openssl pkcs12 -in ${file} -info -noout -passin 'pass:p12 secret' 2>&1`);
      expect(info).toContain(legacy ? 'MAC: sha1' : 'MAC: sha256');
      const pem = join(out, 'opened.pem');
      sh(`openssl pkcs12 -in ${file} -nodes -passin 'pass:p12 secret' ${legacy ? '-legacy' : ''} -out ${pem}`);
      expect(sh(`openssl pkey -in ${pem} -pubout`)).toBe(pubkeyOfCert(pem));
      expect(sh(`openssl x509 -in ${pem} -noout -fingerprint -sha256`)).toBe(
        sh(`openssl x509 -in ${work}/cert.pem -noout -fingerprint -sha256`),
      );
    }
    const again = await runCli(
      ['export', 'acme', '--p12', join(out, 'modern.p12'), '--password-file', join(work, 'pw')],
      { env: env(store) },
    );
    expect(again.code).toBe(73);
    const back = await runCli(
      ['import', join(out, 'modern.p12'), '--name', 'copy', '--password-file', join(work, 'pw')],
      { env: env(tempDir()) },
    );
    expect(back.code, back.stderr).toBe(0);
  });

  it('exports PEM (certificate + key, or --cert-only); a .p12 without a password is refused', async () => {
    const store = tempDir();
    await runInProcess(['import', join(work, 'nopass.p12'), '--name', 'acme'], { env: env(store) });
    const out = tempDir();
    let r = await runInProcess(['export', 'acme', '--pem', join(out, 'both.pem')], { env: env(store) });
    expect(r.code, r.stderr).toBe(0);
    expect(
      (await runInProcess(['verify', join(out, 'both.pem'), '--key', join(out, 'both.pem')], { env: env(store) })).code,
    ).toBe(0);
    r = await runInProcess(['export', 'acme', '--pem', join(out, 'cert.pem'), '--cert-only'], { env: env(store) });
    expect(r.code).toBe(0);
    expect(readFileSync(join(out, 'cert.pem'), 'utf8')).not.toContain('PRIVATE KEY');
    r = await runInProcess(['export', 'acme', '--p12', join(out, 'x.p12')], { env: env(store) });
    expect(r.code).toBe(64);
    expect(existsSync(join(out, 'x.p12'))).toBe(false);
  });
});

describe('vendor signing', () => {
  let work: string;
  let store: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    work = tempDir();
    store = tempDir();
    env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p' });
    const h = createVendorHierarchy(NOW);
    writeFileSync(join(work, 'vendor.pem'), h.vendor.pem);
    writeFileSync(join(work, 'vendor.key'), h.vendor.privatePem);
    writeFileSync(join(work, 'chain.pem'), h.wwdr.pem + h.root.pem);
    const expired = createVendorHierarchy(NOW, -1);
    writeFileSync(join(work, 'expired.pem'), expired.vendor.pem);
    writeFileSync(join(work, 'expired.key'), expired.vendor.privatePem);
    writeFileSync(join(work, 'expired-chain.pem'), expired.wwdr.pem + expired.root.pem);
    writeFileSync(join(work, 'other.key'), newKeyPem().privatePem);
    expect((await runInProcess(['csr', '--name', 'customer', '--out', join(work, 'customer.csr')], { env })).code).toBe(
      0,
    );
  });

  it('writes a request whose SHA-256 signature openssl verifies and which inspect reads back', async () => {
    const out = join(work, 'PushCertificateRequest');
    let r = await runCli(
      [
        'vendor-sign',
        '--csr',
        join(work, 'customer.csr'),
        '--vendor-cert',
        join(work, 'vendor.pem'),
        '--vendor-key',
        join(work, 'vendor.key'),
        '--chain',
        join(work, 'chain.pem'),
        '--out',
        out,
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    const xml = Buffer.from(readFileSync(out, 'utf8'), 'base64').toString('utf8');
    expect(xml).toMatch(/^<\?xml/);
    const field = (key: string) => new RegExp(`<key>${key}</key>\\s*<string>([^<]*)</string>`).exec(xml)![1]!;
    writeFileSync(join(work, 'csr.der'), Buffer.from(field('PushCertRequestCSR'), 'base64'));
    writeFileSync(join(work, 'sig.bin'), Buffer.from(field('PushCertSignature'), 'base64'));
    expect(sh(`openssl req -in ${work}/customer.csr -outform DER | cmp - ${work}/csr.der && echo same`).trim()).toBe(
      'same',
    );
    expect((field('PushCertCertificateChain').match(/BEGIN CERTIFICATE/g) ?? []).length).toBe(3);
    sh(`openssl x509 -in ${work}/vendor.pem -pubkey -noout > ${work}/vendor.pub`);
    expect(
      sh(`openssl dgst -sha256 -verify ${work}/vendor.pub -signature ${work}/sig.bin ${work}/csr.der`).trim(),
    ).toBe('Verified OK');
    r = await runCli(['inspect', out, '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({
      kind: 'push-certificate-request',
      csrSubject: 'CN=customer',
      signatureAlgorithm: 'sha256WithRSAEncryption',
      signatureValid: true,
    });
    expect(info.chain.map((c: { subject: string }) => c.subject)).toEqual([
      'UID=TESTTEAM01, CN=MDM Vendor: Example MDM Inc., OU=TESTTEAM01, C=US',
      'CN=Test Worldwide Developer Relations CA, O=apns-cert tests',
      'CN=Test Root CA, O=apns-cert tests',
    ]);
  });

  it.each([
    ['a vendor key that does not match', ['--vendor-key', 'other.key'], 65, /does not match the vendor certificate/],
    [
      'an expired vendor certificate',
      ['--vendor-cert', 'expired.pem', '--vendor-key', 'expired.key', '--chain', 'expired-chain.pem'],
      65,
      /vendor certificate is not valid now/,
    ],
    [
      'a chain that is not found (test issuer, no --chain)',
      ['--chain', null],
      65,
      /issued by "Test Worldwide Developer Relations CA"/,
    ],
    ['a certificate where the CSR should be', ['--csr', 'vendor.pem'], 65, /no CERTIFICATE REQUEST/],
  ] as Array<[string, Array<string | null>, number, RegExp]>)(
    'refuses %s, writing nothing',
    async (_what, overrides, code, message) => {
      const args: Record<string, string | null> = {
        '--csr': 'customer.csr',
        '--vendor-cert': 'vendor.pem',
        '--vendor-key': 'vendor.key',
        '--chain': 'chain.pem',
        '--out': 'refused.req',
      };
      for (let i = 0; i < overrides.length; i += 2) args[overrides[i]!] = overrides[i + 1] ?? null;
      const argv = Object.entries(args).flatMap(([k, v]) => (v === null ? [] : [k, join(work, v)]));
      const r = await runInProcess(['vendor-sign', ...argv], { env });
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(hasStackTrace(r.stderr)).toBe(false);
      expect(existsSync(join(work, 'refused.req'))).toBe(false);
    },
  );

  it('csr --vendor-cert does both in one step; a refused vendor check writes no key and no CSR', async () => {
    const before = treeDigest(store);
    let r = await runInProcess(
      [
        'csr',
        '--name',
        'one-step',
        '--out',
        join(work, 'bad.csr'),
        '--vendor-cert',
        join(work, 'vendor.pem'),
        '--vendor-key',
        join(work, 'other.key'),
        '--chain',
        join(work, 'chain.pem'),
      ],
      { env },
    );
    expect(r.code).toBe(65);
    expect(existsSync(join(work, 'bad.csr'))).toBe(false);
    expect(treeDigest(store)).toBe(before);
    r = await runInProcess(
      [
        'csr',
        '--name',
        'one-step',
        '--out',
        join(work, 'one.csr'),
        '--vendor-cert',
        join(work, 'vendor.pem'),
        '--vendor-key',
        join(work, 'vendor.key'),
        '--chain',
        join(work, 'chain.pem'),
        '--request-out',
        join(work, 'one.req'),
        '--json',
      ],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).requestPath).toBe(join(work, 'one.req'));
    const inspected = JSON.parse((await runInProcess(['inspect', join(work, 'one.req'), '--json'], { env })).stdout);
    expect(inspected).toMatchObject({ signatureValid: true, csrSubject: 'CN=one-step' });
  });

  it('inspect refuses a request that is not base64 or not a plist, in one line', async () => {
    writeFileSync(
      join(work, 'junk.req'),
      Buffer.from('<?xml version="1.0"?><plist><dict><key>x</key>').toString('base64'),
    );
    const r = await runInProcess(['inspect', join(work, 'junk.req')], { env });
    expect(r.code).toBe(65);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/^apns-cert: read .*junk\.req: not a valid plist/);
    expect(r.stderr).not.toMatch(/xmldom/);
  });
});

describe('Apple chain in inspect and verify', () => {
  const real = join(REAL, 'mdm-push_abacus_APSP-51423b26_2020.pem');
  it('verify --apple-chain holds inside the validity, fails (1) outside and for a test CA', async () => {
    expect((await runInProcess(['verify', real, '--apple-chain', '--at', '2020-06-01'])).code).toBe(0);
    const now = await runInProcess(['verify', real, '--apple-chain', '--json']);
    expect(now.code).toBe(1);
    expect(JSON.parse(now.stdout).checks[0]).toMatchObject({ check: 'apple-chain', ok: false });
    const fake = await runInProcess(['verify', join(REAL, 'fake_pushy_single-topic-client.pem'), '--apple-chain']);
    expect(fake.code).toBe(1);
    expect(fake.stderr).toMatch(/not an Apple CA/);
  });

  it('inspect --json shows kind, environment, topics and the chain verdict', async () => {
    const r = await runInProcess([
      'inspect',
      join(REAL, 'app-push_ru.firstbit.bitmobile_2015_production-ios.pem'),
      '--json',
      '--at',
      '2016-01-01',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      kind: 'app',
      environment: 'production',
      topics: [{ topic: 'ru.firstbit.bitmobile', types: ['app'] }],
      appleChain: {
        appleIssued: true,
        valid: true,
        intermediate: 'Apple Worldwide Developer Relations Certification Authority',
        root: 'Apple Root CA',
      },
    });
    const text = await runInProcess(['inspect', join(REAL, 'fake_pushy_ca.pem')]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/apple chain\s+not Apple-issued/);
  });

  it('check-expiry and import work for app certificates as for MDM ones', async () => {
    const store = tempDir();
    const work = tempDir(); // the CSR goes outside the store, which refuses output files inside itself
    const env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'p' });
    expect((await runInProcess(['csr', '--name', 'app', '--out', join(work, 'app.csr')], { env })).code).toBe(0);
    signCsrFile(ca, join(work, 'app.csr'), join(work, 'app.pem'), {
      topic: 'com.example.app',
      commonName: 'Apple Push Services: com.example.app',
      notBefore: daysFrom(NOW, -1),
      notAfter: daysFrom(NOW, 20),
    });
    const r = await runInProcess(['import', join(work, 'app.pem'), '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ kind: 'app', topic: 'com.example.app' });
    expect((await runInProcess(['check-expiry'], { env })).code).toBe(1);
  });
});
