import { randomBytes } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REAL, cleanEnv, hasStackTrace, tempDir, treeDigest } from '../helpers/cli.js';
import { runInProcess } from '../helpers/in-process.js';
import { createFakeCa, daysFrom, mdmTopic, signCsrFile } from '../helpers/fake-apple.js';

const NOW = new Date();
let store: string;
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  store = tempDir();
  work = tempDir();
  env = cleanEnv({ APNS_CERT_STORE: store, APNS_CERT_PASSPHRASE: 'pass phrase' });
  const csr = await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'acme.csr')], { env });
  expect(csr.code, csr.stderr).toBe(0);
  const ca = createFakeCa();
  signCsrFile(ca, join(work, 'acme.csr'), join(work, 'good.pem'), {
    topic: mdmTopic(),
    notBefore: daysFrom(NOW, -1),
    notAfter: daysFrom(NOW, 300),
  });
  const imported = await runInProcess(['import', join(work, 'good.pem')], { env });
  expect(imported.code, imported.stderr).toBe(0);
  writeFileSync(join(work, 'empty.pem'), '');
  writeFileSync(join(work, 'random.bin'), randomBytes(700));
  writeFileSync(
    join(work, 'no-cert.pem'),
    '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n',
  );
  const der = readFileSync(join(REAL, 'mdm-push_abacus_APSP-51423b26_2020.pem'), 'utf8').replace(
    /-----[^-]+-----|\s/g,
    '',
  );
  writeFileSync(join(work, 'truncated.der'), Buffer.from(der, 'base64').subarray(0, 900));
  copyFileSync(join(REAL, 'negative_msft365dsc_FakeCert-mdm-push.txt'), join(work, 'damaged.txt'));
  copyFileSync(join(REAL, 'csr_abacus-push_2020.pem'), join(work, 'request.csr'));
  copyFileSync(join(REAL, 'fake_pushy_ca.pem'), join(work, 'not-apns.pem'));
  copyFileSync(join(REAL, 'fake_pushy_single-topic-client.p12'), join(work, 'bundle.p12'));
});

describe('bad input gets one clear line, the right exit code, and never a stack trace', () => {
  const cases: Array<[string, () => string[], number, RegExp]> = [
    ['a missing file', () => ['import', join(work, 'nope.pem')], 66, /no such file/],
    ['an empty file', () => ['import', join(work, 'empty.pem')], 65, /the file is empty/],
    ['random bytes', () => ['import', join(work, 'random.bin')], 65, /not (a valid X.509 certificate|a certificate)/],
    ['a PEM with no certificate', () => ['import', join(work, 'no-cert.pem')], 65, /no certificate in this PEM file/],
    ['a truncated DER', () => ['inspect', join(work, 'truncated.der')], 65, /not a valid X.509 certificate/],
    ['the damaged real certificate', () => ['inspect', join(work, 'damaged.txt')], 65, /not a certificate/],
    [
      'a CSR where a certificate is expected',
      () => ['import', join(work, 'request.csr')],
      65,
      /certificate signing request/,
    ],
    ['a certificate that is not an APNs one', () => ['import', join(work, 'not-apns.pem')], 65, /no APNs topic/],
    [
      'a .p12 whose password is not given, without a terminal',
      () => ['import', join(work, 'bundle.p12')],
      64,
      /needs its password/,
    ],
    ['a topic hash of a certificate with no topic', () => ['hash', join(work, 'not-apns.pem')], 65, /no APNs topic/],
    ['an unknown option', () => ['import', '--nope', join(work, 'good.pem')], 64, /unknown option/],
    ['an unknown command', () => ['frobnicate'], 64, /unknown command/],
    ['verify with nothing to check', () => ['verify', join(work, 'good.pem')], 64, /nothing to check/],
    ['a bad name', () => ['csr', '--name', '../etc'], 64, /names are 1-64 letters/],
    ['an already imported certificate', () => ['import', join(work, 'good.pem')], 65, /already in the store as "acme"/],
    ['an unknown record', () => ['show', 'nobody'], 64, /no record "nobody"/],
    [
      'bad check-expiry thresholds',
      () => ['check-expiry', '--warn-days', '3', '--critical-days', '9'],
      3,
      /larger than --warn-days/,
    ],
    ['a non-numeric threshold', () => ['check-expiry', '--warn-days', 'soon'], 3, /whole number/],
  ];
  it.each(cases)('%s', async (_what, args, code, message) => {
    const before = treeDigest(store);
    const r = await runInProcess(args(), { env });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.startsWith('apns-cert: ')).toBe(true);
    expect(hasStackTrace(r.stderr)).toBe(false);
    expect(treeDigest(store)).toBe(before);
  });

  it('a wrong passphrase is exit 77 and changes nothing', async () => {
    const before = treeDigest(store);
    const r = await runInProcess(['csr', '--name', 'other', '--out', join(work, 'other.csr')], {
      env: { ...env, APNS_CERT_PASSPHRASE: 'wrong' },
    });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/wrong passphrase/);
    expect(treeDigest(store)).toBe(before);
  });

  it('the passphrase backend with no passphrase and no terminal is exit 69 with the way out', async () => {
    const r = await runInProcess(['csr', '--name', 'other', '--out', join(work, 'other2.csr')], {
      env: { ...env, APNS_CERT_PASSPHRASE: undefined },
    });
    expect(r.code).toBe(69);
    expect(r.stderr).toMatch(/APNS_CERT_PASSPHRASE/);
  });

  it('a CSR file is not overwritten without --force (exit 73, checked before any work)', async () => {
    const r = await runInProcess(['csr', '--name', 'acme', '--out', join(work, 'acme.csr')], { env });
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/already exists/);
  });

  it('a damaged index is reported and never overwritten; check-expiry says UNKNOWN (3)', async () => {
    const damagedStore = tempDir();
    const text = '{"schemaVersion":1,"records":{';
    writeFileSync(join(damagedStore, 'index.json'), text);
    const denv = { ...env, APNS_CERT_STORE: damagedStore };
    for (const args of [
      ['list'],
      ['csr', '--name', 'x', '--out', join(work, 'x.csr')],
      ['import', join(work, 'good.pem'), '--name', 'x'],
    ]) {
      const r = await runInProcess(args, { env: denv });
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toMatch(/read the store index .*index.json: not valid JSON/);
      expect(hasStackTrace(r.stderr)).toBe(false);
    }
    const r = await runInProcess(['check-expiry'], { env: denv });
    expect(r.code).toBe(3);
    expect(readFileSync(join(damagedStore, 'index.json'), 'utf8')).toBe(text);
  });

  it('a stack trace is shown only with APNS_CERT_DEBUG=1', async () => {
    // A directory where the index should be is not something the code expects.
    const odd = tempDir();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(odd, 'index.json'));
    const quiet = await runInProcess(['list'], { env: { ...env, APNS_CERT_STORE: odd } });
    expect(quiet.code).not.toBe(0);
    expect(hasStackTrace(quiet.stderr)).toBe(false);
    const debug = await runInProcess(['list'], { env: { ...env, APNS_CERT_STORE: odd, APNS_CERT_DEBUG: '1' } });
    expect(hasStackTrace(debug.stderr)).toBe(true);
  });
});
